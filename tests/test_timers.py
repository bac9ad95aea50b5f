"""Reminders and escalations fire at their virtual time, and not a minute before."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit.engine.calendar import LONDON
from bpmn_audit.models import HistoryEvent, Notification, TimerJob, db
from bpmn_audit.services import identity, tasks
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH, both_backends


def _reminders_of_the_chair(instance_id: int) -> list[HistoryEvent]:
    return [event for event in _notifications(instance_id) if event.bpmn_id == "chair_reminded"]


def _notifications(instance_id: int) -> list[HistoryEvent]:
    return list(db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                              HistoryEvent.kind == "notification")))


@both_backends
def test_agency_reminder_and_escalation_fire_on_time_not_a_minute_before(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        deadlines = audit.data()["deadlines"]
        reminder_at = datetime.fromisoformat(deadlines["audit_reminder"])
        due_at = datetime.fromisoformat(deadlines["audit_due"])
        assert len(audit.open_tasks("submit_agency_report")) == 3

        # police submits early: its reminder and escalation are cancelled with the task
        police = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "police")
        from audit_driver import ANSWERS

        audit.audit_cases("police")
        tasks.complete_task(police.id, people["lead.police"], ANSWERS["submit_agency_report"])
        jobs = db.session.scalars(select(TimerJob).where(TimerJob.instance_id == audit.instance_id)).all()
        assert sorted((job.bpmn_id, job.agency or "") for job in jobs) == [
            ("agency_audit_deadline", ""),  # the reports are shared at the deadline if not all are in by then
            ("b_agency_overdue", "csc"), ("b_agency_overdue", "icb"),
            ("b_remind_agency", "csc"), ("b_remind_agency", "icb")]
        assert {job.due_at for job in jobs if job.bpmn_id == "b_remind_agency"} == {reminder_at}

        clock.move_to(reminder_at - timedelta(minutes=1))
        assert fire_due_timers("tests") == 0
        assert _notifications(audit.instance_id) == []

        clock.move_to(reminder_at + timedelta(minutes=1))
        assert fire_due_timers("tests") == 2
        reminded = _notifications(audit.instance_id)
        assert sorted(event.agency for event in reminded) == ["csc", "icb"]
        assert {event.detail["notify"] for event in reminded} == {"agency_lead"}
        assert fire_due_timers("tests") == 0  # fired once, not again

        # csc submits on time; icb does not
        csc = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "csc")
        audit.audit_cases("csc")
        tasks.complete_task(csc.id, people["lead.csc"], ANSWERS["submit_agency_report"])

        clock.move_to(due_at - timedelta(minutes=1))
        assert fire_due_timers("tests") == 0
        assert tasks.inbox(people["bu"]) == []

        clock.move_to(due_at + timedelta(minutes=1))
        assert fire_due_timers("tests") == 2  # icb's escalation, and the deadline for sharing the reports
        chase = tasks.inbox(people["bu"])
        assert sorted((t.bpmn_id, t.agency or "", t.lane) for t in chase) == [
            ("chase_agency_report", "icb", "Business Unit"), ("share_reports", "", "Business Unit")]
        # the escalation is the Business Unit's: the late agency's lead does not get it
        assert [t.bpmn_id for t in tasks.inbox(people["lead.icb"])] == ["submit_agency_report"]


def test_chair_reminder_fires_before_the_analysis_deadline_and_not_after_submission(app, people, deployed):
    identity.create_user("other.chair", "Another audit's chair", ["chair"])
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_event(clock)
        deadlines = audit.data()["deadlines"]
        reminder_at = datetime.fromisoformat(deadlines["analysis_reminder"])
        clock.move_to(reminder_at - timedelta(minutes=1))
        fire_due_timers("tests")
        assert [e.bpmn_id for e in _reminders_of_the_chair(audit.instance_id)] == []
        clock.move_to(reminder_at + timedelta(minutes=1))
        fire_due_timers("tests")
        [reminded] = _reminders_of_the_chair(audit.instance_id)
        assert (reminded.bpmn_id, reminded.detail["told"]) == ("chair_reminded", ["chair"])  # the audit's chair only
        assert [n.recipient for n in db.session.scalars(select(Notification).where(
            Notification.text.like("Reminder sent to the chair%")))] == ["chair"]
        audit.complete("write_analysis_report")
        clock.move_to(datetime.fromisoformat(deadlines["analysis_due"]) + timedelta(days=1))
        assert fire_due_timers("tests") == 0  # submitted in time: no escalation
        assert [t.bpmn_id for t in tasks.inbox(people["bu"])] == ["qa_analysis_report"]


def test_a_late_report_still_leaves_the_practitioners_five_working_days_to_read(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        for agency in ("police", "csc"):  # on time; icb is two days late
            audit.audit_cases(agency)
            report = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == agency)
            tasks.complete_task(report.id, people[f"lead.{agency}"], {})
        due_at = datetime.fromisoformat(audit.data()["deadlines"]["audit_due"])  # Monday 22 Feb 2027, 17:00
        clock.move_to(due_at + timedelta(minutes=1))
        fire_due_timers("tests")
        clock.move_to(due_at + timedelta(hours=17))  # shared the next morning, without waiting for icb
        audit.complete("share_reports")
        reading = audit.open_tasks("read_reports")
        assert {task.due_at for task in reading} == {datetime(2027, 3, 2, 17, 0, tzinfo=LONDON)}  # five working days

        clock.move_to(due_at + timedelta(days=2))
        audit.audit_cases("icb")
        late = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "icb")
        tasks.complete_task(late.id, people["lead.icb"], {})
        [announced] = [e for e in _notifications(audit.instance_id) if e.bpmn_id == "late_report_in"]
        assert (announced.agency, announced.detail["told"]) == ("icb", ["bu.officer"])  # to share it too
        assert {task.due_at for task in audit.open_tasks("read_reports")} == {datetime(2027, 3, 2, 17, 0,
                                                                                        tzinfo=LONDON)}

