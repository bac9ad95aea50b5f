"""Admins move running audits to a newer version: choose the audits and give a reason, preview what each
move does (tasks carried over, new, cancelled; timers restarted; or why it is refused), then move them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import SubmitField, TextAreaField

from ..services import migrations
from ..services.errors import FormInvalid
from .record_forms import show_errors
from .security import requires

bp = Blueprint("migration_pages", __name__, url_prefix="/processes")


class MigrationForm(FlaskForm):
    """The audits to move (check boxes drawn by the template), why, and preview or move."""

    reason = TextAreaField("Why move them?", widget=GovTextArea())
    preview = SubmitField("Preview the move", widget=GovSubmitInput())
    move = SubmitField("Move them now", widget=GovSubmitInput())


@bp.route("/<string(maxlength=200):process_key>/versions/<int(max=100000):version>/migrate", methods=["GET", "POST"])
@requires("admin")
def migrate(process_key: str, version: int) -> Any:
    """The running audits on older versions; a preview of moving the ones chosen; the move itself."""
    migrations.check_migrator(current_user)
    to = migrations.target(process_key, version)
    candidates = migrations.movable(process_key, to)
    form = MigrationForm()
    chosen = [int(value) for value in request.form.getlist("audits") if value.isdigit() and len(value) < 10]
    moves, problem = None, None
    if form.validate_on_submit():
        try:
            if form.move.data:
                done = migrations.apply(current_user, chosen, to, form.reason.data or "")
                moved = [move for move in done if move.outcome is not None]
                flash(f"Moved {len(moved)} audit(s) to version {to.version}"
                      + "".join(f"; audit {m.instance.id} was not moved: {m.refused}" for m in done if m.refused))
                return redirect(url_for("modeller_pages.version_list", process_key=process_key))
            moves = migrations.preview(current_user, chosen, to)
        except FormInvalid as error:
            problem = "; ".join(show_errors(form, error.errors)) or None
    return render_template("migrate.html", to=to, candidates=candidates, chosen=set(chosen), form=form, moves=moves,
                           problem=problem), 400 if form.errors or problem else 200
