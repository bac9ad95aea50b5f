"""An admin's operation racing a completion, from two threads with two sessions: one wins, the other gets a
clear conflict, and the audit stays consistent (its status, its task and its history agree)."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from audit_driver import ANSWERS, AuditDriver
from bpmn_audit.models import HistoryEvent, HumanTask, ProcessInstance, db
from bpmn_audit.models.task import COMPLETED, OPEN
from bpmn_audit.services import identity, operations, tasks
from bpmn_audit.services.errors import Conflict
from conftest import LAUNCH, both_backends
from test_concurrency import race_calls


@both_backends
def test_a_suspend_racing_a_completion_one_wins_the_other_is_told_and_the_audit_agrees(app, people, deployed):
    identity.create_user("admin", "Admin", ["admin"])
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        [task] = audit.open_tasks("collate_audit_pack")
        outcome = race_calls(app, [
            lambda: tasks.complete_task(task.id, identity.get_user("bu.officer"), ANSWERS["collate_audit_pack"]).status,
            lambda: operations.suspend(audit.instance_id, identity.get_user("admin"),
                                       "Checking the audit pack").status])
        results = dict(zip(("complete", "suspend"), outcome, strict=True))

    db.session.expire_all()
    instance = db.session.get(ProcessInstance, audit.instance_id)
    row = db.session.get(HumanTask, task.id)
    suspended = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == audit.instance_id,
                                                              HistoryEvent.kind == "suspended")).all()
    if results["suspend"] == "suspended":  # the suspend won: the completion was refused, nothing of it kept
        assert isinstance(results["complete"], Conflict) and "suspended" in str(results["complete"])
        assert (instance.status, row.status, len(suspended)) == ("suspended", OPEN, 1)
    else:  # the completion won: the suspend was told the audit changed, and did nothing
        assert results["complete"] == COMPLETED, results
        assert isinstance(results["suspend"], Conflict) and "changed meanwhile" in str(results["suspend"])
        assert (instance.status, row.status, suspended) == ("running", COMPLETED, [])
