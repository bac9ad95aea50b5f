"""Loading and saving running audits, and keeping the query projections in step on every save.

A save writes the compressed state under the instance's optimistic lock and, in the same
transaction, brings the human-task and timer-job tables up to date and appends history, so that
no page, list or sweep ever has to deserialize a workflow to answer a query.
"""

from __future__ import annotations

import json
from datetime import date

from flask import current_app
from sqlalchemy import select

from ..engine.limits import EngineLimits
from ..engine.serializer import LIBRARY_VERSION, SERIALIZER_VERSION
from ..engine.views import EngineEvent, UserTaskView
from ..engine.workflow import RunningAudit
from ..models import HistoryEvent, HumanTask, ProcessInstance, TimerJob, TrackerAction, db
from ..models.base import utcnow
from ..models.instance import COMPLETED
from ..models.task import CANCELLED, GROUP, OPEN, USER, TaskCandidate
from . import notifications
from .identity import AGENCY_SCOPED_GROUPS


def engine_limits() -> EngineLimits:
    """The engine's limits from the app's settings; each public service reads them once, at its edge."""
    return EngineLimits.from_settings(current_app.config)


def load_audit(instance: ProcessInstance, limits: EngineLimits) -> RunningAudit:
    """The instance's workflow, deserialized against its deployment's spec, to run under ``limits``."""
    return RunningAudit.load(instance.deployment.spec.blob, instance.state, limits)


def save_audit(instance: ProcessInstance, audit: RunningAudit, events: list[EngineEvent],
               actor: str | None) -> None:
    """Stage the new state and projections in the session; the calling service commits.

    The flush at commit raises StaleDataError if another transaction saved the instance since it
    was loaded.
    """
    instance.state = audit.dump()
    instance.serializer_version = SERIALIZER_VERSION
    instance.library_version = LIBRARY_VERSION
    data = audit.data
    if data.get("title") and instance.title != data["title"]:
        instance.title = str(data["title"])[:300]
    _sync_tasks(instance, audit)
    _sync_timers(instance, audit)
    for event in events:
        detail = dict(event.detail)
        if event.kind == "notification":
            detail["told"] = notifications.for_engine_event(instance, event)
        record_event(instance, event.kind, event.bpmn_id, event.name, agency=event.agency,
                     actor=actor if event.kind not in ("timer_fired", "notification") else None,
                     detail=detail)
    if audit.is_completed and instance.status != COMPLETED:
        instance.status = COMPLETED
        instance.ended_at = utcnow()
        _store_tracker_actions(instance, data.get("actions") or [])
    db.session.add(instance)


def record_event(instance: ProcessInstance, kind: str, bpmn_id: str, name: str, agency: str | None = None,
                 actor: str | None = None, detail: dict | None = None) -> None:
    """Append one history event for the instance."""
    db.session.add(HistoryEvent(instance_id=instance.id, at=utcnow(), kind=kind, bpmn_id=bpmn_id, name=name,
                                agency=agency, actor=actor, detail=detail or None))


def _sync_tasks(instance: ProcessInstance, audit: RunningAudit) -> None:
    ready = {view.task_id: view for view in audit.user_tasks()}
    open_rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.status == OPEN)).all()
    known = set()
    lane_groups = _lane_groups(instance)
    for row in open_rows:
        known.add(row.engine_task_id)
        if row.engine_task_id not in ready:
            row.status = CANCELLED
            row.completed_at = utcnow()
        else:
            _refresh(row, ready[row.engine_task_id], lane_groups)
    new_tasks = []
    reopened = {row.engine_task_id: row for row in db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status != OPEN,
        HumanTask.engine_task_id.in_([key for key in ready if key not in known])))}
    for task_id, view in ready.items():
        if task_id in known:
            continue
        if task_id in reopened:  # an admin moved the audit back to a task done before: the same task again
            _reopen(reopened[task_id], view)
            continue
        row = HumanTask(instance_id=instance.id, engine_task_id=task_id, bpmn_id=view.bpmn_id,
                        assignee=view.assignee, agency=view.agency, status=OPEN, created_at=utcnow())
        _refresh(row, view, lane_groups)
        new_tasks.append(row)
    if new_tasks:
        db.session.add_all(new_tasks)
        db.session.flush()  # their ids, for the links in the emails
        notifications.offer_tasks(instance, new_tasks)


