"""Admins mend running audits (Camunda's ManagementService): suspend, resume, terminate, move back or forward,
skip, delete a test audit; and the system's health (workers, backlogs, incidents, the database).

Each operation needs an admin and a reason, is written to the audit's history, and saves under the audit's
optimistic lock: an operation racing a completion or a timer either wins or gets a Conflict, and the audit
stays consistent. A suspended audit fires no timer (the sweep takes running audits only) and no task of it
can be completed; resuming fires at once whatever fell due meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm.exc import StaleDataError

from ..engine.calendar import LONDON
from ..engine.errors import TaskNotReadyError
from ..engine.workflow import RunningAudit
from ..models import (
    AgencyReturn,
    AuditRetention,
    Case,
    CaseAccess,
    CaseFinding,
    Concern,
    Deployment,
    HistoryEvent,
    HumanTask,
    Incident,
    Notification,
    OutboxMessage,
    ProcessInstance,
    TaskCandidate,
    TimerJob,
    TrackerAction,
    User,
    WorkerHeartbeat,
    db,
)
from ..models.base import utcnow
from ..models.case import READ
from ..models.instance import COMPLETED, RUNNING, SUSPENDED, TERMINATED
from ..models.outbox import FAILED, PENDING
from ..models.task import CANCELLED, OPEN
from ..models.task import COMPLETED as COMPLETED_TASK
from .errors import Conflict, FormInvalid, NotFound
from .identity import ADMIN, require_group
from .persistence import record_event
from .runtime import edit_audit, get_instance, reason_problem
from .timers import default_worker_id, fire_instance_now
from .transaction import transaction

log = logging.getLogger(__name__)
OPERATORS = frozenset({ADMIN})
#: what the audit list filters by, an open incident being a status of its own there
LIST_STATUSES = (RUNNING, SUSPENDED, COMPLETED, TERMINATED, "incident")
#: who sees the values of the fields a model marks personal; others see this instead
PERSONAL_VIEWERS = frozenset({"business_unit"})
HIDDEN = "(hidden: personal data)"
#: process data is checked to be shallower than this by the data rules; masking stops here regardless
MAX_MASK_DEPTH = 50
#: a worker not seen for this long is shown as gone
WORKER_GONE_AFTER = timedelta(minutes=5)


def check_operator(user: User) -> None:
    """Raise Forbidden unless ``user`` is an admin."""
    require_group(user, OPERATORS, "only admins operate on audits")


@dataclass(frozen=True)
class Filters:
    """The audit list's filters, each optional."""

    status: str | None = None
    process: str | None = None
    version: int | None = None
    phase: str | None = None
    overdue: bool = False
    agency: str | None = None
    started_from: date | None = None
    started_to: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """The filters of a query string; NotFound (a 404 page saying which) for a value that cannot be one."""
        def text_of(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            if len(value) > 200:
                raise NotFound(f"the {name} filter is too long")
            return value or None

        def day_of(name: str) -> date | None:
            value = text_of(name)
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                raise NotFound(f"the {name.replace('_', ' ')} filter must be a date like 2027-03-31") from None

        status, version = text_of("status"), text_of("version")
        if status is not None and status not in LIST_STATUSES:
            raise NotFound(f"there is no status '{status}'; use one of {', '.join(LIST_STATUSES)}")
        if version is not None and not (version.isdigit() and len(version) < 7):
            raise NotFound("the version filter must be a whole number")
        return cls(status, text_of("process"), int(version) if version else None, text_of("phase"),
                   args.get("overdue") in ("1", "true", "yes"), text_of("agency"), day_of("started_from"),
                   day_of("started_to"))


def find_audits(filters: Filters, limit: int = 25, offset: int = 0) -> tuple[list[ProcessInstance], int,
                                                                              dict[str, int]]:
    """A page of the audits the filters choose (newest first), how many there are, and how many of them are in
    each status (the status filter aside)."""
    query = select(ProcessInstance).join(Deployment)
    open_tasks = select(HumanTask.instance_id).where(HumanTask.status == OPEN)
    if filters.process:
        query = query.where(ProcessInstance.process_key == filters.process)
    if filters.version is not None:
        query = query.where(Deployment.version == filters.version)
    if filters.phase:
        query = query.where(ProcessInstance.id.in_(open_tasks.where(HumanTask.phase == filters.phase)))
    if filters.overdue:
        query = query.where(ProcessInstance.id.in_(open_tasks.where(HumanTask.due_at < utcnow())))
    if filters.agency:
        query = query.where(ProcessInstance.id.in_(select(HumanTask.instance_id).where(
            HumanTask.agency == filters.agency)))
    if filters.started_from:
        query = query.where(ProcessInstance.started_at >= _london_midnight(filters.started_from))
    if filters.started_to:
        query = query.where(ProcessInstance.started_at < _london_midnight(filters.started_to + timedelta(days=1)))
    incident = ProcessInstance.id.in_(select(Incident.instance_id).where(Incident.resolved_at.is_(None)))
    chosen = query.subquery()
    counts = dict(db.session.execute(select(chosen.c.status, func.count()).group_by(chosen.c.status)).all())
    counts["incident"] = db.session.scalar(select(func.count()).select_from(query.where(incident).subquery())) or 0
    if filters.status == "incident":
        query = query.where(incident)
    elif filters.status:
        query = query.where(ProcessInstance.status == filters.status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = db.session.scalars(query.order_by(ProcessInstance.id.desc()).limit(limit).offset(offset))
    return list(found), total, counts


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def suspend(instance_id: int, user: User, reason: str) -> ProcessInstance:
    """Stop a running audit: no timer fires and no task can be completed until it is resumed."""
    return _change_status(instance_id, user, reason, (RUNNING,), SUSPENDED, "suspended")


def resume(instance_id: int, user: User, reason: str) -> ProcessInstance:
    """Let a suspended audit go on; whatever fell due while it was suspended fires now, once."""
    instance = _change_status(instance_id, user, reason, (SUSPENDED,), RUNNING, "resumed")
    if _due_now(instance_id):
        fire_instance_now(instance_id, f"resume:{user.username}:{default_worker_id()}")
    return instance


def terminate(instance_id: int, user: User, reason: str) -> ProcessInstance:
    """End an audit for good: its open tasks are cancelled and its timers dropped."""
    return _change_status(instance_id, user, reason, (RUNNING, SUSPENDED), TERMINATED, "terminated")


def _due_now(instance_id: int) -> bool:
    return db.session.scalar(select(func.count()).select_from(TimerJob).where(
        TimerJob.instance_id == instance_id, TimerJob.due_at < utcnow())) > 0


def _change_status(instance_id: int, user: User, reason: str, allowed: tuple[str, ...], status: str,
                   kind: str) -> ProcessInstance:
    check_operator(user)
    if problem := reason_problem(reason):
        raise FormInvalid({"reason": problem})
    instance = get_instance(instance_id)
    if instance.status not in allowed:
        raise Conflict(f"the audit is {instance.status}: it cannot be {kind}")
    try:
        with transaction():
            instance.status = status  # the version column makes this the optimistic lock's check
            if status == TERMINATED:
                now = utcnow()
                instance.ended_at = now
                db.session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == OPEN)
                                   .values(status=CANCELLED, completed_at=now))
                db.session.execute(delete(TimerJob).where(TimerJob.instance_id == instance_id))
            record_event(instance, kind, "", kind, actor=user.username, detail={"reason": reason.strip()})
    except StaleDataError as error:
        raise Conflict("the audit changed meanwhile (a task was done or a timer fired): look again and retry"
                       ) from error
    return instance


