"""The JSON API under ``/api/v1/``: a person's tasks and audits, signed in with a bearer token.

Each route reads its input, calls one service and answers JSON; who may do what is decided by the
services (a task the caller may not see is a 404, as in the pages). Every error is JSON with a 4xx
status (the handlers in ``web/__init__``). The OpenAPI document describing these routes is
``openapi.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import BadRequest, Unauthorized

from ..models import HumanTask, ProcessInstance, User
from ..models.base import utcnow
from ..services import (
    agencies,
    agency_audits,
    api_tokens,
    audits,
    cases,
    concerns,
    extensions,
    runtime,
    task_records,
    tasks,
)
from ..services.errors import FormInvalid
from .openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
#: routes anyone may call without a token
PUBLIC = {"api.openapi"}
DEFAULT_PAGE_SIZE = 50


@bp.before_request
def authenticate() -> None:
    """Every route but the public ones needs ``Authorization: Bearer <token>`` of an active user."""
    if request.endpoint in PUBLIC:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = api_tokens.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Unauthorized("sign in with a bearer token: Authorization: Bearer <token> "
                           "(bpmn-audit users token USERNAME makes one)")
    g.user = user


@bp.after_request
def no_store(response: Any) -> Any:
    """Answers hold personal data: no cache keeps them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(document())


@bp.get("/me")
def me() -> Any:
    """Who the token belongs to."""
    user: User = g.user
    return jsonify(username=user.username, name=user.name, groups=list(user.groups or []), agency=user.agency,
                   email=user.email)


@bp.get("/agencies")
def list_agencies() -> Any:
    """The partnership's active agencies: the codes an audit chooses from."""
    return jsonify(agencies=[{"code": agency.code, "name": agency.name} for agency in agencies.list_agencies()])


@bp.get("/tasks")
def list_tasks() -> Any:
    """The caller's inbox, with its filters and paging."""
    only = tasks.InboxFilter(assigned_to_me=_flag("assigned_to_me"), my_groups=_flag("my_groups"),
                             overdue=_flag("overdue"), audit_id=_whole("audit", None, 1, 2**31 - 1))
    page = _whole("page", 1, 1, 1_000_000)
    per_page = _whole("per_page", DEFAULT_PAGE_SIZE, 1, tasks.MAX_PAGE)
    found = tasks.inbox(g.user, limit=per_page, offset=(page - 1) * per_page, only=only)
    return jsonify(tasks=[_task_json(task) for task in found], page=page, per_page=per_page,
                   total=tasks.count_inbox(g.user, only))


@bp.get("/tasks/<int(max=2147483647):task_id>")
def show_task(task_id: int) -> Any:
    """One task, with its instructions and the JSON Schema of the data completing it takes."""
    task = tasks.get_task(task_id, g.user)
    form = tasks.form_of(task)
    return jsonify(_task_json(task) | {"documentation": form.documentation,
                                       "schema": task_records.schema(task, form, g.user)})


@bp.post("/tasks/<int(max=2147483647):task_id>/complete")
def complete(task_id: int) -> Any:
    """Complete a task with ``{"data": {...}}``."""
    body = _json_body()
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise BadRequest('"data" must be an object of the task\'s fields')
    return jsonify(_task_json(task_records.complete_task(task_id, g.user, data)))


@bp.post("/tasks/<int(max=2147483647):task_id>/claim")
def claim(task_id: int) -> Any:
    """Take a task for yourself."""
    return jsonify(_task_json(tasks.claim_task(task_id, g.user)))


@bp.post("/tasks/<int(max=2147483647):task_id>/release")
def release(task_id: int) -> Any:
    """Give a claimed task back to its groups."""
    return jsonify(_task_json(tasks.release_task(task_id, g.user)))