def _refresh(row: HumanTask, view: UserTaskView, lane_groups: dict[str, str]) -> None:
    """Give a task's row what its definition says now: its name, phase, lane, due date (a deadline extended,
    moved) and who may do it (a version it was migrated to may say otherwise). A claim stays."""
    groups = _groups(view, lane_groups)
    row.name, row.phase, row.lane = view.name, view.phase, _display_lane(view, lane_groups)
    row.due_at, row.priority = view.due_at, view.priority
    if row.id is None or (row.candidate_groups, row.candidate_users) != (groups, view.candidate_users):
        row.candidate_groups, row.candidate_users = groups, view.candidate_users
        row.candidates = candidates_for(groups, view.candidate_users, view.agency)


def _reopen(row: HumanTask, view: UserTaskView) -> None:
    """Open a done task again, its earlier answers as its draft."""
    row.status, row.completed_at, row.completed_by, row.due_at = OPEN, None, None, view.due_at
    row.draft = {key: value if isinstance(value, str) else json.dumps(value)
                 for key, value in (row.form_data or {}).items()} or row.draft


def candidates_for(groups: list[str], users: list[str], agency: str | None) -> list[TaskCandidate]:
    """The candidate rows of a task: each group (scoped to the task's agency where the group is agency
    staff) and each user. The same rule as ``identity.can_work_on``, in rows an inbox can query."""
    rows = [TaskCandidate(kind=GROUP, name=group, agency=agency if group in AGENCY_SCOPED_GROUPS else None)
            for group in dict.fromkeys(groups)]
    return rows + [TaskCandidate(kind=USER, name=user) for user in dict.fromkeys(users)]


def _lane_groups(instance: ProcessInstance) -> dict[str, str]:
    """The routing of the instance's version (the setting in force only for versions deployed before
    routing was stored with them)."""
    return instance.deployment.lane_groups or current_app.config["LANE_GROUPS"]


def _groups(view: UserTaskView, lane_groups: dict[str, str]) -> list[str]:
    """``camunda:candidateGroups`` if set, else the group the task's lane maps to (if any)."""
    if view.candidate_groups or view.candidate_users or view.assignee:
        return view.candidate_groups
    group = lane_groups.get(view.lane or "")
    return [group] if group else []


def _display_lane(view: UserTaskView, lane_groups: dict[str, str]) -> str | None:
    """The lane whose group does the task: a Business Unit task inside an agency's subprocess takes
    the subprocess's lane in SpiffWorkflow, but belongs to the Business Unit's lane for people."""
    if not view.candidate_groups or lane_groups.get(view.lane or "") in view.candidate_groups:
        return view.lane
    lanes_by_group = {group: lane for lane, group in lane_groups.items()}
    return lanes_by_group.get(view.candidate_groups[0], view.lane)


def _sync_timers(instance: ProcessInstance, audit: RunningAudit) -> None:
    waiting = {view.task_id: view for view in audit.timers()}
    rows = db.session.scalars(select(TimerJob).where(TimerJob.instance_id == instance.id)).all()
    for row in rows:
        if row.engine_task_id not in waiting:
            db.session.delete(row)
        else:
            row.due_at = waiting.pop(row.engine_task_id).due_at
    for task_id, view in waiting.items():
        db.session.add(TimerJob(instance_id=instance.id, engine_task_id=task_id, bpmn_id=view.bpmn_id,
                                name=view.name, agency=view.agency, due_at=view.due_at))


def _store_tracker_actions(instance: ProcessInstance, actions: list[dict]) -> None:
    for item in actions:
        due = item.get("due_date")
        db.session.add(TrackerAction(instance_id=instance.id, action=item["action"],
                                     source_finding=item.get("source_finding"), review_type=item["review_type"],
                                     owner_agency=item["owner_agency"], owner_person=item.get("owner_person"),
                                     due_date=date.fromisoformat(due) if due else None))
