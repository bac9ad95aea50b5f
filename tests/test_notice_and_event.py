"""The notice work's reminders, and the practitioner event: booked at set-up, waited for, movable until it
is reached, and the deadlines after it following from it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from audit_driver import SET_UP, AuditDriver
from bpmn_audit.engine.calendar import LONDON, working_days_after
from bpmn_audit.models import HistoryEvent, TimerJob, db
from bpmn_audit.services import notifications, runtime, tasks
from bpmn_audit.services.errors import FormInvalid
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH, both_backends


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _london(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def _reminders(instance_id: int) -> list[tuple[str, str | None, str]]:
    events = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                           HistoryEvent.kind == "notification"))
    return sorted((e.bpmn_id, e.agency, e.detail["notify"]) for e in events)


def _timers(instance_id: int) -> list[tuple[str, str | None]]:
    return sorted((job.bpmn_id, job.agency or "") for job in db.session.scalars(
        select(TimerJob).where(TimerJob.instance_id == instance_id)))


# reminders in the notice period


@both_backends
def test_agencies_that_have_not_confirmed_their_lead_are_reminded(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        deadlines = audit.data()["deadlines"]
        reminder_at = _at(deadlines["notice_reminder"])
        assert reminder_at == _london(2027, 1, 13, 9)  # 09:00, three working days before Mon 18 Jan
        assert _timers(audit.instance_id) == [("b_remind_nominator", "")]  # the agencies are not known yet
        audit.complete("nominate_cases")  # the agencies are identified with the cases
        audit.complete("collate_audit_pack")
        for lead in audit.open_tasks("confirm_audit_lead"):
            if lead.agency != "police":
                tasks.complete_task(lead.id, people[f"lead.{lead.agency}"], {"lead_name": "L", "lead_email": "l@x"})
        # a confirmation cancels its agency's reminder, and the nomination its own; the notice deadline
        # does not wait for police's lead
        assert _timers(audit.instance_id) == [("b_remind_lead", "police"), ("notice_period_ends", "")]

        clock.move_to(reminder_at - timedelta(minutes=1))
        assert fire_due_timers("tests") == 0
        clock.move_to(reminder_at + timedelta(minutes=1))
        assert fire_due_timers("tests") == 1
        assert _reminders(audit.instance_id) == [("lead_reminded", "police", "agency_lead")]
        told = {user: [n.text for n in notifications.inbox(people[user])] for user in ("lead.police", "lead.csc")}
        assert told == {"lead.police": ["Reminder to confirm the audit lead: Neglect in under-fives"], "lead.csc": []}
        # the task stays open, and the notice work goes on when it is done
        audit.complete("confirm_audit_lead")
        audit.complete("brief_audit_leads")
        assert _timers(audit.instance_id) == [("notice_period_ends", "")]


def test_a_nomination_not_made_by_the_reminder_is_reminded(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        clock.move_to(_at(audit.data()["deadlines"]["notice_reminder"]) + timedelta(minutes=1))
        assert fire_due_timers("tests") == 1
        assert _reminders(audit.instance_id) == [("nominator_reminded", None, "nominating_partner")]
        assert [n.text for n in notifications.inbox(people["nominator"])] == [
            "Reminder to nominate the cases: Neglect in under-fives"]
        audit.complete("nominate_cases")  # then the pack and each agency's lead confirmation, side by side
        assert {t.bpmn_id for t in audit.open_tasks()} == {"collate_audit_pack", "confirm_audit_lead"}


def test_no_reminder_when_the_notice_work_is_done_in_time(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
    assert _reminders(audit.instance_id) == []


# the practitioner event


def _through_reading(audit: AuditDriver, clock) -> None:
    audit.through_reading(clock)
    assert [t.bpmn_id for t in audit.open_tasks()] == []  # waiting for the event's day


def test_the_event_is_booked_at_set_up_and_the_record_tasks_open_that_day(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people, {"event_date": "2027-03-03"})  # a Wednesday, after the reading week
        event_at = _at(audit.data()["event_at"])
        assert event_at == _london(2027, 3, 3, 9, 30)
        _through_reading(audit, clock)
        assert [(job.bpmn_id, job.due_at) for job in db.session.scalars(select(TimerJob).where(
            TimerJob.instance_id == audit.instance_id))] == [("practitioner_event_day", event_at)]

        clock.move_to(event_at - timedelta(minutes=1))
        assert fire_due_timers("tests") == 0
        clock.move_to(event_at + timedelta(minutes=1))
        assert fire_due_timers("tests") == 1
        [part_1] = audit.open_tasks()
        assert (part_1.bpmn_id, part_1.due_at) == ("record_event_part_1", _london(2027, 3, 3, 17))
        # the deadlines after the event follow from it: two weeks for the report, one for QA and sign-off
        deadlines = audit.data()["deadlines"]
        assert _at(deadlines["analysis_due"]) == _london(2027, 3, 17, 17)
        assert _at(deadlines["analysis_reminder"]) == _london(2027, 3, 12, 9)  # three working days before
        assert _at(deadlines["signoff_due"]) == _london(2027, 3, 24, 17)
        audit.complete("record_event_part_1")
        audit.complete("record_event_part_2")
        [write] = audit.open_tasks()
        assert (write.bpmn_id, write.due_at) == ("write_analysis_report", _london(2027, 3, 17, 17))
        assert {job.bpmn_id: job.due_at for job in db.session.scalars(select(TimerJob).where(
            TimerJob.instance_id == audit.instance_id))} == {
            "b_remind_chair": _london(2027, 3, 12, 9), "b_analysis_overdue": _london(2027, 3, 17, 17)}


def test_with_no_date_booked_the_event_is_on_the_last_day_of_the_review_phase(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        data = AuditDriver(people).data()
    planned = data["deadlines"]
    assert _at(data["event_at"]) == _london(2027, 3, 8, 9, 30) and _at(planned["event_due"]) == _london(2027, 3, 8, 17)
    with time_machine.travel(LAUNCH, tick=False):  # in summer time, 09:30 London is 08:30 UTC
        summer = AuditDriver(people, {"launch_date": "2027-05-10"}).data()
    assert summer["event_at"].endswith("T08:30:00+00:00")
    assert summer["event_at"][:10] == summer["deadlines"]["event_due"][:10]


def test_an_event_on_a_day_that_is_not_a_working_day_is_refused(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        runtime.start_audit(people["bu"])
        [set_up] = tasks.inbox(people["bu"])
        for day in ("2027-03-06", "2027-03-26"):  # a Saturday; Good Friday
            with pytest.raises(FormInvalid) as caught:
                tasks.complete_task(set_up.id, people["bu"], {**SET_UP, "event_date": day})
            assert f"the practitioner event date {day} is not a working day in England" in caught.value.errors[
                "_process"]


@both_backends
def test_moving_the_event_moves_the_wait_and_the_deadlines_after_it(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        booked = _at(audit.data()["event_at"])
        _through_reading(audit, clock)
        moved = _london(2027, 3, 10, 9, 30)  # the chair is ill on Mon 8 Mar: two days later
        runtime.set_variables(audit.instance_id, people["bu"], {"event_at": moved.isoformat()},
                              "The chair is ill that day")
        assert _timers(audit.instance_id) == [("practitioner_event_day", "")]
        assert db.session.scalar(select(TimerJob.due_at).where(TimerJob.instance_id == audit.instance_id)) == moved

        clock.move_to(booked + timedelta(minutes=1))
        assert fire_due_timers("tests") == 0
        assert audit.open_tasks() == []  # the old date no longer opens the record tasks
        clock.move_to(moved + timedelta(minutes=1))
        assert fire_due_timers("tests") == 1
        [part_1] = audit.open_tasks()
        assert (part_1.bpmn_id, part_1.due_at) == ("record_event_part_1", _london(2027, 3, 10, 17))
        deadlines = audit.data()["deadlines"]
        assert deadlines["analysis_due"] == working_days_after(moved, 10)
        assert _at(deadlines["analysis_due"]) == _london(2027, 3, 24, 17)  # two days later than planned


@pytest.mark.parametrize("when", ["during the agencies' audit", "when the chair has read and the practitioners not"])
def test_an_event_moved_before_its_wait_is_reached_is_waited_for_on_its_new_day(app, people, deployed, when):
    moved = _london(2027, 3, 4, 9, 30)
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        steps = ["submit_agency_report", "share_reports", "chair_reads_reports", "read_reports"]
        if when != "during the agencies' audit":
            for bpmn_id in steps[:3]:
                audit.complete(bpmn_id)
            steps = steps[3:]
        runtime.set_variables(audit.instance_id, people["bu"], {"event_at": moved.isoformat()}, "Room booked")
        for bpmn_id in steps:
            audit.complete(bpmn_id)
        assert db.session.scalar(select(TimerJob.due_at).where(TimerJob.instance_id == audit.instance_id)) == moved
