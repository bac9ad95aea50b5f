"""Immediate concerns at any time: a Business Unit task due that working day, escalation when nobody has
claimed it within two working hours, the raising agency told, the outcome recorded, QA held until closed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit.engine.calendar import LONDON
from bpmn_audit.models import HistoryEvent, HumanTask, Notification, ProcessInstance, db
from bpmn_audit.models.task import OPEN
from bpmn_audit.services import concerns, identity, notifications, runtime, tasks
from bpmn_audit.services.errors import Conflict, FormInvalid, NotFound
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH, both_backends
from test_qa_loop import QA

WEEK_3 = datetime(2027, 1, 20, 10, 0, tzinfo=LONDON)  # a Wednesday in the agency audit phase


def told(username: str, kind: str = "process") -> list[str]:
    """What the process told the person (``kind="concern"``: the Business Unit's word the moment one is raised)."""
    return [n.text for n in db.session.scalars(select(Notification).where(
        Notification.recipient == username, Notification.kind == kind).order_by(Notification.id))]


def response_task(concern: concerns.ConcernView) -> HumanTask:
    process_id = db.session.scalar(select(concerns.Concern.process_id).where(concerns.Concern.id == concern.id))
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == process_id,
                                                     HumanTask.bpmn_id == "respond_to_concern"))


@pytest.fixture
def second_officer(people):
    return identity.create_user("bu.second", "Second Business Unit officer", ["business_unit"])


@both_backends
def test_a_concern_in_week_3_is_due_that_day_escalated_if_unclaimed_and_recorded_when_closed(
        app, people, deployed, second_officer):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        clock.move_to(WEEK_3)
        concern = concerns.raise_concern(audit.instance_id, people["lead.police"],
                                         "Bruising seen on a home visit last week was not followed up")
        assert concern.open and concern.raised_agency == "police"

        task = response_task(concern)
        assert task.due_at == datetime(2027, 1, 20, 17, 0, tzinfo=LONDON)
        assert task.candidate_groups == ["business_unit"] and task.priority == 100
        assert {t.bpmn_id for t in tasks.inbox(people["bu"])} >= {"respond_to_concern"}
        assert told("lead.police") == ["Raising agency told: Immediate concern: a case (Neglect in under-fives)"]
        assert told("lead.csc") == [] and told("bu.second") == []
        assert told("bu.second", "concern") == ["Immediate concern raised in Neglect in under-fives: respond today"]
        raised = db.session.scalar(select(HistoryEvent).where(HistoryEvent.instance_id == audit.instance_id,
                                                             HistoryEvent.kind == "concern_raised"))
        assert raised.actor == "lead.police" and raised.detail["concern_id"] == concern.id

        clock.move_to(WEEK_3 + timedelta(hours=2, minutes=-1))
        fire_due_timers("w")
        assert told("bu.officer") == []
        clock.move_to(WEEK_3 + timedelta(hours=2, minutes=1))
        fire_due_timers("w")
        assert len(told("bu.officer")) == len(told("bu.second")) == 1
        assert told("bu.second")[0].startswith("Every Business Unit member told")
        assert "Bruising" not in told("bu.second")[0]  # the concern's text stays in the register of concerns

        tasks.complete_task(task.id, second_officer, {"outcome": "referral_made", "referral_reference": "MASH-991",
                                                      "action_taken": "Referred to the MASH with the police lead"})
        [closed] = concerns.list_concerns(audit.instance_id, people["bu"])
        assert not closed.open
        assert closed.outcome["outcome"] == "referral_made" and closed.outcome["referral_reference"] == "MASH-991"
        assert closed.outcome["completed_by"] == "bu.second"
        process = db.session.get(ProcessInstance, db.session.scalar(
            select(concerns.Concern.process_id).where(concerns.Concern.id == concern.id)))
        assert process.status == "completed"