def move_back(instance_id: int, user: User, bpmn_id: str, reason: str) -> ProcessInstance:
    """Reopen the task ``bpmn_id`` done most recently, with its earlier answers; what came after is undone."""
    check_operator(user)

    def change(instance: ProcessInstance, audit: RunningAudit, why: str) -> list:
        try:
            task_id = audit.move_back(bpmn_id)
        except TaskNotReadyError as error:
            raise FormInvalid({"bpmn_id": str(error)}) from None
        record_event(instance, "moved_back", bpmn_id, f"back to {bpmn_id}", actor=user.username,
                     detail={"reason": why, "task_id": task_id})
        return audit.events
    return edit_audit(instance_id, user, reason, change)


def move_forward(instance_id: int, user: User, bpmn_id: str, reason: str) -> int:
    """Go forward until the task ``bpmn_id`` is open: every open task on the way is skipped (completed with no
    answers), round by round, and the timers the audit waits on fire. Returns how many tasks were skipped. Refused,
    changing nothing, when the audit cannot get there: it ends first, or a step needs answers nobody gave."""
    check_operator(user)
    skipped: list = []

    def change(instance: ProcessInstance, audit: RunningAudit, why: str) -> list:
        try:
            skipped.extend(audit.move_forward(bpmn_id))
        except TaskNotReadyError as error:
            raise FormInvalid({"bpmn_id": str(error)}) from None
        rows = {row.engine_task_id: row for row in db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == OPEN))}
        for view in skipped:
            row = rows.get(view.task_id)  # none for a task opened and skipped within this move
            if row is not None:
                _skipped_by(row, user)
            record_event(instance, "task_skipped", view.bpmn_id, view.name, agency=view.agency, actor=user.username,
                         detail={"reason": why, "moving_to": bpmn_id, "task_id": row.id if row else None})
        record_event(instance, "moved_forward", bpmn_id, f"forward to {bpmn_id}", actor=user.username,
                     detail={"reason": why, "skipped": len(skipped)})
        return audit.events
    edit_audit(instance_id, user, reason, change)
    return len(skipped)


