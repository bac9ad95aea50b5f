"""A fleet of ``bpmn-audit worker`` processes on one PostgreSQL database (issue 8): four workers sweeping
200 audits with due timers fire each timer once, send each email once and leave every audit loadable with
its projections in step; and a worker killed with SIGKILL while it holds audits' locks loses them only
until the locks expire, when another worker fires those timers, emailing nobody twice.

The audits are started in the test process on a clock travelled an hour back, with their timer due a
minute after that moment, so on the workers' real clock every timer is due; they are committed at once with
the test holding their locks, which it lets go of once every worker is up. The workers are real
subprocesses on the test's PostgreSQL schema; emails go to a real SMTP server (aiosmtpd) in the test
process, and each worker has its own sender address, so the server can tell which worker sent what (nothing
in the database records which worker fired a timer). Needs BPMN_AUDIT_TEST_POSTGRES_URL, as every
PostgreSQL test does; skipped without it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from bpmn_audit.models import HistoryEvent, HumanTask, Incident, OutboxMessage, ProcessInstance, TimerJob, db
from bpmn_audit.models.instance import RUNNING
from bpmn_audit.models.outbox import SENT
from bpmn_audit.models.task import OPEN
from bpmn_audit.services import deployments, runtime
from bpmn_audit.services.persistence import engine_limits, load_audit
from conftest import DATA

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"], indirect=True)]

PROCESS = "fleet_timer_notify"
BPMN_AUDIT = str(Path(sys.executable).parent / "bpmn-audit")
HANG_GUARD = 90.0  # seconds: the longest any wait below may take; a guard, never a timing assertion
GATE = "gate@test:0"  # the lock the test holds on the audits until every worker is up


# ---- an SMTP server in the test process ---------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One email the SMTP server accepted: who sent it (the worker's sender address), to whom, and what."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def key(self) -> tuple[str, str, str]:
        """What tells one email from another: to whom, its subject, and the page it links to."""
        return (",".join(self.recipients), str(self.message["Subject"]),
                _link(self.message.get_body(preferencelist=("plain",)).get_content()))


def _link(body: str) -> str:
    return re.search(r"Open it: (\S+)", body).group(1)


class Inbox:
    """An aiosmtpd handler keeping every message it accepts (the server runs in its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self._received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 OK"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A running SMTP server: its inbox and port."""
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


# ---- the audits -----------------------------------------------------------------------------------------


@pytest.fixture
def fleet_audits(app, people) -> Callable[[int], list[int]]:
    """``fleet_audits(n)``: n audits, each waiting on a timer that is due (on the real clock) and then emailing
    the Business Unit officer (the only person with an address: the chair's task after it emails nobody),
    committed in one transaction with the test holding their locks (``GATE``), so that workers already
    running start on them only when ``_let_go(GATE)``; their ids."""
    people["bu"].email = "bu.officer@partnership.example"
    db.session.commit()
    deployments.deploy([(f"{PROCESS}.bpmn", (DATA / f"{PROCESS}.bpmn").read_bytes())], deployed_by="tests")
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def start(count: int) -> list[int]:
        with time_machine.travel(past, tick=False):
            instances = [runtime.stage_start(PROCESS, "bu.officer", {
                "title": f"Fleet audit {number}", "event_at": (past + timedelta(minutes=1)).isoformat()})
                for number in range(count)]
        _hold([instance.id for instance in instances], GATE, seconds=600)  # commits
        return [instance.id for instance in instances]
    return start


def _hold(instance_ids: list[int], owner: str, seconds: float) -> None:
    """Lock audits as a worker's sweep does (``timers._lock``): no worker fires them until the lock expires."""
    table = ProcessInstance.__table__
    db.session.execute(update(table).where(table.c.id.in_(instance_ids)).values(
        lock_owner=owner, lock_expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
        updated_at=table.c.updated_at))
    db.session.commit()


def _let_go(owner: str) -> None:
    table = ProcessInstance.__table__
    db.session.execute(update(table).where(table.c.lock_owner == owner).values(
        lock_owner=None, lock_expires_at=None, updated_at=table.c.updated_at))
    db.session.commit()


def _scalar(sql: str, **params: object) -> object:
    """One value read now (the session's transaction ends at once, so the next read sees the workers' work)."""
    try:
        return db.session.execute(sa.text(sql), params).scalar()
    finally:
        db.session.rollback()


def _timers_by_audit(instance_ids: list[int]) -> dict[int, set[str]]:
    """Each audit's waiting timers (engine task ids)."""
    found: dict[int, set[str]] = {instance_id: set() for instance_id in instance_ids}
    for job in db.session.scalars(select(TimerJob).where(TimerJob.instance_id.in_(instance_ids))):
        found[job.instance_id].add(job.engine_task_id)
    return found


def _versions(instance_ids: list[int]) -> dict[int, int]:
    return {instance_id: version for instance_id, version in db.session.execute(
        select(ProcessInstance.id, ProcessInstance.version).where(ProcessInstance.id.in_(instance_ids)))}


def _fired_events(instance_ids: list[int]) -> dict[int, list[HistoryEvent]]:
    db.session.expire_all()
    found: dict[int, list[HistoryEvent]] = {instance_id: [] for instance_id in instance_ids}
    for event in db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id.in_(instance_ids),
                                                               HistoryEvent.kind == "timer_fired")):
        found[event.instance_id].append(event)
    return found


