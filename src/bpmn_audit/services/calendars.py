"""Calendars: a person's deadlines as a private iCalendar feed, and an audit's deadlines as an .ics file.

The feed is reached by a secret link, no sign-in (calendar programs cannot sign in): only the secret's
SHA-256 is kept, a new link replaces the old, and the person can stop it. Events name the audit and the
step, never a child. Times are written in Europe/London, so a calendar shows 17:00 on both sides of a
clock change.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from icalendar import Calendar, Event
from sqlalchemy import select

from ..engine.calendar import LONDON
from ..models import TimerJob, User, db
from . import audits, tasks
from .transaction import transaction

PREFIX = "bpc_"
MAX_EVENTS = 500


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_feed_secret(user: User) -> str:
    """A new secret for the person's feed link (shown once; the old link stops working)."""
    secret = PREFIX + secrets.token_urlsafe(24)
    with transaction():
        user.calendar_digest = _digest(secret)
    return secret


def stop_feed(user: User) -> None:
    """The person's feed link stops working."""
    with transaction():
        user.calendar_digest = None


def user_for_feed(secret: str) -> User | None:
    """The active person whose feed link holds ``secret``, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    user = db.session.scalar(select(User).where(User.calendar_digest == _digest(secret)))
    return user if user is not None and user.active else None


def personal_feed(user: User) -> bytes:
    """The person's open tasks with a due date, each an event at its due time."""
    events = [(f"task-{task.id}", f"Due: {task.name} ({task.instance.title or 'an audit'})", task.due_at)
              for task in tasks.inbox(user, limit=MAX_EVENTS) if task.due_at is not None]
    return _calendar(f"Audit deadlines for {user.name}", events)


def audit_calendar(user: User, instance_id: int) -> bytes:
    """The audit's waiting deadlines (for agency staff: the partnership's and their agency's), as in its page."""
    instance = audits.get_audit(user, instance_id)
    timers = db.session.scalars(select(TimerJob).where(TimerJob.instance_id == instance_id)
                                .order_by(TimerJob.due_at).limit(MAX_EVENTS))
    events = [(f"timer-{timer.id}", f"{timer.name} ({instance.title or 'an audit'})", timer.due_at)
              for timer in timers if audits.sees_everything(user) or timer.agency in (None, user.agency)]
    return _calendar(instance.title or f"Audit {instance_id}", events)


def _calendar(name: str, events: list[tuple[str, str, datetime]]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//bpmn-audit//audit deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for uid, summary, due in events:
        event = Event()
        event.add("uid", f"{uid}@bpmn-audit")
        event.add("summary", summary)
        event.add("dtstart", due.astimezone(LONDON))
        event.add("dtend", due.astimezone(LONDON))
        event.add("dtstamp", due.astimezone(LONDON))
        calendar.add_component(event)
    calendar.add_missing_timezones()  # a VTIMEZONE for Europe/London, so every program reads the times alike
    return calendar.to_ical()
