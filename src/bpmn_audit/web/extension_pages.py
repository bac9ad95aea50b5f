"""Extending a deadline from the pages: the Business Unit gives one agency or the whole audit more time."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..models.base import utcnow
from ..services import extensions
from ..services.errors import FormInvalid
from .record_forms import ExtensionForm, show_errors
from .security import requires

bp = Blueprint("extension_pages", __name__)
WHOLE_AUDIT = ""


@bp.route("/audits/<int(max=2147483647):audit_id>/deadlines", methods=["GET", "POST"])
@requires("business_unit", "admin")
def extend(audit_id: int) -> Any:
    """Show the audit's deadlines; extend the one chosen; back to the audit."""
    offered = extensions.form(current_user, audit_id, utcnow())
    form = ExtensionForm()
    form.deadline.choices = [(choice.deadline.key, choice.deadline.name) for choice in offered.choices
                             if choice.open]
    form.agency.choices = [(WHOLE_AUDIT, "The whole audit"), *((agency, agency) for agency in offered.agencies)]
    problem = None
    if form.is_submitted() and (form.validate() or "csrf_token" not in form.errors):
        agency = form.agency.data or None
        try:  # the service checks everything, so every mistake shows at once; a date it could not read is None
            extensions.extend(audit_id, current_user, form.deadline.data or "",
                              None if form.due_on.errors else form.due_on.data, form.reason.data or "",
                              agency=agency, move_later=bool(form.move_later.data))
        except FormInvalid as error:
            problem = "; ".join(show_errors(form, {field: message for field, message in error.errors.items()
                                                   if not (field in form and form[field].errors)})) or None
        else:
            flash(f"The deadline is extended{' for ' + agency if agency else ''}; the people affected are told")
            return redirect(url_for("audit_pages.audit", audit_id=audit_id))
    return render_template("extend_deadline.html", offered=offered, form=form, problem=problem), \
        400 if form.errors or problem else 200