def _skipped_by(task: HumanTask, user: User) -> None:
    """Mark an open task's row done by the admin who skipped it, with no answers."""
    task.status, task.completed_at, task.completed_by, task.form_data = COMPLETED_TASK, utcnow(), user.username, {}


def skip(task_id: int, user: User, reason: str) -> HumanTask:
    """Complete an open task with no answers (its guards are not asked), and run the audit on."""
    check_operator(user)
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"there is no task {task_id}")
    if task.status != OPEN:
        raise Conflict(f"'{task.name}' is {task.status}")

    def change(instance: ProcessInstance, audit: RunningAudit, why: str) -> list:
        events = audit.skip(task.engine_task_id)
        _skipped_by(task, user)
        record_event(instance, "task_skipped", task.bpmn_id, task.name, agency=task.agency, actor=user.username,
                     detail={"reason": why, "task_id": task.id})
        return events
    edit_audit(task.instance_id, user, reason, change)
    return task


def shown_data(instance: ProcessInstance, data: dict[str, Any], viewer: User) -> dict[str, Any]:
    """The process data as ``viewer`` may see it: the values of the fields its model marks personal (a field
    property ``personal`` = ``true``: contact details, a referral's reference) are hidden, at any depth, unless
    the viewer is in the Business Unit, who collected them."""
    if PERSONAL_VIEWERS.intersection(viewer.groups or []):
        return data
    hidden = {field["id"] for form in (instance.deployment.forms or {}).values() for field in form.get("fields", [])
              if str((field.get("properties") or {}).get("personal", "")).lower() == "true"}

    def masked(value: Any, depth: int = 0) -> Any:
        if depth > MAX_MASK_DEPTH:
            return value
        if isinstance(value, dict):
            return {key: HIDDEN if key in hidden and item not in (None, "") else masked(item, depth + 1)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [masked(item, depth + 1) for item in value]
        return value
    return masked(data) if hidden else data


def emails_of(instance_id: int, limit: int = 200) -> list[OutboxMessage]:
    """The audit's emails, newest first: to whom, the subject, sent or waiting or failed (never a child's name)."""
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == instance_id)
                                   .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)))


