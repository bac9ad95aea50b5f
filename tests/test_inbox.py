"""The inbox is one indexed query over the tasks' candidate rows, and gives exactly what the per-task rule
(``identity.can_work_on``) allows, page by page."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit.models import HumanTask, db
from bpmn_audit.models.task import OPEN
from bpmn_audit.services import concerns, identity, tasks
from conftest import LAUNCH, both_backends


def _by_rule(user) -> list[int]:
    """What the inbox must hold, by the one-task rule applied to every open task."""
    rows = db.session.scalars(select(HumanTask).where(HumanTask.status == OPEN).order_by(
        HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.priority.is_(None), HumanTask.priority.desc(),
        HumanTask.id))
    return [row.id for row in rows if identity.can_work_on(user, row)]


@both_backends
def test_the_inbox_query_gives_what_the_rule_allows_for_everyone(app, people, deployed):
    people["lead.fire"] = identity.create_user("lead.fire", "Fire lead", ["agency_lead"], agency="fire")
    people["nobody"] = identity.create_user("nobody", "No groups", [])
    people["two hats"] = identity.create_user("two.hats", "BU and chair", ["business_unit", "chair"])
    people["gone"] = identity.create_user("gone", "Left", ["business_unit"])
    people["gone"].active = False
    with time_machine.travel(LAUNCH, tick=False) as clock:
        first = AuditDriver(people)
        AuditDriver(people, {"agencies": "police"})
        first.through_notice(clock)
        first.complete("submit_agency_report")
        first.complete("share_reports")  # the reading tasks are assigned to each nominated practitioner
        concern = concerns.raise_concern(first.instance_id, people["lead.icb"], "Unexplained bruising")
        respond = db.session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "respond_to_concern"))
        tasks.claim_task(respond.id, people["two hats"])
    assert concern.open
    for name, user in people.items():
        assert [task.id for task in tasks.inbox(user)] == _by_rule(user), name
        assert tasks.count_inbox(user) == len(_by_rule(user)), name
    assert tasks.inbox(people["gone"]) == [] and tasks.inbox(people["nobody"]) == []
    assert [t.bpmn_id for t in tasks.inbox(people["two hats"])][:1] == ["respond_to_concern"]  # claimed, due today


def test_the_inbox_comes_a_page_at_a_time(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        for agencies in ("police", "csc", "icb"):
            audit = AuditDriver(people, {"agencies": agencies})
            audit.complete("nominate_cases")
    everything = [task.id for task in tasks.inbox(people["bu"])]
    assert len(everything) == tasks.count_inbox(people["bu"]) == 3  # each audit's pack to collate
    assert [task.id for task in tasks.inbox(people["bu"], limit=2)] == everything[:2]
    assert [task.id for task in tasks.inbox(people["bu"], limit=2, offset=2)] == everything[2:]
    assert tasks.inbox(people["bu"], limit=2, offset=10) == []
