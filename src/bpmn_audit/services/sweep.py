"""The background work, one round at a time: fire the timers due, send the emails due, and note this
process's heartbeat (``workers``: name, host, pid, last seen; and when it stopped cleanly).

``bpmn-audit worker`` runs rounds in a loop until SIGTERM; ``bpmn-audit serve`` runs the same rounds in a
thread. Several of either share one database safely: timers lock per audit and emails per message, and a
process that dies leaves locks that expire, so another takes its work over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from flask import Flask

from ..models import WorkerHeartbeat, db
from ..models.base import utcnow
from .outbox import send_due
from .timers import fire_due_timers

log = logging.getLogger(__name__)


def worker_name(role: str) -> str:
    """This process's name among the workers: ``role@host:pid``."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"[:200]


def beat(name: str, stopped: bool = False) -> None:
    """Record that worker ``name`` is alive now (or, with ``stopped``, that it stopped cleanly)."""
    now = utcnow()
    row = db.session.get(WorkerHeartbeat, name)
    if row is None:
        host, _, pid = name.partition("@")[2].rpartition(":")
        row = WorkerHeartbeat(name=name, host=host[:200], pid=int(pid) if pid.isdigit() else 0, started_at=now)
        db.session.add(row)
    row.last_seen_at = now
    row.stopped_at = now if stopped else None
    db.session.commit()


def run_round(app: Flask, name: str) -> int:
    """One round: timers, then emails, then the heartbeat; return how many timers fired. A failure is logged
    (the timers keep their own incidents, the outbox its own errors) and the next round tries again."""
    with app.app_context():
        try:
            fired = fire_due_timers(name)
            send_due(name)
            beat(name)
            return fired
        except Exception:  # one bad round must not end the loop
            db.session.rollback()
            log.exception("a round of the background work failed; the next round tries again")
            return 0


def run_until(app: Flask, name: str, interval: float, stop: threading.Event) -> None:
    """Rounds every ``interval`` seconds (the first at once) until ``stop`` is set; then a last heartbeat
    saying it stopped."""
    run_round(app, name)
    while not stop.wait(interval):
        run_round(app, name)
    with app.app_context():
        beat(name, stopped=True)
