"""The account page: who I am, how I get emails (as things happen, or a daily digest), and my API tokens
(make one, revoke one)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from werkzeug.exceptions import BadRequest
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from ..services import api_tokens, identity
from ..services.errors import Conflict
from .security import requires

bp = Blueprint("account", __name__, url_prefix="/account")


class NewTokenForm(FlaskForm):
    """A name for a new token."""

    name = StringField("What the token is for", widget=GovTextInput(),
                       validators=[InputRequired("Enter what the token is for"),
                                   Length(max=api_tokens.MAX_NAME, message="Use 100 characters or fewer")])
    submit = SubmitField("Make a token", widget=GovSubmitInput())


@bp.route("", methods=["GET", "POST"])
@requires()
def account() -> Any:
    """My details, my tokens, and the form to make one (the new token is shown once)."""
    form = NewTokenForm()
    made = None
    if form.validate_on_submit():
        try:
            made = api_tokens.issue_token(current_user, form.name.data)
            form = NewTokenForm(formdata=None)
        except Conflict as error:
            form.name.errors.append(str(error).capitalize())
    status = 400 if form.errors else 200
    return render_template("account.html", form=form, made=made, tokens=api_tokens.list_tokens(current_user)), status


@bp.post("/tokens/<int(max=2147483647):token_id>/revoke")
@requires()
def revoke(token_id: int) -> Any:
    """Revoke one of my tokens."""
    api_tokens.revoke_token(current_user, token_id)  # CSRFProtect has checked the form's token already
    flash("The token is revoked: it no longer signs anyone in")
    return redirect(url_for("account.account"))


@bp.post("/email")
@requires()
def email_preference() -> Any:
    """Emails as things happen, or once a day (CSRFProtect has checked the form)."""
    chosen = request.form.get("digest")
    if chosen not in ("yes", "no"):
        raise BadRequest("choose how to get emails: once a day or as things happen")
    identity.set_email_digest(current_user, chosen == "yes")
    flash("You get one email a day, at 7am, with everything that is not urgent" if chosen == "yes"
          else "You get each email as things happen")
    return redirect(url_for("account.account"))