def delete_audit(instance_id: int, user: User, confirm: str, reason: str) -> None:
    """Delete a terminated test audit and everything of it (its concerns' processes too), for good.

    Refused unless the audit is terminated (so deleting is always a second step), ``confirm`` is its number,
    and nobody ever read a child's details in it: an access log with reads in it is kept (purge the
    register's data by its retention date instead). The deletion goes to the operators' log, as the
    audit's own history goes with it.
    """
    check_operator(user)
    if problem := reason_problem(reason):
        raise FormInvalid({"reason": problem})
    instance = get_instance(instance_id)
    if str(confirm).strip() != str(instance_id):
        raise FormInvalid({"confirm": f"Type the audit's number, {instance_id}, to delete it"})
    if instance.status != TERMINATED:
        raise Conflict(f"the audit is {instance.status}: terminate it first, then delete it")
    if db.session.scalar(select(CaseAccess.id).where(CaseAccess.instance_id == instance_id,
                                                     CaseAccess.action == READ).limit(1)) is not None:
        raise Conflict("a child's details were read in this audit: its access log is kept, so it cannot be "
                       "deleted; its register data goes when its retention date passes")
    with transaction():
        concern_processes = list(db.session.scalars(select(Concern.process_id).where(Concern.audit_id == instance_id)))
        db.session.execute(delete(Concern).where(Concern.audit_id == instance_id))
        for process_id in [*concern_processes, instance_id]:
            _delete_rows(process_id)
    log.warning("audit %s (%s) deleted by %s: %s", instance_id, instance.title, user.username, reason.strip())


def _delete_rows(instance_id: int) -> None:
    """Every row of one process instance, children first."""
    task_ids = select(HumanTask.id).where(HumanTask.instance_id == instance_id)
    db.session.execute(delete(TaskCandidate).where(TaskCandidate.task_id.in_(task_ids)))
    for model, column in ((HumanTask, "instance_id"), (TimerJob, "instance_id"), (HistoryEvent, "instance_id"),
                          (Incident, "instance_id"), (Notification, "instance_id"), (OutboxMessage, "instance_id"),
                          (CaseFinding, "audit_id"), (AgencyReturn, "audit_id"), (CaseAccess, "instance_id"),
                          (Case, "instance_id"), (AuditRetention, "instance_id"), (TrackerAction, "instance_id")):
        db.session.execute(delete(model).where(getattr(model, column) == instance_id))
    db.session.execute(delete(ProcessInstance).where(ProcessInstance.id == instance_id))


@dataclass(frozen=True)
class Worker:
    """A background worker as the health page shows it."""

    heartbeat: WorkerHeartbeat
    alive: bool


@dataclass(frozen=True)
class Health:
    """How the system is: its workers, its backlogs and its database."""

    workers: list[Worker]
    timers_due: int
    oldest_due: datetime | None
    open_incidents: int
    emails_waiting: int
    emails_failed: int
    database_bytes: int | None
    counts: dict[str, int]


def health(now: datetime) -> Health:
    """Workers with their heartbeats, the due-timer and email backlogs, open incidents, and the database's size."""
    beats = db.session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen_at.desc()).limit(100))
    workers = [Worker(beat, beat.stopped_at is None and now - beat.last_seen_at < WORKER_GONE_AFTER)
               for beat in beats]
    due = select(TimerJob).join(ProcessInstance).where(TimerJob.due_at < now, ProcessInstance.status == RUNNING)
    timers_due = db.session.scalar(select(func.count()).select_from(due.subquery())) or 0
    oldest = db.session.scalar(select(func.min(TimerJob.due_at)).join(ProcessInstance).where(
        TimerJob.due_at < now, ProcessInstance.status == RUNNING))
    incidents = db.session.scalar(select(func.count()).select_from(Incident).where(Incident.resolved_at.is_(None)))
    waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING))
    failed = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == FAILED))
    counts = {status: count for status, count in db.session.execute(
        select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status))}
    return Health(workers, timers_due, oldest, incidents or 0, waiting or 0, failed or 0, database_size(), counts)


def database_size() -> int | None:
    """The database's size in bytes (None if the database does not say)."""
    engine = db.session.get_bind()
    if engine.dialect.name == "postgresql":
        return db.session.scalar(text("SELECT pg_database_size(current_database())"))
    if engine.dialect.name == "sqlite":
        pages = db.session.scalar(text("PRAGMA page_count")) or 0
        return pages * (db.session.scalar(text("PRAGMA page_size")) or 0)
    return None


def ready() -> bool:
    """True if the database answers (for a load balancer's readiness check)."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False
