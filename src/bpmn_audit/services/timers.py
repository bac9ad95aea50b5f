"""Timer jobs (Camunda's ManagementService): fire due timers safely from many workers, retry, raise incidents.

Like Camunda 7's job executor, but per instance, the unit the engine fires: find running audits with
a due timer, no live lock, no backoff pending and no open incident; take each with a guarded UPDATE of
its lock columns (``FOR UPDATE SKIP LOCKED`` on PostgreSQL); fire its due timers under the optimistic
lock; commit, releasing the lock. Delivery is at least once: a worker that dies leaves its lock to
expire, and another takes the audit over.

A failure of any kind is rolled back and recorded on the audit: the attempt counts, the next waits
(``TIMER_RETRY_SECONDS``, doubling each time), and the last of ``TIMER_MAX_ATTEMPTS`` opens an
incident, which stops the audit's automatic work until someone retries it. The sweep goes on with
the next audit either way, so one broken audit never holds up the others.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm.exc import StaleDataError

from ..engine.errors import EngineError, ScriptRuntimeError, plain_reason
from ..engine.limits import EngineLimits
from ..models import Incident, ProcessInstance, TimerJob, db
from ..models.base import utcnow
from ..models.instance import RUNNING
from . import notifications
from .identity import ADMIN
from .persistence import engine_limits, load_audit, record_event, save_audit
from .runtime import get_instance

log = logging.getLogger(__name__)
_INSTANCES = ProcessInstance.__table__  # lock columns change by Core UPDATEs: no version bump, no state write


@dataclass(frozen=True)
class TimerSettings:
    """What a sweep needs from the app's settings, read once at the service's edge."""

    lock_seconds: int
    batch_size: int
    max_attempts: int
    retry_seconds: int
    limits: EngineLimits

    @classmethod
    def from_app(cls) -> TimerSettings:
        """The settings of the current app."""
        config = current_app.config
        return cls(config["TIMER_LOCK_SECONDS"], config["TIMER_BATCH_SIZE"], config["TIMER_MAX_ATTEMPTS"],
                   config["TIMER_RETRY_SECONDS"], engine_limits())


def default_worker_id() -> str:
    """host:pid, so a lock says which worker holds it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def fire_due_timers(worker_id: str | None = None) -> int:
    """Fire every timer due by now, one audit at a time; return how many fired. Commits per audit."""
    worker_id = worker_id or default_worker_id()
    settings = TimerSettings.from_app()
    return sum(_fire_instance(instance_id, worker_id, settings) for instance_id in _acquire(worker_id, settings))


def next_due_at() -> datetime | None:
    """When the earliest waiting timer falls due (None if there is none)."""
    return db.session.scalar(select(TimerJob.due_at).order_by(TimerJob.due_at).limit(1))


def _free(now: datetime) -> object:
    return or_(_INSTANCES.c.lock_expires_at.is_(None), _INSTANCES.c.lock_expires_at < now)


def _lock(instance_id: int, worker_id: str, until: datetime, now: datetime) -> bool:
    """Take the audit's lock if nobody holds a live one (the guarded UPDATE is the mutex)."""
    result = db.session.execute(update(_INSTANCES).where(_INSTANCES.c.id == instance_id, _free(now))
                                .values(lock_owner=worker_id, lock_expires_at=until,
                                        updated_at=_INSTANCES.c.updated_at))
    return result.rowcount == 1


def _acquire(worker_id: str, settings: TimerSettings) -> list[int]:
    """Lock up to a batch of audits that have due timers and may be worked on; earliest due first."""
    now = utcnow()
    earliest = (select(func.min(TimerJob.due_at)).where(TimerJob.instance_id == ProcessInstance.id)
                .correlate(ProcessInstance).scalar_subquery())
    open_incident = select(Incident.id).where(Incident.instance_id == ProcessInstance.id,
                                              Incident.resolved_at.is_(None)).exists()
    candidates = db.session.scalars(
        # strictly before now, as SpiffWorkflow compares: a timer fires once its moment has passed
        select(ProcessInstance.id).where(
            ProcessInstance.status == RUNNING, earliest < now, _free(now),
            or_(ProcessInstance.retry_at.is_(None), ProcessInstance.retry_at <= now), ~open_incident)
        .order_by(earliest).limit(settings.batch_size).with_for_update(skip_locked=True)).all()
    until = now + timedelta(seconds=settings.lock_seconds)
    acquired = [instance_id for instance_id in candidates if _lock(instance_id, worker_id, until, now)]
    db.session.commit()
    return acquired


def _fire_instance(instance_id: int, worker_id: str, settings: TimerSettings) -> int:
    """Fire one locked audit's due timers; on any failure roll back and record the attempt."""
    try:
        instance = db.session.get(ProcessInstance, instance_id, populate_existing=True)
        if instance is None or instance.lock_owner != worker_id:
            db.session.rollback()  # our lock expired and another worker took the audit over
            return 0
        if instance.status != RUNNING:
            _release(instance_id, worker_id)
            return 0
        audit = load_audit(instance, settings.limits)
        events = audit.fire_due_timers()
        save_audit(instance, audit, events, None)
        instance.lock_owner = instance.lock_expires_at = instance.retry_at = instance.last_error = None
        instance.failed_attempts = 0
        db.session.commit()
        return sum(1 for event in events if event.kind == "timer_fired")
    except StaleDataError:
        db.session.rollback()  # someone saved the audit meanwhile: the next sweep fires its timers
        _release(instance_id, worker_id)
        return 0
    except Exception as error:
        db.session.rollback()
        _record_failure(instance_id, worker_id, error, settings)
        return 0
    except BaseException:
        db.session.rollback()  # the worker is stopping: leave the audit to the next one
        _release(instance_id, worker_id)
        raise


