"""Human tasks (Camunda's TaskService): each person's inbox, and completing a task.

Completing a task is the heart of the app: check the user may, check the form, load the audit,
complete the task in the engine, save state and projections under the optimistic lock, commit.
A completion that loses a race with another save on the same audit is retried from a fresh load;
if the task itself was completed meanwhile, the caller gets a Conflict.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select, union_all, update
from sqlalchemy.orm.exc import StaleDataError

from ..engine.errors import ScriptRuntimeError, TaskNotReadyError
from ..engine.limits import EngineLimits
from ..engine.task_forms import TaskForm
from ..models import HumanTask, ProcessInstance, TaskCandidate, User, db
from ..models.base import utcnow
from ..models.instance import RUNNING, SUSPENDED
from ..models.task import COMPLETED, GROUP, OPEN, USER
from . import agencies, cases, notifications, task_hooks
from .errors import PROCESS_KEY, Conflict, Forbidden, FormInvalid, NotFound
from .forms import MAX_TEXT, clean_form
from .identity import can_work_on, get_user, is_candidate
from .persistence import engine_limits, load_audit, record_event, save_audit
from .transaction import transaction

log = logging.getLogger(__name__)
#: the most tasks one page of an inbox holds
MAX_PAGE = 500


@dataclass(frozen=True)
class InboxFilter:
    """Which of a person's tasks an inbox shows: only those assigned to them, only those offered to their
    groups (not yet taken), only overdue ones, only one audit's."""

    assigned_to_me: bool = False
    my_groups: bool = False
    overdue: bool = False
    audit_id: int | None = None


def inbox(user: User, limit: int = MAX_PAGE, offset: int = 0, only: InboxFilter = InboxFilter()) -> list[HumanTask]:
    """The open tasks ``user`` may work on, a page at a time: soonest due first, then highest priority.

    One indexed query over the candidate rows (``identity.can_work_on`` is the same rule for one task).
    """
    query = _inbox_query(user, only)
    if query is None:
        return []
    return list(db.session.scalars(query.order_by(
        HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.priority.is_(None), HumanTask.priority.desc(),
        HumanTask.id).limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))))


def count_inbox(user: User, only: InboxFilter = InboxFilter()) -> int:
    """How many open tasks ``user`` may work on (for the navigation and paging)."""
    query = _inbox_query(user, only)
    return 0 if query is None else db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


#: an admin's suspended audits: their tasks wait, out of the inboxes, until resumed
_SUSPENDED_AUDITS = select(ProcessInstance.id).where(ProcessInstance.status == SUSPENDED)


def _inbox_query(user: User, only: InboxFilter) -> Select | None:
    """Open tasks assigned to the user, or offered to them and not taken: each part an index lookup
    (the candidate rows by kind, name and agency; the tasks by assignee), so the inbox of one agency's
    lead does not grow with other agencies' audits."""
    if not user.active:
        return None
    by_candidate = TaskCandidate.__table__.c
    offered = [select(by_candidate.task_id).where(by_candidate.kind == USER, by_candidate.name == user.username)]
    groups = list(user.groups or [])
    if groups:
        offered.append(select(by_candidate.task_id).where(
            by_candidate.kind == GROUP, by_candidate.name.in_(groups), by_candidate.agency.is_(None)))
        if user.agency:
            offered.append(select(by_candidate.task_id).where(
                by_candidate.kind == GROUP, by_candidate.name.in_(groups), by_candidate.agency == user.agency))
    offered_ids = union_all(*offered).subquery()
    parts = []
    if not only.my_groups:
        parts.append(select(HumanTask.id).where(HumanTask.assignee == user.username, HumanTask.status == OPEN))
    if not only.assigned_to_me:
        parts.append(select(HumanTask.id).join(offered_ids, HumanTask.id == offered_ids.c.task_id)
                     .where(HumanTask.assignee.is_(None), HumanTask.status == OPEN))
    if not parts:
        return None
    query = select(HumanTask).where(HumanTask.id.in_(union_all(*parts) if len(parts) > 1 else parts[0]),
                                    HumanTask.instance_id.not_in(_SUSPENDED_AUDITS))  # nobody can do those now
    if only.overdue:
        query = query.where(HumanTask.due_at < utcnow())
    if only.audit_id is not None:
        query = query.where(HumanTask.instance_id == only.audit_id)
    return query


def task_form(task_id: int, user: User) -> TaskForm:
    """What completing a task asks for (fields, instructions, checks), from its deployment: no workflow
    is loaded. Raises NotFound (no such task for this user)."""
    return form_of(get_task(task_id, user))


