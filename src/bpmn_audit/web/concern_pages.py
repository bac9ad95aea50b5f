"""Raising an immediate concern from the pages: at once, to the Business Unit, in its own process."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..services import audits, cases, concerns
from ..services.errors import Conflict, FormInvalid, NotFound
from .record_forms import ConcernForm, show_errors
from .security import requires

bp = Blueprint("concern_pages", __name__)


@bp.route("/audits/<int(max=2147483647):audit_id>/concerns/new", methods=["GET", "POST"])
@requires()
def raise_concern(audit_id: int) -> Any:
    """Ask what the concern is and which child it is about; raise it; back to the audit."""
    audit = audits.get_audit(current_user, audit_id)
    if not concerns.may_raise(current_user, audit_id):
        raise NotFound(f"there is no audit {audit_id} for you")
    form = ConcernForm()
    listed = cases.list_cases(audit_id, current_user) if cases.may_list_cases(current_user, audit_id) else []
    form.case_id.choices = [("", "Not about one child of the audit"),
                            *((str(case.id), case.pseudonym) for case in listed)]
    problem = None
    if form.validate_on_submit():
        case_id = int(form.case_id.data) if (form.case_id.data or "").isdigit() else None
        if form.case_id.data and case_id not in {case.id for case in listed}:
            form.case_id.errors = [*form.case_id.errors, "Choose one of the audit's children, or none"]
        else:
            try:
                raised = concerns.raise_concern(audit_id, current_user, form.summary.data or "", case_id)
            except FormInvalid as error:
                problem = "; ".join(show_errors(form, error.errors)) or None
            except Conflict as error:  # before nomination, after sign-off: say where to go instead
                problem = f"The concern cannot be raised here: {error}"
            else:
                flash(f"The concern{' about ' + raised.pseudonym if raised.pseudonym else ''} is with the Business "
                      "Unit now")
                return redirect(url_for("audit_pages.audit", audit_id=audit_id, _anchor="concerns"))
    return render_template("raise_concern.html", audit=audit, form=form, problem=problem), \
        400 if form.errors or problem else 200
