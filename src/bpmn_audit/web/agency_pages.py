"""The partnership's agencies, kept by the Business Unit: list, add, rename, make inactive or active again."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField

from ..services import agencies
from ..services.errors import FormInvalid
from .record_forms import show_errors
from .security import requires

bp = Blueprint("agency_pages", __name__, url_prefix="/agencies")


class AgencyForm(FlaskForm):
    """A new agency."""

    name = StringField("Name", widget=GovTextInput())
    code = StringField("Code", widget=GovTextInput())
    add = SubmitField("Add the agency", widget=GovSubmitInput())


@bp.route("", methods=["GET", "POST"])
@requires(*agencies.MANAGERS)
def agency_list() -> Any:
    """Every agency, active or not; on POST, add one."""
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            added = agencies.add_agency(current_user, {"name": form.name.data, "code": form.code.data})
        except FormInvalid as error:
            show_errors(form, error.errors)
        else:
            flash(f"Added {added.name} ({added.code})")
            return redirect(url_for("agency_pages.agency_list"))
    return render_template("agencies.html", agencies=agencies.list_agencies(include_inactive=True), form=form), \
        400 if form.errors else 200


@bp.post("/<int(max=2147483647):agency_id>")
@requires(*agencies.MANAGERS)
def update(agency_id: int) -> Any:
    """Rename an agency, or make it inactive or active again (CSRFProtect has checked the form)."""
    changes = {key: request.form[key][:500] for key in ("name", "active") if key in request.form}
    try:
        changed = agencies.update_agency(current_user, agency_id, changes)
    except FormInvalid as error:
        flash(f"Nothing changed: {'; '.join(error.errors.values())}")
    else:
        flash(f"{changed.name} ({changed.code}) is {'active' if changed.active else 'inactive'}")
    return redirect(url_for("agency_pages.agency_list"))