def form_of(task: HumanTask) -> TaskForm:
    """The form of a task the caller has already found (and checked the user may see)."""
    stored = (task.instance.deployment.forms or {}).get(task.bpmn_id)
    if stored:
        return TaskForm.from_json(stored)
    return TaskForm.from_view(load_audit(task.instance, engine_limits()).user_task(task.engine_task_id))


def latest_answers(instance_id: int, *bpmn_ids: str) -> dict[str, Any] | None:
    """What was entered when one of these tasks of the audit was last completed (with ``completed_by`` and
    ``completed_at``), or None: for a page that shows an earlier step's record beside a later one."""
    task = db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id.in_(bpmn_ids), HumanTask.status == COMPLETED)
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1))
    if task is None:
        return None
    return dict(task.form_data or {}, completed_by=task.completed_by, completed_at=task.completed_at)


#: groups who give tasks to people (and so may open any task's page, to see whom to give it to)
ASSIGNERS = frozenset({"business_unit", "admin"})


def get_task_to_assign(task_id: int, user: User) -> HumanTask:
    """Any task, for someone who assigns tasks; raises NotFound for everyone else (and for no such task)."""
    task = db.session.get(HumanTask, task_id)
    if task is None or not user.active or not ASSIGNERS & set(user.groups or []):
        raise NotFound(f"there is no task {task_id} for you")
    return task


def get_task(task_id: int, user: User) -> HumanTask:
    """One task the user may see; raises NotFound (also for tasks of other agencies: no leak)."""
    task = db.session.get(HumanTask, task_id)
    if task is None or not can_work_on(user, task):
        raise NotFound(f"there is no task {task_id} for you")
    return task


def save_draft(task_id: int, user: User, raw: dict[str, Any]) -> HumanTask:
    """Keep what was typed into an open task's form without completing it (the form's own fields only, each
    at most MAX_TEXT characters; nothing is checked until completion). Raises NotFound and Conflict."""
    task = get_task(task_id, user)
    if task.status != OPEN:
        raise Conflict(f"'{task.name}' is {task.status}")
    fields = {form_field.id for form_field in form_of(task).fields}
    with transaction():
        task.draft = {key: str(value)[:MAX_TEXT] for key, value in raw.items() if key in fields}
    return task


def claim_task(task_id: int, user: User) -> HumanTask:
    """Take an open task for yourself: it leaves the others' inboxes (Camunda's claim sets the assignee).

    Raises NotFound (no such task for this user) and Conflict (done already, or claimed by someone else;
    two people claiming at once: one wins). Needs: the user may work on the task.
    """
    task = db.session.get(HumanTask, task_id)
    if task is None or not user.active or not (can_work_on(user, task) or is_candidate(user, task)):
        raise NotFound(f"there is no task {task_id} for you")
    with transaction():
        won = db.session.execute(update(HumanTask).where(
            HumanTask.id == task.id, HumanTask.status == OPEN, HumanTask.assignee.is_(None))
            .values(assignee=user.username, claimed_at=utcnow())).rowcount
        if not won:
            db.session.refresh(task)
            raise Conflict(f"'{task.name}' is {'taken by ' + task.assignee if task.assignee else task.status}")
        record_event(task.instance, "task_claimed", task.bpmn_id, task.name, agency=task.agency,
                     actor=user.username, detail={"task_id": task.id})
    db.session.refresh(task)
    return task


def release_task(task_id: int, user: User) -> HumanTask:
    """Give back a task you claimed, so the group sees it again. Raises NotFound and Conflict."""
    task = get_task(task_id, user)
    if task.status != OPEN or task.claimed_at is None or task.assignee != user.username:
        raise Conflict(f"'{task.name}' is not claimed by you")
    with transaction():
        task.assignee, task.claimed_at = None, None
        record_event(task.instance, "task_released", task.bpmn_id, task.name, agency=task.agency,
                     actor=user.username, detail={"task_id": task.id})
    return task