def _release(instance_id: int, worker_id: str) -> None:
    db.session.execute(update(_INSTANCES).where(_INSTANCES.c.id == instance_id, _INSTANCES.c.lock_owner == worker_id)
                       .values(lock_owner=None, lock_expires_at=None, updated_at=_INSTANCES.c.updated_at))
    db.session.commit()


def _record_failure(instance_id: int, worker_id: str, error: Exception, settings: TimerSettings) -> None:
    """Count a failed attempt and back off; the last attempt opens an incident. Never raises."""
    try:
        instance = db.session.get(ProcessInstance, instance_id, populate_existing=True)
        attempts = instance.failed_attempts + 1
        message = str(error) if isinstance(error, EngineError) else \
            f"the audit's timers could not be fired: {plain_reason(error)}"
        element_id = getattr(error, "element_id", None) if isinstance(error, ScriptRuntimeError) else None
        element_name = getattr(error, "element_name", None) if isinstance(error, ScriptRuntimeError) else None
        retry_at = None
        if attempts >= settings.max_attempts:
            incident = Incident(instance_id=instance_id, kind="timer", bpmn_id=element_id,
                                element_name=element_name, message=message, attempts=attempts,
                                stack="".join(traceback.format_exception(error))[-20_000:])
            db.session.add(incident)
            db.session.flush()
            _tell_admins(instance, incident)
            kind = "incident_opened"
        else:
            retry_at = utcnow() + timedelta(seconds=settings.retry_seconds * 2 ** (attempts - 1))
            kind = "timer_attempt_failed"
        record_event(instance, kind, element_id or "", element_name or element_id or "",
                     detail={"message": message, "attempt": attempts,
                             "retry_at": retry_at.isoformat() if retry_at else None})
        db.session.execute(update(_INSTANCES).where(_INSTANCES.c.id == instance_id,
                                                    _INSTANCES.c.lock_owner == worker_id)
                           .values(lock_owner=None, lock_expires_at=None, failed_attempts=attempts,
                                   retry_at=retry_at, last_error=message[:4000],
                                   updated_at=_INSTANCES.c.updated_at))
        db.session.commit()
        log.warning("timers of audit %s failed (attempt %s of %s): %s", instance_id, attempts,
                    settings.max_attempts, message)
    except Exception:
        db.session.rollback()
        log.exception("could not record the failure of audit %s; its lock will expire", instance_id)


def _tell_admins(instance: ProcessInstance, incident: Incident) -> None:
    """Tell the admins, at once and by email too, that an audit is held up and where (not the message: an
    error can quote process data, and the inspector shows it to those who may see it)."""
    where = incident.element_name or incident.bpmn_id or "its automatic work"
    notifications.tell(notifications.recipients([ADMIN], None), "incident",
                       f"Held up at {where}: {instance.title or instance.deployment.name} (audit {instance.id})",
                       instance.id, key=f"incident:{incident.id}", path=f"/operations/audits/{instance.id}",
                       urgent=True)


def fire_instance_now(instance_id: int, worker_id: str, settings: TimerSettings | None = None) -> int:
    """Take one audit's lock, if nobody holds it, and fire its due timers now; return how many fired. Commits
    (with whatever the caller staged)."""
    settings = settings or TimerSettings.from_app()
    now = utcnow()
    locked = _lock(instance_id, worker_id, now + timedelta(seconds=settings.lock_seconds), now)
    db.session.commit()
    return _fire_instance(instance_id, worker_id, settings) if locked else 0


@dataclass(frozen=True)
class RetryResult:
    """What a retry did: incidents resolved, timers fired, and the new incident if it failed again."""

    resolved: int
    fired: int
    incident: Incident | None


def retry_instance(instance_id: int, actor: str, worker_id: str | None = None) -> RetryResult:
    """Resolve an audit's open incidents and try its automatic work once more, now.

    If it fails again, a new incident is opened at once (with the new reason). Raises nothing for a
    failure; the caller reads it from the result. Needs: admin (checked by the caller).
    """
    settings = TimerSettings.from_app()
    instance = get_instance(instance_id)
    now = utcnow()
    resolved = db.session.execute(update(Incident).where(Incident.instance_id == instance_id,
                                                         Incident.resolved_at.is_(None))
                                  .values(resolved_at=now, resolved_by=actor)).rowcount
    record_event(instance, "incident_retried", "", "retry", actor=actor, detail={"resolved": resolved})
    db.session.execute(update(_INSTANCES).where(_INSTANCES.c.id == instance_id)
                       .values(failed_attempts=max(settings.max_attempts - 1, 0), retry_at=None,
                               updated_at=_INSTANCES.c.updated_at))
    fired = fire_instance_now(instance_id, worker_id or f"retry:{actor}:{default_worker_id()}", settings)
    incident = db.session.scalar(select(Incident).where(Incident.instance_id == instance_id,
                                                        Incident.resolved_at.is_(None)))
    return RetryResult(resolved, fired, incident)