def _assert_each_timer_fired_once(timers_before: dict[int, set[str]]) -> None:
    fired = _fired_events(list(timers_before))
    assert {instance_id: len(events) for instance_id, events in fired.items()} == \
        {instance_id: len(timers) for instance_id, timers in timers_before.items()}
    assert {event.bpmn_id for events in fired.values() for event in events} == {"wait_for_event"}


def _assert_loads_with_projections_in_step(instance_ids: list[int], versions_before: dict[int, int]) -> None:
    """Every audit loads; its open tasks and waiting timers are what its state says; every audit's version
    moved on by the same steps (one firing each: none saved twice, none lost); no lock, failure or incident
    is left."""
    db.session.expire_all()
    limits = engine_limits()
    instances = list(db.session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids))))
    steps = Counter(instance.version - versions_before[instance.id] for instance in instances)
    assert len(steps) == 1 and next(iter(steps)) > 0, f"versions moved on unevenly: {steps}"
    for instance in instances:
        audit = load_audit(instance, limits)
        open_tasks = set(db.session.scalars(select(HumanTask.engine_task_id).where(
            HumanTask.instance_id == instance.id, HumanTask.status == OPEN)))
        timer_rows = set(db.session.scalars(select(TimerJob.engine_task_id).where(
            TimerJob.instance_id == instance.id)))
        assert open_tasks == {view.task_id for view in audit.user_tasks()}, instance.id
        assert timer_rows == {view.task_id for view in audit.timers()} == set(), instance.id
        assert [view.bpmn_id for view in audit.user_tasks()] == ["record"], instance.id
        assert (instance.status, instance.lock_owner, instance.lock_expires_at, instance.failed_attempts,
                instance.retry_at) == (RUNNING, None, None, 0, None), instance.id
    assert db.session.scalar(select(sa.func.count()).select_from(Incident)) == 0


def _assert_each_email_sent_once(inbox: Inbox, instance_ids: list[int]) -> None:
    """Every email the audits staged was sent, at the first attempt, and the SMTP server received each exactly
    once (and nothing else); each audit's timer emailed the Business Unit officer."""
    db.session.expire_all()
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id.in_(instance_ids))))
    assert {(row.status, row.attempts) for row in rows} == {(SENT, 1)}
    told = {(row.instance_id, row.recipient) for row in rows if row.key.startswith(f"event:{row.instance_id}:")}
    assert told == {(instance_id, "bu.officer") for instance_id in instance_ids}
    staged = Counter((row.address, row.subject, _link(row.body_text)) for row in rows)
    received = Counter(email.key for email in inbox.received)
    assert [key for key, count in received.items() if count > 1] == []  # no email twice
    assert received == staged


# ---- the workers ------------------------------------------------------------------------------------------


