"""Failures, Camunda style: a user's failed step is rolled back and explained; a failed timer is retried
with backoff, then becomes an incident; one broken audit never holds up the others."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from bpmn_audit.models import HistoryEvent, HumanTask, Incident, ProcessInstance, TimerJob, db
from bpmn_audit.models.task import OPEN
from bpmn_audit.services import deployments, runtime, tasks
from bpmn_audit.services.errors import FormInvalid, ProcessFailed
from bpmn_audit.services.persistence import engine_limits, load_audit
from bpmn_audit.services.timers import fire_due_timers, retry_instance
from conftest import DATA, both_backends

BEFORE = datetime.fromisoformat("2027-01-11T08:00:00+00:00")
DUE = datetime.fromisoformat("2027-01-11T09:00:00+00:00")


def deploy(*names: str) -> None:
    deployments.deploy([(f"{name}.bpmn", (DATA / f"{name}.bpmn").read_bytes()) for name in names])


def history(instance_id: int, kind: str) -> list[HistoryEvent]:
    return list(db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                              HistoryEvent.kind == kind)))


def open_incidents(instance_id: int) -> list[Incident]:
    return list(db.session.scalars(select(Incident).where(Incident.instance_id == instance_id,
                                                          Incident.resolved_at.is_(None))))


def report_tasks(instance_id: int) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.bpmn_id == "report", HumanTask.status == OPEN)))


@both_backends
def test_a_poisoned_audit_backs_off_then_becomes_an_incident_and_never_holds_up_a_healthy_one(app, people):
    deploy("timer_then_script")
    with time_machine.travel(BEFORE, tick=False) as clock:
        poisoned = runtime.start_audit(people["bu"], "timer_then_script", {"poison": True}).id
        healthy = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        clock.move_to(DUE + timedelta(minutes=1))

        assert fire_due_timers("w1") == 1  # the healthy one's timer; the poisoned one failed its first attempt
        assert len(report_tasks(healthy)) == 5
        poisoned_row = db.session.get(ProcessInstance, poisoned)
        assert poisoned_row.failed_attempts == 1 and poisoned_row.lock_owner is None
        assert "the variable 'pairs'" in poisoned_row.last_error and "'Prepare the agencies' (prepare)" \
            in poisoned_row.last_error
        [attempt] = history(poisoned, "timer_attempt_failed")
        assert attempt.bpmn_id == "prepare" and attempt.detail["attempt"] == 1
        assert open_incidents(poisoned) == []

        assert fire_due_timers("w1") == 0  # backing off: not tried again yet
        assert db.session.get(ProcessInstance, poisoned).failed_attempts == 1
        clock.shift(timedelta(seconds=61))
        fire_due_timers("w1")
        assert db.session.get(ProcessInstance, poisoned).failed_attempts == 2
        clock.shift(timedelta(seconds=61))
        fire_due_timers("w1")  # the second backoff is twice as long
        assert db.session.get(ProcessInstance, poisoned).failed_attempts == 2
        clock.shift(timedelta(seconds=60))
        fire_due_timers("w1")

        [incident] = open_incidents(poisoned)
        assert (incident.bpmn_id, incident.element_name, incident.attempts) == ("prepare", "Prepare the agencies", 3)
        assert "a zip" in incident.message and "Traceback" in incident.stack
        assert len(history(poisoned, "incident_opened")) == 1
        clock.shift(timedelta(hours=1))
        assert fire_due_timers("w1") == 0  # an incident waits for someone to retry it
        assert db.session.get(ProcessInstance, poisoned).failed_attempts == 3
        # the poisoned audit's state is as it was before the timer: still waiting on it
        assert [job.bpmn_id for job in db.session.scalars(select(TimerJob).where(TimerJob.instance_id == poisoned))] \
            == ["wait"]


def test_retry_runs_the_work_again_once_the_cause_is_fixed(app, people):
    deploy("timer_then_script")
    app.config["MAX_INSTANCES"] = 3  # the audit needs five agency tasks
    with time_machine.travel(BEFORE, tick=False) as clock:
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        clock.move_to(DUE + timedelta(minutes=1))
        for _ in range(3):
            fire_due_timers("w1")
            clock.shift(timedelta(minutes=5))
        [incident] = open_incidents(audit)
        assert "at most 3 instances" in incident.message and incident.bpmn_id == "report"

        failed_again = retry_instance(audit, "admin")  # nothing fixed yet
        assert failed_again.resolved == 1 and failed_again.incident is not None
        assert failed_again.incident.id != incident.id

        app.config["MAX_INSTANCES"] = 10
        result = retry_instance(audit, "admin")
        assert (result.resolved, result.fired, result.incident) == (1, 1, None)
        assert len(report_tasks(audit)) == 5
        assert [event.actor for event in history(audit, "incident_retried")] == ["admin", "admin"]


def test_a_completion_whose_next_script_fails_leaves_the_task_open_and_says_why(app, people):
    deploy("task_then_script")
    instance = runtime.start_audit(people["bu"], "task_then_script")
    [task] = tasks.inbox(people["bu"])
    version = instance.version
    with pytest.raises(FormInvalid) as refused:
        tasks.complete_task(task.id, people["bu"], {"divisor": "0"})
    message = refused.value.errors["_process"]
    assert "the script of 'Divide' (divide) failed on line 1: it divides by zero" in message
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).status == OPEN
    assert db.session.get(ProcessInstance, instance.id).version == version
    [failure] = history(instance.id, "task_failed")
    assert failure.actor == "bu.officer" and "divides by zero" in failure.detail["message"]

    tasks.complete_task(task.id, people["bu"], {"divisor": "3"})  # the same task, with a value that works
    assert [t.bpmn_id for t in tasks.inbox(people["bu"])] == ["review"]
    assert load_audit(db.session.get(ProcessInstance, instance.id), engine_limits()).data["share"] == 4


def test_a_start_that_fails_stores_nothing_and_names_the_element(app, people):
    deploy("hostile_while_true")
    with pytest.raises(ProcessFailed) as failed:
        runtime.start_audit(people["bu"], "hostile_while_true")
    assert failed.value.element_id == "hostile"
    assert "the script of 'Hostile script' (hostile)" in str(failed.value)
    assert runtime.list_instances() == []


@both_backends
def test_two_workers_sweeping_the_same_due_audits_fire_each_timer_once(app, people):
    deploy("timer_then_script")
    with time_machine.travel(BEFORE, tick=False) as clock:
        audits = [runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id for _ in range(6)]
        clock.move_to(DUE + timedelta(minutes=1))
        barrier = threading.Barrier(2, timeout=20)
        fired: dict[str, object] = {}

        def sweep(worker: str) -> None:
            with app.app_context():
                try:
                    barrier.wait()
                    fired[worker] = fire_due_timers(worker)
                except Exception as error:  # asserted below: no worker may fail
                    fired[worker] = error
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=sweep, args=(name,)) for name in ("w1", "w2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert all(isinstance(count, int) for count in fired.values()), fired
    assert sum(fired.values()) == 6
    db.session.expire_all()
    for audit in audits:
        assert len(history(audit, "timer_fired")) == 1
        assert len(report_tasks(audit)) == 5
        row = db.session.get(ProcessInstance, audit)
        assert row.lock_owner is None and row.failed_attempts == 0
        assert [task.bpmn_id for task in load_audit(row, engine_limits()).user_tasks()] == ["report"] * 5