def test_a_claimed_concern_is_not_escalated(app, people, deployed, second_officer):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        clock.move_to(WEEK_3)
        concern = concerns.raise_concern(audit.instance_id, people["bu"], "Sibling disclosed a new injury")
        task = response_task(concern)
        tasks.claim_task(task.id, second_officer)
        assert [t.bpmn_id for t in tasks.inbox(people["bu"]) if t.bpmn_id == "respond_to_concern"] == []
        with pytest.raises(Conflict, match="taken by bu.second"):
            tasks.claim_task(task.id, people["bu"])
        clock.move_to(WEEK_3 + timedelta(hours=3))
        fire_due_timers("w")
        assert told("bu.officer") == [] and told("bu.second") == []
        tasks.release_task(task.id, second_officer)
        assert "respond_to_concern" in [t.bpmn_id for t in tasks.inbox(people["bu"])]


def test_a_concern_raised_after_five_is_due_by_the_end_of_the_next_working_day(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        clock.move_to(datetime(2027, 1, 22, 17, 30, tzinfo=LONDON))  # a Friday evening
        concern = concerns.raise_concern(audit.instance_id, people["lead.icb"], "Missed health appointments")
        assert response_task(concern).due_at == datetime(2027, 1, 25, 17, 0, tzinfo=LONDON)


def test_who_may_raise_a_concern_and_when(app, people, deployed):
    outsider = identity.create_user("lead.fire", "Fire lead", ["agency_lead"], agency="fire")
    with time_machine.travel(LAUNCH, tick=False) as clock:
        being_set_up = runtime.start_audit(people["bu"])
        with pytest.raises(Conflict, match="once nomination starts"):
            concerns.raise_concern(being_set_up.id, people["bu"], "Too early")
        audit = AuditDriver(people, {"agencies": "police, csc"})
        audit.through_notice(clock)
        for user in (outsider, people["qiip"], people["lead.icb"]):
            with pytest.raises(NotFound):
                concerns.raise_concern(audit.instance_id, user, "Not mine to raise")
        with pytest.raises(FormInvalid, match="Describe the concern"):
            concerns.raise_concern(audit.instance_id, people["practitioner.csc"], "   ")
        assert concerns.raise_concern(audit.instance_id, people["practitioner.csc"], "Worry").raised_agency == "csc"
        with pytest.raises(NotFound):
            concerns.raise_concern(audit.instance_id, people["bu"], "Unknown case", case_id=999)


def test_reminders_tell_the_late_agencys_leads_only(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        police = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "police")
        from audit_driver import ANSWERS

        audit.audit_cases("police")
        tasks.complete_task(police.id, people["lead.police"], ANSWERS["submit_agency_report"])
        audit.pass_deadline(clock, "audit_reminder")
    assert told("lead.police") == []
    assert told("lead.csc") == told("lead.icb") == ["Reminder sent to the audit lead: Neglect in under-fives"]
    reminded = db.session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "notification")).all()
    assert sorted(user for event in reminded for user in event.detail["told"]) == ["lead.csc", "lead.icb"]
    notes = notifications.inbox(people["lead.csc"])
    assert notifications.mark_read(people["lead.csc"], [n.id for n in notes]) == 1
    assert notifications.inbox(people["lead.csc"], unread_only=True) == []
    assert notifications.mark_read(people["lead.icb"], [n.id for n in notes]) == 0  # not theirs


def test_qa_cannot_sign_off_while_a_concern_is_open(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_analysis(clock)
        concern = concerns.raise_concern(audit.instance_id, people["bu"], "Late worry")
        [qa] = audit.open_tasks("qa_analysis_report")
        with pytest.raises(FormInvalid, match="Close the open immediate concern"):
            tasks.complete_task(qa.id, people["bu"], {**QA, "qa_decision": "approve"})
        db.session.expire_all()
        assert db.session.get(HumanTask, qa.id).status == OPEN
        tasks.complete_task(response_task(concern).id, people["bu"],
                            {"outcome": "already_known", "action_taken": "Known to CSC; plan in place"})
        tasks.complete_task(qa.id, people["bu"], {**QA, "qa_decision": "approve"})
        assert [t.bpmn_id for t in audit.open_tasks()] == ["book_qiip_meeting"]
