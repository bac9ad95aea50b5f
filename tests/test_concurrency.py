"""Two completions racing on one audit, from two threads with two database sessions, lose nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
import time_machine
from sqlalchemy import event
from sqlalchemy.orm import Session

from audit_driver import ANSWERS, AuditDriver
from bpmn_audit.models import HumanTask, ProcessInstance, db
from bpmn_audit.services import identity, tasks
from bpmn_audit.services.errors import Conflict
from conftest import LAUNCH, both_backends


class FirstFlushBarrier:
    """Holds each thread's first flush until every thread has loaded the audit, so both save the
    same version: a real race, made certain instead of left to luck."""

    def __init__(self, parties: int):
        self.barrier = threading.Barrier(parties, timeout=20)
        self.waited: set[int] = set()

    def __call__(self, session, flush_context, instances):
        me = threading.get_ident()
        if me not in self.waited:
            self.waited.add(me)
            self.barrier.wait()


def race_calls(app, calls: list[Callable[[], object]]) -> list[object]:
    """Run each call in its own thread with its own app context and session, their first flushes held until
    all have loaded; each call's result, or the exception it raised (the test asserts on it)."""
    results: dict[int, object] = {}

    def work(index, call):
        with app.app_context():
            try:
                results[index] = call()
            except Exception as error:
                results[index] = error
            finally:
                db.session.remove()

    barrier = FirstFlushBarrier(len(calls))
    event.listen(Session, "before_flush", barrier)
    try:
        threads = [threading.Thread(target=work, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(Session, "before_flush", barrier)
    return [results.get(i) for i in range(len(calls))]


def _race(app, jobs):
    """Complete each (task id, username, form) in its own thread."""
    return race_calls(app, [lambda job=job: tasks.complete_task(job[0], identity.get_user(job[1]), job[2]).status
                            for job in jobs])


@both_backends
def test_two_agencies_submitting_at_once_both_land(app, people, deployed, caplog):
    caplog.set_level(logging.INFO, logger="bpmn_audit.services.tasks")
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people, {"agencies": "police, csc"})
        audit.through_notice(clock)
        reports = {t.agency: t.id for t in audit.open_tasks("submit_agency_report")}
        audit.audit_cases("police")
        audit.audit_cases("csc")
        version_before = db.session.get(ProcessInstance, audit.instance_id).version
        jobs = [(reports["police"], "lead.police", ANSWERS["submit_agency_report"]),
                (reports["csc"], "lead.csc", ANSWERS["submit_agency_report"])]
        db.session.remove()
        outcome = _race(app, jobs)

        assert outcome == ["completed", "completed"]
        assert sum("won the race; retrying" in r.getMessage() for r in caplog.records) == 1  # it really raced
        db.session.expire_all()
        instance = db.session.get(ProcessInstance, audit.instance_id)
        assert instance.version == version_before + 2  # one save each: the loser retried on fresh state
        assert {t.agency: t.status for t in db.session.query(HumanTask).filter(
            HumanTask.bpmn_id == "submit_agency_report")} == {"police": "completed", "csc": "completed"}
        # both reports are in the workflow itself: the audit moved on to sharing the reports
        assert [t.bpmn_id for t in audit.open_tasks()] == ["share_reports"]


@both_backends
def test_two_people_completing_the_same_task_one_wins_one_gets_a_conflict(app, people, deployed):
    identity.create_user("bu.two", "Second officer", ["business_unit"])
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        pack = audit.open_tasks("collate_audit_pack")[0]
        form = ANSWERS["collate_audit_pack"]
        jobs = [(pack.id, "bu.officer", form), (pack.id, "bu.two", form)]
        db.session.remove()
        outcome = _race(app, jobs)

        assert sorted(map(type, outcome), key=str) == sorted([str, Conflict], key=str)
        loser = next(result for result in outcome if isinstance(result, Conflict))
        assert "already completed" in str(loser)
        db.session.expire_all()
        assert sorted(t.bpmn_id for t in audit.open_tasks()) == ["confirm_audit_lead"] * 3  # completed exactly once
        with pytest.raises(Conflict):
            tasks.complete_task(pack.id, identity.get_user("bu.officer"), form)
