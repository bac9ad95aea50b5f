"""Running audits (Camunda's RuntimeService): start one, find one, list them, describe one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..engine.errors import ScriptRuntimeError
from ..engine.serializer import LIBRARY_VERSION, SERIALIZER_VERSION
from ..engine.views import EngineEvent
from ..engine.workflow import RunningAudit
from ..models import HumanTask, Incident, ProcessInstance, TimerJob, User, db
from ..models.instance import RUNNING
from ..models.task import COMPLETED as COMPLETED_TASK
from ..models.task import OPEN
from .audits import open_incidents
from .deployments import latest_deployment
from .errors import Conflict, Forbidden, FormInvalid, NotFound, ProcessFailed
from .persistence import engine_limits, load_audit, record_event, save_audit
from .transaction import transaction

log = logging.getLogger(__name__)
AUDIT_PROCESS = "multi_agency_audit"
STARTERS = {"business_unit", "admin"}
STATUSES = ("running", "suspended", "completed", "terminated")
MAX_LIST = 500


def start_audit(user: User, process_key: str = AUDIT_PROCESS, data: dict[str, Any] | None = None) -> ProcessInstance:
    """Start a new audit on the latest deployed version of ``process_key``, with start ``data``.

    Needs: business_unit or admin. Raises NotFound if the process was never deployed, and
    ProcessFailed (naming the element) if the process fails before its first wait state; nothing is
    stored then.
    """
    if not STARTERS.intersection(user.groups or []):
        raise Forbidden("only the Business Unit can start an audit")
    with transaction():
        instance = stage_start(process_key, user.username, data)
    return instance


def stage_start(process_key: str, started_by: str, data: dict[str, Any] | None = None) -> ProcessInstance:
    """Start an instance of the latest version of ``process_key`` in the caller's transaction (no commit).

    For services that start a process as part of something else (raising a concern starts its own
    process). Checks no permission: the caller has. Raises NotFound and ProcessFailed as start_audit.
    """
    deployment = latest_deployment(process_key)
    try:
        audit = RunningAudit.start(deployment.spec.blob, engine_limits(), data)
        instance = ProcessInstance(deployment_id=deployment.id, process_key=process_key, state=b"",
                                   serializer_version=SERIALIZER_VERSION, library_version=LIBRARY_VERSION,
                                   started_by=started_by, deployment=deployment)
        db.session.add(instance)
        db.session.flush()  # the projections need the instance id
        record_event(instance, "process_started", process_key, deployment.name, actor=started_by,
                     detail={"version": deployment.version})
        save_audit(instance, audit, audit.events, started_by)
    except ScriptRuntimeError as error:
        log.warning("starting %s version %s for %s failed: %s", process_key, deployment.version, started_by, error)
        raise ProcessFailed(f"the process could not be started: {error}", error.element_id,
                            error.element_name) from error
    return instance


EDITORS = {"business_unit", "admin"}
MAX_REASON = 500


def set_variables(instance_id: int, user: User, values: dict[str, Any], reason: str,
                  agency: str | None = None, run: bool = True) -> ProcessInstance:
    """Change process variables of a running audit (all of it, or one agency's work), with a reason.

    Waiting timers that read them are re-armed: moving a booked date or a deadline moves the wait, and
    the old time no longer fires (with ``run`` false, nothing runs until the next timer sweep or retry).
    Written to the audit's history (who, which variables, why). Needs: business_unit or admin. Raises as
    ``edit_audit``.
    """
    def change(instance: ProcessInstance, audit: RunningAudit, why: str) -> list[EngineEvent]:
        events = audit.set_data(values, agency, run)
        record_event(instance, "variables_changed", "", "process data", agency=agency, actor=user.username,
                     detail={"variables": sorted(values), "reason": why})
        return events

    return edit_audit(instance_id, user, reason, change)


def edit_audit(instance_id: int, user: User, reason: str,
               change: Callable[[ProcessInstance, RunningAudit, str], list[EngineEvent]]) -> ProcessInstance:
    """Load a running audit, let ``change`` alter it (given the reason, stripped), and save it in one transaction.

    Needs: business_unit or admin. Raises Forbidden, NotFound, FormInvalid (no reason, or what ``change``
    raises), Conflict (not running, or changed by someone else meanwhile) and ProcessFailed (the values break
    the data rules, or the process fails).
    """
    check_editor(user)
    reason = (reason or "").strip()
    if problem := reason_problem(reason):
        raise FormInvalid({"reason": problem})
    instance = get_running(instance_id)
    try:
        with transaction():
            audit = load_audit(instance, engine_limits())
            events = change(instance, audit, reason)
            save_audit(instance, audit, events, user.username)
    except StaleDataError as error:
        raise Conflict("the audit was changed by someone else meanwhile; try again") from error
    except ScriptRuntimeError as error:
        raise ProcessFailed(f"the audit was not changed: {error}", error.element_id,
                            error.element_name) from error
    return instance


def reason_problem(reason: str | None) -> str | None:
    """What is wrong with the reason given for a change, or None."""
    reason = (reason or "").strip()
    return None if 0 < len(reason) <= MAX_REASON else f"Give a reason of 1 to {MAX_REASON} characters"


def check_editor(user: User) -> None:
    """Raise Forbidden unless ``user`` may change running audits (the Business Unit, admins)."""
    if not EDITORS.intersection(user.groups or []):
        raise Forbidden("only the Business Unit can change an audit's data")


def get_running(instance_id: int) -> ProcessInstance:
    """One running audit by id; raises NotFound, and Conflict if it is not running."""
    instance = get_instance(instance_id)
    if instance.status != RUNNING:
        raise Conflict(f"the audit is {instance.status}")
    return instance


def get_instance(instance_id: int) -> ProcessInstance:
    """One audit by id; raises NotFound."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"there is no audit {instance_id}")
    return instance


def list_instances(status: str | None = None, limit: int = MAX_LIST) -> list[ProcessInstance]:
    """Audits, newest first, optionally only those with ``status`` (running, completed, or "incident")."""
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc()).limit(min(limit, MAX_LIST))
    if status == "incident":
        query = query.where(ProcessInstance.id.in_(select(Incident.instance_id).where(Incident.resolved_at.is_(None))))
    elif status is not None:
        if status not in STATUSES:
            raise NotFound(f"there is no status '{status}'; use one of {', '.join((*STATUSES, 'incident'))}")
        query = query.where(ProcessInstance.status == status)
    return list(db.session.scalars(query))