@bp.post("/tasks/<int(max=2147483647):task_id>/assign")
def assign(task_id: int) -> Any:
    """The Business Unit gives a task to someone (``{"assignee": "username"}``; null gives it back)."""
    assignee = _json_body().get("assignee")
    if assignee is not None and (not isinstance(assignee, str) or len(assignee) > 200):
        raise BadRequest('"assignee" must be a username or null')
    return jsonify(_task_json(tasks.assign_task(task_id, g.user, assignee or "")))


@bp.get("/audits")
def list_audits() -> Any:
    """The audits the caller may see, newest first, a page at a time."""
    page = _whole("page", 1, 1, 1_000_000)
    per_page = _whole("per_page", DEFAULT_PAGE_SIZE, 1, audits.MAX_PAGE)
    found, total = audits.list_audits(g.user, limit=per_page, offset=(page - 1) * per_page)
    return jsonify(audits=[_audit_json(instance) for instance in found], page=page, per_page=per_page, total=total)


@bp.get("/audits/<int(max=2147483647):audit_id>")
def show_audit(audit_id: int) -> Any:
    """One audit: its phase, its waiting deadlines, each agency's progress and what holds it up."""
    shown = audits.progress(g.user, audit_id, utcnow())
    return jsonify(_audit_json(shown.instance) | {
        "phase": shown.phase,
        "deadlines": [{"name": name, "due": _iso(due)} for name, due in shown.deadlines],
        "agencies": [{"agency": a.agency, "completed": a.completed, "open": [name for _, name in a.open],
                      "overdue": a.overdue} for a in shown.agencies],
        "held_up": [{"at": held.where, "since": _iso(held.since)} | ({"why": held.message} if held.message else {})
                    for held in shown.held_up],
        "stopped": {"status": shown.stopped.status, "by": shown.stopped.by, "at": _iso(shown.stopped.at)}
        | ({"why": shown.stopped.reason} if shown.stopped.reason else {}) if shown.stopped else None})


@bp.post("/audits")
def start_audit() -> Any:
    """Start an audit of the partnership's audit process (Business Unit); its set-up is its first task."""
    if request.content_length:
        _json_body()  # a body, if sent, must be JSON; the audit's details come with its set-up task
    instance = runtime.start_audit(g.user)
    return jsonify(_audit_json(instance)), 201, {"Location": f"{bp.url_prefix}/audits/{instance.id}"}


@bp.get("/audits/<int(max=2147483647):audit_id>/cases")
def list_cases(audit_id: int) -> Any:
    """The audit's cases by pseudonym (never a child's details: those are read in the pages, with a reason)."""
    found = cases.list_cases(audit_id, g.user)
    return jsonify(cases=[{"id": case.id, "pseudonym": case.pseudonym, "nominated_by": case.nominated_by,
                           "nominated_at": _iso(case.nominated_at)} for case in found])


@bp.get("/audits/<int(max=2147483647):audit_id>/reports/<string(maxlength=100):agency>")
def show_report(audit_id: int, agency: str) -> Any:
    """One agency's report: each case's finding and the return (404 before it is shared, for other agencies)."""
    audits.get_audit(g.user, audit_id)
    shown = agency_audits.agency_audit(audit_id, agency, g.user)
    return jsonify(agency=shown.agency, audit_id=shown.audit_id, missing=shown.missing,
                   findings=[{"case_id": case_id, "pseudonym": pseudonym, **(finding or {})}
                             for case_id, pseudonym, finding in shown.cases],
                   agency_return=shown.agency_return)


@bp.get("/audits/<int(max=2147483647):audit_id>/concerns")
def list_concerns(audit_id: int) -> Any:
    """The audit's immediate concerns, newest first (for those who may raise them)."""
    audits.get_audit(g.user, audit_id)
    return jsonify(concerns=[_concern_json(concern) for concern in concerns.list_concerns(audit_id, g.user)])


