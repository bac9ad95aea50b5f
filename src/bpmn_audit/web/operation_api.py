"""The JSON API's admin operations, on the API's blueprint: suspend, resume, terminate or retry an audit, move
it back or forward, skip a task, delete a test audit, or change its process data (each with a reason, written
to its history), and the system's health."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from werkzeug.exceptions import BadRequest

from ..models.base import utcnow
from ..services import operations, runtime
from ..services.timers import retry_instance
from .api import bp
from .model_files import posted_body

CHANGES = {"suspend": operations.suspend, "resume": operations.resume, "terminate": operations.terminate}


def operate(audit_id: int, operation: str) -> Any:
    """Suspend, resume, terminate or retry an audit (``{"reason": "..."}``); admins only."""
    operations.check_operator(g.user)
    reason = posted_body().get("reason", "")
    if not isinstance(reason, str):
        raise BadRequest('"reason" must be text')
    if operation == "retry":
        result = retry_instance(audit_id, g.user.username)
        return jsonify(audit_id=audit_id, resolved=result.resolved, fired=result.fired,
                       incident=result.incident.message if result.incident else None)
    instance = CHANGES[operation](audit_id, g.user, reason)
    return jsonify(audit_id=audit_id, status=instance.status)


for _name in ("suspend", "resume", "terminate", "retry"):  # a rule each, as the OpenAPI document lists them
    bp.add_url_rule(f"/audits/<int(max=2147483647):audit_id>/{_name}", "operate", operate, methods=["POST"],
                    defaults={"operation": _name})


@bp.post("/audits/<int(max=2147483647):audit_id>/data")
def edit_data(audit_id: int) -> Any:
    """Set process variables (``{"values": {...}, "reason": "..."}``), checked by the data rules; nothing runs
    until the next sweep or a retry (admins)."""
    operations.check_operator(g.user)
    body = posted_body()
    values, reason = body.get("values"), body.get("reason", "")
    if not isinstance(values, dict) or not isinstance(reason, str):
        raise BadRequest('send {"values": {name: value, ...}, "reason": text}')
    instance = runtime.set_variables(audit_id, g.user, values, reason, run=False)
    return jsonify(audit_id=audit_id, status=instance.status, changed=sorted(values))


@bp.post("/audits/<int(max=2147483647):audit_id>/back")
def move_back(audit_id: int) -> Any:
    """Reopen the task ``bpmn_id`` done most recently, with its earlier answers, undoing what came after (admins)."""
    operations.check_operator(g.user)
    bpmn_id, reason = _task_and_reason("a task done before")
    instance = operations.move_back(audit_id, g.user, bpmn_id, reason)
    return jsonify(audit_id=audit_id, status=instance.status)


@bp.post("/audits/<int(max=2147483647):audit_id>/forward")
def move_forward(audit_id: int) -> Any:
    """Go forward until the task ``bpmn_id`` opens, skipping every open task on the way (admins); refused, changing
    nothing, when the audit cannot get there."""
    operations.check_operator(g.user)
    bpmn_id, reason = _task_and_reason("a later task")
    skipped = operations.move_forward(audit_id, g.user, bpmn_id, reason)
    return jsonify(audit_id=audit_id, status="running", skipped=skipped)


def _task_and_reason(which: str) -> tuple[str, str]:
    """``bpmn_id`` and ``reason`` of the posted body; BadRequest if either is not text."""
    body = posted_body()
    bpmn_id, reason = body.get("bpmn_id"), body.get("reason", "")
    if not isinstance(bpmn_id, str) or not isinstance(reason, str) or len(bpmn_id) > 200:
        raise BadRequest(f'send {{"bpmn_id": the id of {which}, "reason": text}}')
    return bpmn_id, reason


@bp.post("/tasks/<int(max=2147483647):task_id>/skip")
def skip_task(task_id: int) -> Any:
    """Complete an open task with no answers and run its audit on (admins)."""
    operations.check_operator(g.user)
    reason = posted_body().get("reason", "")
    if not isinstance(reason, str):
        raise BadRequest('"reason" must be text')
    task = operations.skip(task_id, g.user, reason)
    return jsonify(task_id=task.id, status=task.status)


@bp.delete("/audits/<int(max=2147483647):audit_id>")
def delete_audit(audit_id: int) -> Any:
    """Delete a terminated test audit for good (``{"confirm": its number, "reason": "..."}``); admins only."""
    operations.check_operator(g.user)
    body = posted_body()
    confirm, reason = body.get("confirm"), body.get("reason", "")
    if not isinstance(confirm, int | str) or isinstance(confirm, bool) or not isinstance(reason, str):
        raise BadRequest('send {"confirm": the audit\'s number, "reason": text}')
    operations.delete_audit(audit_id, g.user, str(confirm)[:20], reason)
    return "", 204


@bp.get("/health")
def system_health() -> Any:
    """Workers, backlogs, incidents and the database's size (admins)."""
    operations.check_operator(g.user)
    found = operations.health(utcnow())
    return jsonify(workers=[{"name": worker.heartbeat.name, "last_seen_at": worker.heartbeat.last_seen_at.isoformat(),
                             "alive": worker.alive} for worker in found.workers],
                   timers_due=found.timers_due, open_incidents=found.open_incidents,
                   emails_waiting=found.emails_waiting, emails_failed=found.emails_failed,
                   database_bytes=found.database_bytes, audits=found.counts)
