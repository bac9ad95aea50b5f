"""The inbox page: the tasks a person may act on, with filters and paging."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..models.base import utcnow
from ..services import tasks
from .paging import requested_page
from .security import requires

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 25
FILTERS = {"all": tasks.InboxFilter(), "mine": tasks.InboxFilter(assigned_to_me=True),
           "groups": tasks.InboxFilter(my_groups=True), "overdue": tasks.InboxFilter(overdue=True)}


@bp.get("/")
@requires()
def inbox() -> Any:
    """My tasks: all, assigned to me, offered to my groups, or overdue; a page at a time."""
    shown = request.args.get("show", "all")
    only = FILTERS.get(shown, FILTERS["all"])
    page = requested_page()
    found = tasks.inbox(current_user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, only=only)
    total = tasks.count_inbox(current_user, only)
    return render_template("inbox.html", tasks=found, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                           shown=shown if shown in FILTERS else "all", now=utcnow())