@bp.post("/audits/<int(max=2147483647):audit_id>/concerns")
def raise_concern(audit_id: int) -> Any:
    """Raise an immediate concern (``{"summary": ..., "case_id": ...}``): the Business Unit is told at once."""
    audits.get_audit(g.user, audit_id)
    body = _json_body()
    case_id, summary = body.get("case_id"), body.get("summary")
    if case_id is not None and (not isinstance(case_id, int) or isinstance(case_id, bool)):
        raise BadRequest('"case_id" must be the id of one of the audit\'s cases, or null')
    if not isinstance(summary, str):
        raise FormInvalid({"summary": "Describe the concern as text"})
    raised = concerns.raise_concern(audit_id, g.user, summary, case_id)
    return jsonify(_concern_json(raised)), 201


@bp.get("/audits/<int(max=2147483647):audit_id>/deadlines")
def list_deadlines(audit_id: int) -> Any:
    """The audit's planned deadlines and whether each can still be extended (Business Unit)."""
    return jsonify(_deadlines_json(extensions.form(g.user, audit_id, utcnow())))


@bp.post("/audits/<int(max=2147483647):audit_id>/deadlines")
def extend_deadline(audit_id: int) -> Any:
    """Extend a deadline (``{"deadline", "due_on", "reason", "agency", "move_later"}``); the people affected are
    told."""
    body = _json_body()
    deadline, due_on, reason = body.get("deadline"), body.get("due_on"), body.get("reason")
    agency, move_later = body.get("agency"), body.get("move_later", False)
    if not isinstance(deadline, str):
        raise FormInvalid({"deadline": "Name the deadline to extend, such as audit_due"})
    try:
        day = date.fromisoformat(due_on) if isinstance(due_on, str) and len(due_on) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise FormInvalid({"due_on": "Give the new date as YYYY-MM-DD"})
    if not isinstance(reason, str):
        raise FormInvalid({"reason": "Give the reason as text"})
    if (agency is not None and not isinstance(agency, str)) or not isinstance(move_later, bool):
        raise BadRequest('"agency" must be an agency code or null, and "move_later" true or false')
    extensions.extend(audit_id, g.user, deadline, day, reason, agency=agency, move_later=move_later)
    return jsonify(_deadlines_json(extensions.form(g.user, audit_id, utcnow())))


def _deadlines_json(offered: extensions.ExtensionForm) -> dict[str, Any]:
    return {"audit_id": offered.instance.id, "agencies": offered.agencies,
            "deadlines": [{"deadline": choice.deadline.key, "name": choice.deadline.name,
                           "due": _iso(choice.due_at), "extendable": choice.open,
                           "for_one_agency": choice.deadline.for_agency} for choice in offered.choices]}


def _concern_json(concern: concerns.ConcernView) -> dict[str, Any]:
    return {"id": concern.id, "audit_id": concern.audit_id, "pseudonym": concern.pseudonym,
            "summary": concern.summary, "raised_by": concern.raised_by, "raised_agency": concern.raised_agency,
            "raised_at": _iso(concern.raised_at), "open": concern.open, "outcome": concern.outcome}


def _audit_json(instance: ProcessInstance) -> dict[str, Any]:
    return {"id": instance.id, "title": instance.title, "process_key": instance.process_key,
            "status": instance.status, "started_at": _iso(instance.started_at), "ended_at": _iso(instance.ended_at)}


def _task_json(task: HumanTask) -> dict[str, Any]:
    return {"id": task.id, "name": task.name, "audit_id": task.instance_id, "phase": task.phase,
            "agency": task.agency, "due": _iso(task.due_at), "overdue": _overdue(task),
            "assignee": task.assignee, "status": task.status}


def _overdue(task: HumanTask) -> bool:
    return task.status == "open" and task.due_at is not None and task.due_at < utcnow()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    try:
        body = current_app.json.loads(request.get_data(cache=True))  # within MAX_CONTENT_LENGTH
    except ValueError as error:
        raise BadRequest(f"the body is not JSON the API takes: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    return body


def _flag(name: str) -> bool:
    value = request.args.get(name, "false").lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise BadRequest(f"{name} must be true or false")
    return value in ("true", "1", "yes")


def _whole(name: str, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 10 or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(value)
