"""A task's page: its instructions and its generated form; complete it, save a draft, take it, give it back,
or (the Business Unit) give it to someone."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markdown_it import MarkdownIt
from markupsafe import Markup

from ..engine.task_forms import TaskForm
from ..models import HumanTask
from ..services import agencies, cases, identity, task_records, tasks
from ..services.errors import PROCESS_KEY, FormInvalid, NotFound
from . import app_pages
from .record_forms import show_errors, show_row_errors
from .security import requires
from .task_form import Choices, build_form, params_of, posted_values

bp = Blueprint("task_pages", __name__)
# CommonMark without raw HTML: a model's instructions cannot put markup or scripts on the page
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@bp.route("/tasks/<int(max=2147483647):task_id>", methods=["GET", "POST"])
@requires()
def task(task_id: int) -> Any:
    """Show the task; on POST complete it (or save a draft), re-showing the form with messages if wrong."""
    try:
        shown = tasks.get_task(task_id, current_user)
    except NotFound:
        if request.method != "GET":
            raise
        shown = tasks.get_task_to_assign(task_id, current_user)  # the Business Unit, to give it to someone
        return render_template("task.html", task=shown, form=None, fields=[], instructions=None, problem=None,
                               assignable=identity.candidates_for(shown))
    asked = tasks.form_of(shown)
    form = build_form(asked.fields, _choices(shown), shown.draft)
    problem, records = None, {}
    if form.validate_on_submit():  # the CSRF token; the values are checked by the service
        raw = posted_values(asked.fields, request.form, _choices(shown))
        if form.save_draft.data:
            tasks.save_draft(task_id, current_user, raw | app_pages.draft(asked.app_page, request.form))
            flash("Your answers are saved as a draft. The task is not complete yet.")
            return redirect(url_for("task_pages.task", task_id=task_id))
        added, records = app_pages.posted(asked.app_page, request.form)
        try:
            task_records.complete_task(task_id, current_user, raw | added)
        except FormInvalid as error:
            problem = "; ".join(message for key, message in error.errors.items()
                                if key == PROCESS_KEY or key.startswith("rows")) or None
            show_errors(form, {key: message for key, message in error.errors.items() if key != PROCESS_KEY})
            show_row_errors(records.get("action_rows"), error.errors)
        else:
            flash(f"Done: {shown.name}")
            return redirect(url_for("inbox.inbox"))
    return show(shown, asked, form, problem, **records)


def show(shown: HumanTask, asked: TaskForm, form: FlaskForm | None = None, problem: str | None = None,
         **records: Any) -> Any:
    """The task's page: its instructions, its purpose-built part (``records`` fill it, such as a form with
    messages) and its generated form; 400 when something on it is wrong."""
    form = form if form is not None else build_form(asked.fields, _choices(shown), shown.draft)
    instructions = Markup(_MARKDOWN.render(asked.documentation)) if asked.documentation else None
    purpose_built = app_pages.context(asked.app_page, shown, current_user, records)
    fields = [(form[form_field.id], params_of(form_field, form[form_field.id], _choices(shown)))
              for form_field in asked.fields
              if form_field.id not in purpose_built.get("replaced", ())]
    wrong = form.errors or problem or any(getattr(record, "errors", None) for record in records.values())
    assignable = identity.candidates_for(shown) if tasks.ASSIGNERS & set(current_user.groups or []) else None
    return render_template("task.html", task=shown, form=form, fields=fields, instructions=instructions,
                           problem=problem, assignable=assignable, **purpose_built), 400 if wrong else 200


def _choices(shown: HumanTask) -> Choices:
    """What the app's own field types offer on this task's form, looked up once per request."""
    if "task_choices" not in g:
        g.task_choices = Choices(identity.usernames_in,
                                 [(agency.code, agency.name) for agency in agencies.list_agencies()],
                                 cases.pseudonyms_of(shown.instance_id))
    return g.task_choices


@bp.post("/tasks/<int(max=2147483647):task_id>/claim")
@requires()
def claim(task_id: int) -> Any:
    """Take the task: it leaves the others' inboxes (CSRFProtect has checked the form)."""
    tasks.claim_task(task_id, current_user)
    flash("The task is yours now")
    return redirect(url_for("task_pages.task", task_id=task_id))


@bp.post("/tasks/<int(max=2147483647):task_id>/release")
@requires()
def release(task_id: int) -> Any:
    """Give the task back to its groups."""
    tasks.release_task(task_id, current_user)
    flash("The task is back with its groups")
    return redirect(url_for("inbox.inbox"))


@bp.post("/tasks/<int(max=2147483647):task_id>/assign")
@requires(*tasks.ASSIGNERS)
def assign(task_id: int) -> Any:
    """The Business Unit gives the task to one of the people it is offered to (blank: back to its groups)."""
    chosen = request.form.get("assignee", "")[:200]
    task = tasks.assign_task(task_id, current_user, chosen)
    flash(f"The task is with {task.assignee}" if task.assignee else "The task is back with its groups")
    return redirect(url_for("task_pages.task", task_id=task_id))