@dataclass
class Worker:
    """A ``bpmn-audit worker`` subprocess and the file its output goes to."""

    process: subprocess.Popen
    log: IO[str]
    sender: str

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()


def _start_worker(database_url: str, tmp_path: Path, smtp_port: int, sender: str, **settings: object) -> Worker:
    """Start a worker on the test's PostgreSQL schema (the search path is in the URL), sending as ``sender``;
    ``settings`` are app settings (``TIMER_LOCK_SECONDS=2``) passed as their ``BPMN_AUDIT_`` variables."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update({"BPMN_AUDIT_DATABASE_URL": database_url, "BPMN_AUDIT_INSTANCE_PATH": str(tmp_path),
                "BPMN_AUDIT_MAIL_SERVER": "127.0.0.1", "BPMN_AUDIT_MAIL_PORT": str(smtp_port),
                "BPMN_AUDIT_MAIL_SENDER": sender, "BPMN_AUDIT_MAIL_RETRY_SECONDS": "1",
                "BPMN_AUDIT_BASE_URL": "https://audit.example"})
    env.update({f"BPMN_AUDIT_{name}": str(value) for name, value in settings.items()})
    log = (tmp_path / f"{sender.partition('@')[0]}.log").open("w+")
    process = subprocess.Popen([BPMN_AUDIT, "worker", "--interval", "0.2"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, text=True)
    return Worker(process, log, sender)


def _stop_cleanly(workers: list[Worker]) -> None:
    """SIGTERM each worker; each ends its round, notes that it stopped and exits 0."""
    for worker in workers:
        worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.process.wait(timeout=30) == 0, worker.output()


def _end(workers: list[Worker]) -> None:
    """Kill whatever is still running (a failed test's workers) and close the logs."""
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(timeout=30)
        worker.log.close()


def _wait_until(done: Callable[[], bool], workers: list[Worker], what: str) -> None:
    """Poll until ``done()``; fail if a worker dies meanwhile or it takes longer than the hang guard."""
    deadline = time.monotonic() + HANG_GUARD
    while not done():
        for worker in workers:
            assert worker.process.poll() is None, f"a worker exited while waiting for {what}:\n{worker.output()}"
        assert time.monotonic() < deadline, f"no {what} after {HANG_GUARD:g} s:\n" + \
            "\n".join(worker.output()[-2000:] for worker in workers)
        time.sleep(0.1)


def _all_fired_and_sent() -> bool:
    """No timer waits and no email is left to send (an audit's emails are staged as its timer fires)."""
    return (_scalar("SELECT count(*) FROM timer_jobs") == 0
            and _scalar("SELECT count(*) FROM outbox WHERE status = 'pending'") == 0)


def _owner_caught_mid_round(workers: list[Worker], total: int) -> str:
    """Poll (as fast as it goes) until a worker has fired some of the audits it locked and still holds others
    (between 5 and ``total`` - 10 locks); return that worker's name, as its locks give it."""
    with db.engine.connect() as connection:
        deadline = time.monotonic() + HANG_GUARD
        while True:
            counts = dict(connection.execute(sa.text(
                "SELECT lock_owner, count(*) FROM process_instances WHERE lock_owner IS NOT NULL "
                "AND lock_owner != :gate GROUP BY lock_owner"), {"gate": GATE}).all())
            connection.rollback()
            caught = [owner for owner, count in counts.items() if 5 <= count <= total - 10]
            if caught:
                return caught[0]
            for worker in workers:
                assert worker.process.poll() is None, worker.output()
            assert time.monotonic() < deadline, f"no worker caught mid-round; locks held: {counts}"


# ---- the tests --------------------------------------------------------------------------------------------


def test_four_workers_sweeping_200_audits_fire_each_timer_once_and_send_each_email_once(
        app, database_url, tmp_path, fleet_audits, smtp):
    """Four workers in small batches share 200 due audits: one timer_fired per timer, every email the firings
    staged received once, every audit loads with its task and timer rows matching its state, each worker
    stopped cleanly on SIGTERM (its heartbeat says so), and the emails came from more than one worker."""
    inbox, smtp_port = smtp
    workers: list[Worker] = []
    try:
        # small batches spread the audits over the workers
        workers = [_start_worker(database_url, tmp_path, smtp_port, f"worker-{number}@fleet.example",
                                 TIMER_BATCH_SIZE=10) for number in range(4)]
        audits = fleet_audits(200)  # while the workers start
        timers_before, versions_before = _timers_by_audit(audits), _versions(audits)
        assert all(len(timers) == 1 for timers in timers_before.values())
        _wait_until(lambda: _scalar("SELECT count(*) FROM workers") == 4, workers, "heartbeat from every worker")
        _let_go(GATE)
        _wait_until(_all_fired_and_sent, workers, "timers fired and emails sent")
        _stop_cleanly(workers)
    finally:
        _end(workers)

    heartbeats = db.session.execute(sa.text("SELECT pid, stopped_at FROM workers")).all()
    assert sorted(pid for pid, _ in heartbeats) == sorted(worker.process.pid for worker in workers)
    assert all(stopped_at is not None for _, stopped_at in heartbeats)
    _assert_each_timer_fired_once(timers_before)
    _assert_each_email_sent_once(inbox, audits)
    _assert_loads_with_projections_in_step(audits, versions_before)
    senders = Counter(email.sender for email in inbox.received)
    assert len(senders) > 1, f"one worker sent every email: {senders}"


def test_a_worker_killed_holding_locks_loses_its_audits_until_the_locks_expire_then_another_fires_them(
        app, database_url, tmp_path, fleet_audits, smtp):
    """Two workers with 2-second locks, both up before any audit is free; one takes audits in its round (a batch
    holds up to all of them; under load the two first batches may split them) and is killed (SIGKILL) while it
    fires them one by one: it dies holding the locks of those it had not reached, before that round's emails
    (a round sends after it fires). The other, sweeping all along, sends the emails of the audits the dead one
    fired in that round, and fires the others only once their locks have expired, and sends theirs."""
    inbox, smtp_port = smtp
    count = 40
    settings = {"TIMER_LOCK_SECONDS": 2, "MAIL_LOCK_SECONDS": 2, "TIMER_BATCH_SIZE": count}
    workers: list[Worker] = []
    try:
        workers = [_start_worker(database_url, tmp_path, smtp_port, f"{name}@fleet.example", **settings)
                   for name in ("first", "second")]
        audits = fleet_audits(count)  # while the workers start
        timers_before, versions_before = _timers_by_audit(audits), _versions(audits)
        _wait_until(lambda: _scalar("SELECT count(*) FROM workers") == 2, workers, "heartbeat from both workers")
        _let_go(GATE)
        owner = _owner_caught_mid_round(workers, len(audits))
        [dead] = [worker for worker in workers if owner.endswith(f":{worker.process.pid}")]
        [rescuer] = [worker for worker in workers if worker is not dead]
        os.kill(dead.process.pid, signal.SIGKILL)
        assert dead.process.wait(timeout=30) == -signal.SIGKILL

        db.session.expire_all()
        held = {instance.id: instance.lock_expires_at for instance in db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.lock_owner == owner))}
        db.session.rollback()
        assert held, "the worker was killed after it had let go of every lock"
        assert all(_timers_by_audit([instance_id])[instance_id] for instance_id in held)  # not fired
        _wait_until(_all_fired_and_sent, [rescuer], "timers fired and emails sent")
        _stop_cleanly([rescuer])
    finally:
        _end(workers)

    _assert_each_timer_fired_once(timers_before)
    fired = _fired_events(list(held))
    assert all(events[0].at > held[instance_id] for instance_id, events in fired.items()), \
        "an audit was taken over before the dead worker's lock expired"
    _assert_each_email_sent_once(inbox, audits)
    audit_of = {(row.address, row.subject, _link(row.body_text)): row.instance_id
                for row in db.session.scalars(select(OutboxMessage))}
    # the held audits' emails come from the survivor (an earlier round of the dead one, when the two workers'
    # first batches split the audits between them, may have sent others before it died)
    assert {email.sender for email in inbox.received if audit_of[email.key] in held} == {rescuer.sender}
    _assert_loads_with_projections_in_step(audits, versions_before)

