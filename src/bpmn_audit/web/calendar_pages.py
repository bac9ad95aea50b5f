"""Calendars: a person's private feed (a secret link, no sign-in), its link made and stopped on the account
page, and an audit's deadlines as an .ics download."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..services import api_tokens, calendars
from .account import NewTokenForm
from .security import public, requires

bp = Blueprint("calendar_pages", __name__)


def _ics(body: bytes, name: str) -> Response:
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="{name}.ics"', "Cache-Control": "no-store"})


@bp.get("/calendar/<string(maxlength=100):secret>.ics")
@public
def feed(secret: str) -> Any:
    """The person's deadlines, for a calendar program (404 for a link that is wrong or stopped)."""
    user = calendars.user_for_feed(secret)
    if user is None:
        abort(404, "There is no such calendar")
    return _ics(calendars.personal_feed(user), "audit-deadlines")


@bp.get("/audits/<int(max=2147483647):audit_id>/calendar.ics")
@requires()
def audit_calendar(audit_id: int) -> Any:
    """The audit's waiting deadlines as an .ics file."""
    return _ics(calendars.audit_calendar(current_user, audit_id), f"audit-{audit_id}")


@bp.post("/account/calendar")
@requires()
def new_feed_link() -> Any:
    """A new private feed link, shown once (the old one stops working)."""
    secret = calendars.new_feed_secret(current_user)
    link = url_for("calendar_pages.feed", secret=secret, _external=True)
    return render_template("account.html", form=NewTokenForm(formdata=None), made=None, calendar_link=link,
                           tokens=api_tokens.list_tokens(current_user))


@bp.post("/account/calendar/stop")
@requires()
def stop_feed_link() -> Any:
    """Stop the private feed link."""
    calendars.stop_feed(current_user)
    flash("Your calendar link no longer works")
    return redirect(url_for("account.account", _anchor="calendar"))