def assign_task(task_id: int, actor: User, username: str | None, reason: str | None = None) -> HumanTask:
    """The Business Unit gives an open task to one person (someone it is offered to), or back to its groups
    with an empty ``username`` (an admin's ``reason`` goes into the history). Raises Forbidden (not the
    Business Unit), NotFound and Conflict (done, or the person is not among those the task is offered to)."""
    if not actor.active or not ASSIGNERS & set(actor.groups or []):
        raise Forbidden("only the Business Unit assigns tasks")
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"there is no task {task_id}")
    if task.status != OPEN:
        raise Conflict(f"'{task.name}' is {task.status}")
    person = _find_user(username) if username else None
    if username and (person is None or not person.active or not is_candidate(person, task)):
        raise Conflict(f"'{task.name}' is not offered to '{username}': choose someone of its groups")
    with transaction():
        task.assignee, task.claimed_at = (person.username, utcnow()) if person else (None, None)
        record_event(task.instance, "task_assigned", task.bpmn_id, task.name, agency=task.agency,
                     actor=actor.username, detail={"task_id": task.id, "assignee": task.assignee,
                                                   **({"reason": reason.strip()} if reason else {})})
        if person is not None:
            notifications.tell([person.username], "assigned",
                               f"A task is given to you: {task.name} ({task.instance.title or 'an audit'})",
                               task.instance_id, key=f"assigned:{task.id}:{task.claimed_at.isoformat()}",
                               path=f"/tasks/{task.id}")
    return task


def complete_task(task_id: int, user: User, form: dict[str, Any]) -> HumanTask:
    """Complete an open task with the values of its form, as ``user``.

    Raises NotFound (no such task for this user), Conflict (already completed, or the audit kept
    changing under us) and FormInvalid (wrong values, or values the process could not go on with,
    under the key ``_process``; nothing is saved either way, and a process failure is written to
    the audit's history for admins).
    """
    config = current_app.config
    settings = _Settings(engine_limits(), config["MAX_AGENCIES"])
    for _attempt in range(config["COMPLETE_RETRIES"] + 1):
        try:
            return _complete_once(task_id, user, form, settings)
        except StaleDataError:
            db.session.rollback()
            log.info("task %s: another save of the audit won the race; retrying on fresh state", task_id)
        except FormInvalid as error:
            db.session.rollback()
            if PROCESS_KEY in error.errors:
                _record_failure(task_id, user, error.errors[PROCESS_KEY])
            raise
        except Exception:
            db.session.rollback()
            raise
    raise Conflict("the audit was changed by others too often while saving; try again")


@dataclass(frozen=True)
class _Settings:
    limits: EngineLimits
    max_codes: int


def _record_failure(task_id: int, user: User, message: str) -> None:
    """Write a failed completion to the audit's history (the completion itself was rolled back)."""
    task = db.session.get(HumanTask, task_id)
    with transaction():
        record_event(task.instance, "task_failed", task.bpmn_id, task.name, agency=task.agency,
                     actor=user.username, detail={"task_id": task.id, "message": message})


def case_ids_of(audit_id: int) -> list[int]:
    """The ids of the audit's cases (what a ``format=case`` field may name), in order of nomination."""
    return [case_id for case_id, _ in cases.pseudonyms_of(audit_id)]


def _find_user(username: str) -> User | None:
    """The user a ``format=user`` form field names, or None."""
    try:
        return get_user(username)
    except NotFound:
        return None


def _complete_once(task_id: int, user: User, form: dict[str, Any], settings: _Settings) -> HumanTask:
    task = db.session.get(HumanTask, task_id, populate_existing=True)
    if task is None or not can_work_on(user, task):
        raise NotFound(f"there is no task {task_id} for you")
    if task.status != OPEN:
        raise Conflict(f"'{task.name}' was already {task.status} by {task.completed_by or 'the process'}")
    instance = task.instance
    db.session.refresh(instance)
    if instance.status != RUNNING:
        raise Conflict(f"the audit is {instance.status}")
    stored = (instance.deployment.forms or {}).get(task.bpmn_id)
    audit = None if stored else load_audit(instance, settings.limits)  # a version deployed before forms were kept
    try:
        asked = TaskForm.from_json(stored) if stored else TaskForm.from_view(audit.user_task(task.engine_task_id))
        values = clean_form(asked.fields, form, max_codes=settings.max_codes, find_user=_find_user,
                            known_codes=agencies.active_codes(), case_ids=case_ids_of(instance.id))
        values.update(task_hooks.run(task, values, asked.guards, asked.providers))
        audit = audit or load_audit(instance, settings.limits)  # the workflow is loaded only to complete
        events = audit.complete(task.engine_task_id, values)
        task.status = COMPLETED
        task.completed_at = utcnow()
        task.completed_by = user.username
        task.form_data, task.draft = values, None
        db.session.flush()
        record_event(instance, "task_completed", task.bpmn_id, task.name, agency=task.agency,
                     actor=user.username, detail={"task_id": task.id, "phase": task.phase})
        save_audit(instance, audit, events, user.username)
    except TaskNotReadyError as error:
        raise Conflict(f"'{task.name}' is no longer waiting to be done") from error
    except ScriptRuntimeError as error:
        raise FormInvalid({PROCESS_KEY: f"The process could not go on with these answers: {error}"},
                          form) from error
    db.session.commit()
    return task
