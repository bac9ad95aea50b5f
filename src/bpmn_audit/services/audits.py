"""Audits as the people taking part see them: which audits a person may see, and one audit's progress.

Partnership staff (the Business Unit, chairs, QiiP, process owners, admins) see every audit. Agency staff
see the audits their agency takes part in (a task of the audit carries their agency) and those in which a
task was offered to them (the nominating partner before the agencies are named); everything else is a
NotFound, so agency A does not learn of audits it takes no part in. Agency staff see their own agency's
progress only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, or_, select

from ..models import HistoryEvent, HumanTask, Incident, ProcessInstance, TaskCandidate, TimerJob, User, db
from ..models.instance import SUSPENDED, TERMINATED
from ..models.task import COMPLETED, GROUP, OPEN, USER
from .errors import NotFound
from .identity import AGENCY_SCOPED_GROUPS

#: groups whose members see every audit of the partnership
PARTNERSHIP_GROUPS = {"business_unit", "chair", "qiip", "process_owner", "admin"}
MAX_PAGE = 500
#: statuses an admin's operation puts an audit in (the history event of that operation has the same kind)
STOPPED = (SUSPENDED, TERMINATED)


@dataclass
class AgencyProgress:
    """One agency's part in an audit: tasks done, tasks open (id and name), and whether any is overdue."""

    agency: str
    completed: int = 0
    open: list[tuple[int, str]] = field(default_factory=list)
    overdue: bool = False


@dataclass(frozen=True)
class Participant:
    """Someone who holds or has done a task of the audit."""

    username: str
    name: str
    groups: list[str]
    agency: str | None


@dataclass(frozen=True)
class HeldUp:
    """An open incident as the audit's page shows it: where, since when, and (for partnership staff) why."""

    where: str
    since: datetime
    message: str | None


@dataclass(frozen=True)
class Stopped:
    """Who suspended or terminated the audit, when, and (for partnership staff) why."""

    status: str
    by: str
    at: datetime
    reason: str | None


@dataclass
class AuditProgress:
    """An audit as the API and the audit page show it (no child's data)."""

    instance: ProcessInstance
    phase: str | None
    deadlines: list[tuple[str, datetime]]
    agencies: list[AgencyProgress]
    participants: list[Participant] = field(default_factory=list)
    #: the open incidents stopping its automatic work until an admin retries it
    held_up: list[HeldUp] = field(default_factory=list)
    #: for a suspended or terminated audit, the admin's operation that made it so
    stopped: Stopped | None = None


def sees_everything(user: User) -> bool:
    """True for partnership staff, who see every audit."""
    return user.active and bool(PARTNERSHIP_GROUPS & set(user.groups or []))


def list_audits(user: User, limit: int = MAX_PAGE, offset: int = 0) -> tuple[list[ProcessInstance], int]:
    """A page of the audits ``user`` may see, newest first, and how many there are in all."""
    query = _visible(user)
    if query is None:
        return [], 0
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = db.session.scalars(query.order_by(ProcessInstance.id.desc())
                              .limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset)))
    return list(page), total


def get_audit(user: User, instance_id: int) -> ProcessInstance:
    """One audit ``user`` may see; raises NotFound otherwise (the same answer as for no such audit)."""
    query = _visible(user)
    instance = None if query is None else db.session.scalar(query.where(ProcessInstance.id == instance_id))
    if instance is None:
        raise NotFound(f"there is no audit {instance_id} for you")
    return instance


def progress(user: User, instance_id: int, now: datetime) -> AuditProgress:
    """Where an audit stands, from the projections: the phase of its soonest-due open task, its waiting
    deadlines, each agency's tasks (agency staff: their own agency's only), and what holds it up."""
    instance = get_audit(user, instance_id)
    rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                              .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)).all()
    open_rows = [row for row in rows if row.status == OPEN]
    phase = next((row.phase for row in open_rows if row.phase), None)
    timers = db.session.scalars(select(TimerJob).where(TimerJob.instance_id == instance_id)
                                .order_by(TimerJob.due_at, TimerJob.id)).all()
    deadlines = [(timer.name, timer.due_at) for timer in timers
                 if sees_everything(user) or timer.agency in (None, user.agency)]
    agencies: dict[str, AgencyProgress] = {}
    people: set[str] = set()
    for row in rows:
        if row.agency and not (sees_everything(user) or row.agency == user.agency):
            continue
        people.update(name for name in (row.assignee, row.completed_by) if name)
        if not row.agency:
            continue
        agency = agencies.setdefault(row.agency, AgencyProgress(row.agency))
        if row.status == COMPLETED:
            agency.completed += 1
        elif row.status == OPEN:
            agency.open.append((row.id, row.name))
            agency.overdue = agency.overdue or (row.due_at is not None and row.due_at < now)
    held_up = [HeldUp(incident.element_name or incident.bpmn_id or "its automatic work", incident.created_at,
                      incident.message if sees_everything(user) else None) for incident in open_incidents(instance_id)]
    stopped = None
    if instance.status in STOPPED:
        event = db.session.scalars(select(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.kind == instance.status)
            .order_by(HistoryEvent.id.desc()).limit(1)).first()
        if event is not None:
            stopped = Stopped(instance.status, event.actor or "an admin", event.at,
                              (event.detail or {}).get("reason") if sees_everything(user) else None)
    return AuditProgress(instance, phase, deadlines, sorted(agencies.values(), key=lambda a: a.agency),
                         _participants(people), held_up, stopped)


def open_incidents(instance_id: int) -> list[Incident]:
    """The audit's open incidents, oldest first: its automatic work waits until an admin retries it."""
    return list(db.session.scalars(select(Incident).where(Incident.instance_id == instance_id,
                                                          Incident.resolved_at.is_(None)).order_by(Incident.id)))


def _participants(usernames: set[str]) -> list[Participant]:
    found = db.session.scalars(select(User).where(User.username.in_(sorted(usernames))).order_by(User.username))
    return [Participant(person.username, person.name, list(person.groups or []), person.agency) for person in found]


def history(user: User, instance_id: int, limit: int = 200) -> list[HistoryEvent]:
    """The audit's history, newest first (agency staff: the partnership's events and their own agency's)."""
    get_audit(user, instance_id)
    query = select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
    if not sees_everything(user):
        query = query.where(HistoryEvent.agency.is_(None) | (HistoryEvent.agency == user.agency))
    return list(db.session.scalars(query.order_by(HistoryEvent.at.desc(), HistoryEvent.id.desc())
                                   .limit(max(1, min(limit, MAX_PAGE)))))


def _visible(user: User) -> Select | None:
    """The audits ``user`` may see, as a query (None: none at all)."""
    if not user.active:
        return None
    query = select(ProcessInstance)
    if sees_everything(user):
        return query
    candidate = TaskCandidate.__table__.c
    offered = select(HumanTask.instance_id).join(TaskCandidate, TaskCandidate.task_id == HumanTask.id).where(or_(
        (candidate.kind == USER) & (candidate.name == user.username),
        (candidate.kind == GROUP) & candidate.name.in_(list(user.groups or []))
        & (candidate.agency.is_(None) | (candidate.agency == user.agency))))
    parts = [offered, select(HumanTask.instance_id).where(HumanTask.assignee == user.username),
             select(HumanTask.instance_id).where(HumanTask.completed_by == user.username)]
    if user.agency and AGENCY_SCOPED_GROUPS & set(user.groups or []):
        parts.append(select(HumanTask.instance_id).where(HumanTask.agency == user.agency))
    return query.where(or_(*(ProcessInstance.id.in_(part) for part in parts)))
