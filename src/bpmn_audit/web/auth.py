"""Signing in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from ..models.base import utcnow
from ..services.sign_in import SignInRules, attempt_sign_in
from .security import public, requires

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    """Username and password."""

    username = StringField("Username", widget=GovTextInput(),
                           validators=[InputRequired("Enter your username"), Length(max=200)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=200)])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> Any:
    """The sign-in page; on success, the page asked for (on this site) or the inbox."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.inbox"))
    form = SignInForm()
    if form.validate_on_submit():
        config = current_app.config
        rules = SignInRules(config["SIGN_IN_SLOW_AFTER"], config["SIGN_IN_SLOW_SECONDS"],
                            config["SIGN_IN_LOCK_AFTER"], config["SIGN_IN_LOCK_MINUTES"])
        result = attempt_sign_in(form.username.data, form.password.data, utcnow(), rules)
        if result.user is not None:
            session.clear()
            login_user(result.user)
            session["seen_at"] = utcnow().isoformat()
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(result.message)
    return render_template("sign_in.html", form=form), 200 if not form.errors else 400


@bp.post("/sign-out")
@requires()
def sign_out() -> Any:
    """Sign out (a POST with its CSRF token, so no other site can sign you out)."""
    logout_user()
    session.clear()
    flash("You are signed out")
    return redirect(url_for("auth.sign_in"))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc \
            and "\\" not in target:
        return target
    return url_for("inbox.inbox")
