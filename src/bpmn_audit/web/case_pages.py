"""The case register in the pages: entering a child while nominating cases, and reading a child's details
(only for those allowed, and each read logged with its reason)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..services import cases, tasks
from ..services.errors import FormInvalid, NotFound
from . import task_pages
from .record_forms import CaseForm, PurposeForm, show_errors
from .security import requires

bp = Blueprint("case_pages", __name__)
NOMINATION_PAGE = "nominate_cases"


@bp.post("/tasks/<int(max=2147483647):task_id>/cases")
@requires()
def add_case(task_id: int) -> Any:
    """Enter one child into the register of the nomination task's audit (CSRFProtect has checked the form)."""
    task = tasks.get_task(task_id, current_user)
    asked = tasks.form_of(task)
    if asked.app_page != NOMINATION_PAGE:
        raise NotFound(f"'{task.name}' does not nominate cases")
    form = CaseForm(prefix="case")
    try:
        added = cases.nominate_case(task.instance_id, current_user, form.service_values())
    except FormInvalid as error:
        errors = {("other_id_value" if key == "other_ids" else key): message for key, message in error.errors.items()}
        left = show_errors(form, errors)
        return task_pages.show(task, asked, problem="; ".join(left) or None, case_form=form)
    flash(f"Added to the case register as {added.pseudonym}")
    return redirect(url_for("task_pages.task", task_id=task_id, _anchor="case-register"))


@bp.route("/cases/<int(max=2147483647):case_id>", methods=["GET", "POST"])
@requires()
def case(case_id: int) -> Any:
    """Ask why, then show the child's details: each read is written to the register's access log."""
    summary = cases.get_case(case_id, current_user)
    form = PurposeForm()
    details = None
    if form.validate_on_submit():
        try:
            details = cases.read_case(case_id, current_user, form.purpose.data)
        except FormInvalid as error:
            show_errors(form, error.errors)
    return render_template("case.html", case=summary, form=form, details=details), 400 if form.errors else 200
