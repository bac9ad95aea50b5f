"""Timer jobs (Camunda's ManagementService): fire every due timer, safely from many workers at once.

Like Camunda 7's job executor: select due jobs that are unlocked (or whose lock expired), take each
with a guarded UPDATE of its lock columns (with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), fire the
instance's due timers under its optimistic lock, and commit. Delivery is at least once: a worker
that dies leaves its lock to expire and another takes the job over.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm.exc import StaleDataError

from ..engine.errors import EngineError
from ..models import ProcessInstance, TimerJob, db
from ..models.base import utcnow
from ..models.instance import RUNNING
from .persistence import load_audit, save_audit

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """host:pid, so a lock says which worker holds it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def fire_due_timers(worker_id: str | None = None) -> int:
    """Fire every timer due by now; return how many timers fired. Commits per audit."""
    worker_id = worker_id or default_worker_id()
    acquired = _acquire_due_jobs(worker_id)
    by_instance: dict[int, list[int]] = defaultdict(list)
    for job_id, instance_id in acquired:
        by_instance[instance_id].append(job_id)
    fired = 0
    for instance_id, job_ids in by_instance.items():
        fired += _fire_instance(instance_id, job_ids, worker_id)
    return fired


def next_due_at() -> datetime | None:
    """When the earliest waiting timer falls due (None if there is none)."""
    return db.session.scalar(select(TimerJob.due_at).order_by(TimerJob.due_at).limit(1))


def _acquire_due_jobs(worker_id: str) -> list[tuple[int, int]]:
    now = utcnow()
    lock_until = now + timedelta(seconds=current_app.config["TIMER_LOCK_SECONDS"])
    free = or_(TimerJob.lock_expires_at.is_(None), TimerJob.lock_expires_at < now)
    candidates = db.session.execute(
        # strictly before now, as SpiffWorkflow compares: a timer fires once its moment has passed
        select(TimerJob.id, TimerJob.instance_id).where(TimerJob.due_at < now, free)
        .order_by(TimerJob.due_at).limit(current_app.config["TIMER_BATCH_SIZE"])
        .with_for_update(skip_locked=True)).all()
    acquired = []
    for job_id, instance_id in candidates:
        result = db.session.execute(update(TimerJob).where(TimerJob.id == job_id, free)
                                    .values(lock_owner=worker_id, lock_expires_at=lock_until))
        if result.rowcount == 1:
            acquired.append((job_id, instance_id))
    db.session.commit()
    return acquired


def _fire_instance(instance_id: int, job_ids: list[int], worker_id: str) -> int:
    try:
        instance = db.session.get(ProcessInstance, instance_id, populate_existing=True)
        if instance is None or instance.status != RUNNING:
            _release(job_ids, worker_id, None)
            return 0
        audit = load_audit(instance)
        events = audit.fire_due_timers()
        save_audit(instance, audit, events, None)
        db.session.flush()  # fired jobs vanish with the projection; unlock any the engine found not yet due
        db.session.execute(update(TimerJob).where(TimerJob.id.in_(job_ids), TimerJob.lock_owner == worker_id)
                           .values(lock_owner=None, lock_expires_at=None))
        db.session.commit()
        return sum(1 for event in events if event.kind == "timer_fired")
    except StaleDataError:
        db.session.rollback()  # a user saved the audit meanwhile: the next sweep fires it
        _release(job_ids, worker_id, None)
        return 0
    except EngineError as error:
        db.session.rollback()
        log.warning("timers of audit %s failed: %s", instance_id, error)
        _release(job_ids, worker_id, str(error))
        return 0


def _release(job_ids: list[int], worker_id: str, error: str | None) -> None:
    values: dict[str, object] = {"lock_owner": None, "lock_expires_at": None}
    if error is not None:
        values.update(last_error=error[:2000], attempts=TimerJob.attempts + 1,
                      lock_expires_at=utcnow() + timedelta(minutes=5))  # back off before the retry
    db.session.execute(update(TimerJob).where(TimerJob.id.in_(job_ids), TimerJob.lock_owner == worker_id)
                       .values(**values))
    db.session.commit()
