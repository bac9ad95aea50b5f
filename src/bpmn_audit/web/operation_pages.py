"""The admin's pages: the audits with filters and counts, one audit inspected (its diagram, open tasks, waiting
timers, the engine's task tree, its process data, its full history, its incidents with their stacks), the
operations on it (suspend, resume, terminate, retry; each confirmed, with a reason), and the system's health.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, SubmitField, TextAreaField

from ..models.base import utcnow
from ..services import audits, diagrams, operations, runtime, tasks
from ..services.errors import Conflict, FormInvalid, ProcessFailed
from ..services.persistence import engine_limits, load_audit
from ..services.timers import retry_instance
from .paging import requested_page
from .record_forms import show_errors
from .security import requires

bp = Blueprint("operation_pages", __name__, url_prefix="/operations")
PAGE_SIZE = 25
#: the most of an audit's process data the page shows
MAX_DATA_CHARS = 20_000
OPERATIONS = {"suspend": operations.suspend, "resume": operations.resume, "terminate": operations.terminate}


class OperationForm(FlaskForm):
    """An operation on an audit: why, and that the admin means it."""

    reason = TextAreaField("Why?", widget=GovTextArea())
    confirm = BooleanField("I am sure", widget=GovCheckboxInput())
    go = SubmitField("Do it", widget=GovSubmitInput())


class DataForm(FlaskForm):
    """Process variables to set, as a JSON object, why, and that the admin means it."""

    values = TextAreaField("Variables to set, as a JSON object", widget=GovTextArea())
    reason = TextAreaField("Why?", widget=GovTextArea())
    confirm = BooleanField("I am sure", widget=GovCheckboxInput())
    go = SubmitField("Change the data", widget=GovSubmitInput())


@bp.get("")
@requires("admin")
def audit_list() -> Any:
    """The audits, filtered (status, process, version, phase, overdue, agency, started between), with counts."""
    page = requested_page()
    filters = operations.Filters.from_args(request.args)
    found, total, counts = operations.find_audits(filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("operations.html", audits=found, total=total, counts=counts, filters=filters, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), statuses=operations.LIST_STATUSES,
                           args={key: value for key, value in request.args.items() if key != "page"},
                           troubled=runtime.with_open_incidents([audit.id for audit in found]))


@bp.get("/audits/<int(max=2147483647):audit_id>")
@requires("admin")
def inspect(audit_id: int) -> Any:
    """One audit, as an admin sees it."""
    return _inspector(audit_id, OperationForm(), DataForm(), show_data=True)


@bp.post("/audits/<int(max=2147483647):audit_id>/<any(suspend, resume, terminate, retry):operation>")
@requires("admin")
def operate(audit_id: int, operation: str) -> Any:
    """Suspend, resume, terminate or retry the audit, once confirmed and with a reason."""
    if operation == "retry":
        def action(reason: str) -> None:
            operations.check_operator(current_user)
            result = retry_instance(audit_id, current_user.username)
            if result.incident:
                raise Conflict(f"it failed again: {result.incident.message}")
        return _confirmed(audit_id, operation, action, "Retried: the audit has run on")
    return _confirmed(audit_id, operation, lambda reason: OPERATIONS[operation](audit_id, current_user, reason),
                      f"The audit is {'running' if operation == 'resume' else operation + 'ed'}")


@bp.post("/audits/<int(max=2147483647):audit_id>/data")
@requires("admin")
def edit_data(audit_id: int) -> Any:
    """Set process variables (a JSON object) with a reason, checked by the data rules; nothing runs until the
    next sweep or a retry."""
    form = DataForm()
    problem = None
    if form.validate_on_submit():
        try:
            values = json.loads(form.values.data or "")
        except ValueError as error:
            values, problem = None, f"The values are not JSON: {error}"
        if values is not None and not isinstance(values, dict):
            problem = 'Give the values as a JSON object, like {"poison": false}'
        elif not form.confirm.data:
            form.confirm.errors = ["Tick to say you are sure"]
        elif values is not None:
            try:
                operations.check_operator(current_user)
                runtime.set_variables(audit_id, current_user, values, form.reason.data or "", run=False)
                flash("The process data is changed: retry the audit or let the sweep run it")
                return redirect(url_for("operation_pages.inspect", audit_id=audit_id))
            except FormInvalid as error:
                problem = "; ".join(show_errors(form, error.errors)) or None
            except (Conflict, ProcessFailed) as error:
                problem = str(error)
    return _shown_again(audit_id, OperationForm(), problem or "Check the form", "data", form)


@bp.post("/audits/<int(max=2147483647):audit_id>/delete")
@requires("admin")
def delete(audit_id: int) -> Any:
    """Delete a terminated test audit for good, once its number is typed."""
    form = OperationForm()
    problem = None
    if form.validate_on_submit():
        try:
            operations.delete_audit(audit_id, current_user, request.form.get("confirm_number", "")[:20],
                                    form.reason.data or "")
            flash(f"Audit {audit_id} is deleted")
            return redirect(url_for("operation_pages.audit_list"))
        except FormInvalid as error:
            problem = "; ".join(show_errors(form, error.errors)) or None
        except Conflict as error:
            problem = str(error)
    return _shown_again(audit_id, form, problem or "Check the form", "delete")


@bp.post("/audits/<int(max=2147483647):audit_id>/back")
@requires("admin")
def move_back(audit_id: int) -> Any:
    """Reopen a task done before (its earlier answers kept) and undo what came after it."""
    bpmn_id = (request.form.get("bpmn_id") or "")[:200]
    return _confirmed(audit_id, "back", lambda reason: operations.move_back(audit_id, current_user, bpmn_id, reason),
                      f"The audit is back at {bpmn_id}")


@bp.post("/audits/<int(max=2147483647):audit_id>/forward")
@requires("admin")
def move_forward(audit_id: int) -> Any:
    """Go forward to a later task, skipping every open task on the way (refused, changing nothing, if it cannot)."""
    bpmn_id = (request.form.get("bpmn_id") or "")[:200]
    return _confirmed(audit_id, "forward",
                      lambda reason: operations.move_forward(audit_id, current_user, bpmn_id, reason),
                      f"The audit has moved forward to {bpmn_id}")


@bp.post("/tasks/<int(max=2147483647):task_id>/skip")
@requires("admin")
def skip(task_id: int) -> Any:
    """Complete an open task with no answers and run the audit on."""
    task = runtime.get_open_task(task_id)
    return _confirmed(task.instance_id, "skip", lambda reason: operations.skip(task_id, current_user, reason),
                      f"'{task.name}' is skipped")


@bp.post("/tasks/<int(max=2147483647):task_id>/assign")
@requires("admin")
def reassign(task_id: int) -> Any:
    """Give an open task to someone it is offered to (nobody: back to its groups)."""
    task = runtime.get_open_task(task_id)
    assignee = (request.form.get("assignee") or "").strip()[:200] or None
    return _confirmed(task.instance_id, "assign",
                      lambda reason: tasks.assign_task(task_id, current_user, assignee, reason=reason),
                      f"'{task.name}' is given to {assignee or 'its groups'}")


def _confirmed(audit_id: int, operation: str, action: Any, done: str) -> Any:
    """Run ``action(reason)`` once the form is confirmed; else show the audit again with what is wrong."""
    form = OperationForm()
    problem = None
    if form.validate_on_submit():
        if not form.confirm.data:
            form.confirm.errors = ["Tick to say you are sure"]
        else:
            try:
                action(form.reason.data or "")
                flash(done)
                return redirect(url_for("operation_pages.inspect", audit_id=audit_id))
            except FormInvalid as error:
                problem = "; ".join(show_errors(form, error.errors)) or None
            except (Conflict, ProcessFailed) as error:
                problem = str(error)
    return _shown_again(audit_id, form, problem or "Check the form", operation)


def _shown_again(audit_id: int, form: FlaskForm, problem: str | None, operation: str,
                 data_form: FlaskForm | None = None) -> Any:
    return _inspector(audit_id, form, data_form or DataForm(), problem=problem, failed=operation), 400


def _inspector(audit_id: int, form: FlaskForm, data_form: FlaskForm, show_data: bool = False, **shown: Any) -> str:
    """The inspector page: the audit, its engine state, its history and emails, and the operations' forms."""
    summary = runtime.describe_instance(audit_id)
    running = load_audit(summary.instance, engine_limits())
    data = json.dumps(operations.shown_data(summary.instance, running.data_by_agency(), current_user), indent=2,
                      sort_keys=True, default=str) if show_data else ""
    open_ids = {task.bpmn_id for task in summary.open_tasks}
    return render_template("inspect.html", summary=summary, tree=running.task_tree(), data=data[:MAX_DATA_CHARS],
                           cut=len(data) > MAX_DATA_CHARS, form=form, data_form=data_form, now=utcnow(),
                           history=audits.history(current_user, audit_id, limit=500),
                           emails=operations.emails_of(audit_id), done_tasks=runtime.done_task_ids(audit_id),
                           tasks_ahead=diagrams.in_diagram_order(summary.instance, [
                               task for task in running.user_task_specs() if task[0] not in open_ids]),
                           **shown)


@bp.get("/health")
@requires("admin")
def health() -> Any:
    """Workers and their heartbeats, the backlogs, open incidents, the database's size."""
    return render_template("health.html", health=operations.health(utcnow()))
