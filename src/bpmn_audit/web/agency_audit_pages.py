"""An agency's audit in the pages, from its report task: a finding per case (each on its own page), and the
agency's return. Both save part-done; the task completes once they are whole."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..models import HumanTask
from ..services import agency_audits, tasks
from ..services.errors import FormInvalid, NotFound
from . import task_pages
from .app_pages import return_choices
from .record_forms import FindingForm, ReturnForm, show_errors
from .security import requires

bp = Blueprint("agency_audit_pages", __name__)
AGENCY_AUDIT_PAGE = "submit_agency_report"
FINDING_FIELDS = ("involved", "involvement_summary", "worked_well", "areas_for_development", "voice_of_child",
                  "grading", "recommendations")


def _report_task(task_id: int) -> HumanTask:
    """The agency report task, for someone who may work on it; NotFound for any other task."""
    task = tasks.get_task(task_id, current_user)
    if tasks.form_of(task).app_page != AGENCY_AUDIT_PAGE or not task.agency:
        raise NotFound(f"'{task.name}' is not an agency's audit")
    return task


@bp.route("/tasks/<int(max=2147483647):task_id>/cases/<int(max=2147483647):case_id>", methods=["GET", "POST"])
@requires()
def finding(task_id: int, case_id: int) -> Any:
    """The agency's finding on one case: show it, save it (part-done is fine), back to the task."""
    task = _report_task(task_id)
    audit = agency_audits.agency_audit(task.instance_id, task.agency, current_user)
    found = next(((pseudonym, saved) for known, pseudonym, saved in audit.cases if known == case_id), None)
    if found is None:
        raise NotFound(f"there is no case {case_id} in this audit")
    pseudonym, saved = found
    form = FindingForm(data=_as_form(saved))
    if form.validate_on_submit():
        try:
            agency_audits.save_finding(task.instance_id, task.agency, case_id, current_user,
                                       {name: form[name].data for name in FINDING_FIELDS})
        except FormInvalid as error:
            show_errors(form, error.errors)
        else:
            flash(f"Saved the finding on {pseudonym}")
            return redirect(url_for("task_pages.task", task_id=task_id, _anchor="agency-audit"))
    return render_template("finding.html", task=task, pseudonym=pseudonym, form=form), 400 if form.errors else 200


@bp.post("/tasks/<int(max=2147483647):task_id>/return")
@requires()
def agency_return(task_id: int) -> Any:
    """Save the agency's return (part-done is fine), or show the task again with the messages."""
    task = _report_task(task_id)
    form = ReturnForm(prefix="return")
    form.practitioner.choices = return_choices(task.agency)
    try:
        agency_audits.save_return(task.instance_id, task.agency, current_user,
                                  {name: form[name].data for name in ("summary", "practitioner", "senior_name",
                                                                      "senior_role")})
    except FormInvalid as error:
        left = show_errors(form, error.errors)
        return task_pages.show(task, tasks.form_of(task), problem="; ".join(left) or None, return_form=form)
    flash("Saved the agency return")
    return redirect(url_for("task_pages.task", task_id=task_id, _anchor="agency-audit"))


def _as_form(saved: dict[str, Any] | None) -> dict[str, Any]:
    """A saved finding as the form shows it (involved as yes / no)."""
    if not saved:
        return {}
    involved = {True: "yes", False: "no"}.get(saved.get("involved"))
    return {**saved, "involved": involved}
