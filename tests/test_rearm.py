"""Changing process data re-arms the timers that read it: a booked date or a deadline moves, and the
old time no longer fires (SpiffWorkflow evaluates a timer once, so the adapter makes it read again)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit.models import HistoryEvent, HumanTask, TimerJob, db
from bpmn_audit.models.task import OPEN
from bpmn_audit.services import deployments, runtime
from bpmn_audit.services.errors import Forbidden, FormInvalid, ProcessFailed
from bpmn_audit.services.timers import fire_due_timers
from conftest import DATA, LAUNCH, both_backends

BOOKED = datetime.fromisoformat("2027-02-01T10:00:00+00:00")
MOVED = datetime.fromisoformat("2027-03-01T10:00:00+00:00")


def open_tasks(instance_id: int) -> list[str]:
    db.session.expire_all()
    return [task.bpmn_id for task in db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == OPEN))]


def timer_jobs(instance_id: int) -> list[TimerJob]:
    return list(db.session.scalars(select(TimerJob).where(TimerJob.instance_id == instance_id)
                                   .order_by(TimerJob.bpmn_id, TimerJob.agency)))


@both_backends
def test_moving_a_booked_date_moves_the_wait_and_the_old_date_no_longer_fires(app, people):
    deployments.deploy([("timer_on_data.bpmn", (DATA / "timer_on_data.bpmn").read_bytes())])
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = runtime.start_audit(people["bu"], "timer_on_data", {"event_at": BOOKED.isoformat()}).id
        assert [job.due_at for job in timer_jobs(audit)] == [BOOKED]

        runtime.set_variables(audit, people["bu"], {"event_at": MOVED.isoformat()}, "The chair is ill that day")
        assert [job.due_at for job in timer_jobs(audit)] == [MOVED]
        [change] = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == audit,
                                                                 HistoryEvent.kind == "variables_changed"))
        assert change.actor == "bu.officer" and change.detail == {"variables": ["event_at"],
                                                                   "reason": "The chair is ill that day"}

        clock.move_to(BOOKED + timedelta(minutes=1))
        assert fire_due_timers("w") == 0
        assert open_tasks(audit) == []
        clock.move_to(MOVED + timedelta(minutes=1))
        assert fire_due_timers("w") == 1
        assert open_tasks(audit) == ["record"]


def test_a_date_moved_into_the_past_fires_at_once(app, people):
    deployments.deploy([("timer_on_data.bpmn", (DATA / "timer_on_data.bpmn").read_bytes())])
    with time_machine.travel(LAUNCH, tick=False):
        audit = runtime.start_audit(people["bu"], "timer_on_data", {"event_at": BOOKED.isoformat()}).id
        runtime.set_variables(audit, people["bu"], {"event_at": (LAUNCH - timedelta(hours=1)).isoformat()},
                              "Held early")
        assert open_tasks(audit) == ["record"] and timer_jobs(audit) == []


def test_changing_data_is_checked_and_only_for_the_business_unit(app, people):
    deployments.deploy([("timer_on_data.bpmn", (DATA / "timer_on_data.bpmn").read_bytes())])
    with time_machine.travel(LAUNCH, tick=False):
        audit = runtime.start_audit(people["bu"], "timer_on_data", {"event_at": BOOKED.isoformat()}).id
        with pytest.raises(Forbidden):
            runtime.set_variables(audit, people["lead.police"], {"event_at": MOVED.isoformat()}, "mine")
        with pytest.raises(FormInvalid):
            runtime.set_variables(audit, people["bu"], {"event_at": MOVED.isoformat()}, "  ")
        with pytest.raises(ProcessFailed, match="the timer of 'Wait for the event' \\(wait_for_event\\) gave 'soon'"):
            runtime.set_variables(audit, people["bu"], {"event_at": "soon"}, "typo")
        with pytest.raises(ProcessFailed, match="the variable 'event_at' holds a set"):
            runtime.set_variables(audit, people["bu"], {"event_at": {1}}, "typo")
        assert [job.due_at for job in timer_jobs(audit)] == [BOOKED]  # nothing changed


def test_extending_one_agencys_deadline_moves_only_its_reminder_and_escalation(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        deadlines = audit.data()["deadlines"]
        later = {key: (datetime.fromisoformat(value) + timedelta(days=7)).isoformat()
                 for key, value in deadlines.items()}
        runtime.set_variables(audit.instance_id, people["bu"], {"deadlines": later}, "ICB lead on leave",
                              agency="icb")
        due = {(job.bpmn_id, job.agency): job.due_at for job in timer_jobs(audit.instance_id)}
        for kind, key in (("b_remind_agency", "audit_reminder"), ("b_agency_overdue", "audit_due")):
            assert due[(kind, "icb")] == datetime.fromisoformat(later[key])
            assert due[(kind, "police")] == due[(kind, "csc")] == datetime.fromisoformat(deadlines[key])

        clock.move_to(datetime.fromisoformat(deadlines["audit_due"]) + timedelta(minutes=1))
        fire_due_timers("w")
        chased = [t.agency for t in db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == audit.instance_id, HumanTask.bpmn_id == "chase_agency_report"))]
        assert sorted(chased) == ["csc", "police"]  # icb's deadline is a week later
