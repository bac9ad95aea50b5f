"""A person's notifications in the app: what they were told (and emailed), newest first; mark them read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..services import notifications
from .security import requires

bp = Blueprint("notification_pages", __name__, url_prefix="/notifications")


@bp.get("")
@requires()
def notification_list() -> Any:
    """My notifications, newest first, unread ones marked."""
    return render_template("notifications.html", shown=notifications.inbox(current_user))


@bp.post("/read")
@requires()
def mark_all_read() -> Any:
    """Mark all my notifications read (CSRFProtect has checked the form)."""
    changed = notifications.mark_all_read(current_user)
    flash(f"{changed} notification(s) marked read" if changed else "Nothing was unread")
    return redirect(url_for("notification_pages.notification_list"))