@dataclass
class InstanceSummary:
    """One audit as an operator sees it: its row, open tasks, waiting timers and open incidents."""

    instance: ProcessInstance
    open_tasks: list[HumanTask]
    timers: list[TimerJob]
    incidents: list[Incident]


def describe_instance(instance_id: int) -> InstanceSummary:
    """What an audit is waiting for and what is wrong with it, from the projections (no workflow load)."""
    instance = get_instance(instance_id)
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == OPEN)
                               .order_by(HumanTask.due_at, HumanTask.id)).all()
    timers = db.session.scalars(select(TimerJob).where(TimerJob.instance_id == instance_id)
                                .order_by(TimerJob.due_at, TimerJob.id)).all()
    return InstanceSummary(instance, list(tasks), list(timers), open_incidents(instance_id))


def get_open_task(task_id: int) -> HumanTask:
    """An open task by id; raises NotFound."""
    task = db.session.get(HumanTask, task_id)
    if task is None or task.status != OPEN:
        raise NotFound(f"there is no open task {task_id}")
    return task


def done_task_ids(instance_id: int) -> list[tuple[str, str]]:
    """(bpmn id, name) of each kind of task of the audit someone has done, for moving back to one."""
    return sorted(set(db.session.execute(select(HumanTask.bpmn_id, HumanTask.name).where(
        HumanTask.instance_id == instance_id, HumanTask.status == COMPLETED_TASK)).all()), key=lambda row: row[1])


def with_open_incidents(instance_ids: list[int]) -> set[int]:
    """Which of these audits have an open incident (one query, for lists)."""
    return set(db.session.scalars(select(Incident.instance_id).where(Incident.instance_id.in_(instance_ids),
                                                                     Incident.resolved_at.is_(None))))
