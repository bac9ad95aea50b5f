"""Calendars: a person's deadlines and events as a private iCalendar feed, and an audit's as an .ics file.

The practitioner event (the wait for its day, ``practitioner_event_day``) is two meetings, as the procedure
runs it: part 1 (each practitioner presents their agency's report, two and a half hours) and part 2 (open
discussion, two hours) after lunch; the feed holds them for those taking part in the audit.

The feed is reached by a secret link, no sign-in (calendar programs cannot sign in): only the secret's
SHA-256 is kept, a new link replaces the old, and the person can stop it. Events name the audit and the
step, never a child. Times are written in Europe/London, so a calendar shows 17:00 on both sides of a
clock change.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from ..engine.calendar import LONDON
from ..models import HumanTask, ProcessInstance, TimerJob, User, db
from . import audits, tasks
from .transaction import transaction

PREFIX = "bpc_"
MAX_EVENTS = 500
#: timers that are the start of a meeting: its parts as (name, minutes after the timer, minutes long)
MEETINGS = {
    "practitioner_event_day": (
        ("Practitioner event, part 1: each practitioner presents their agency's report", 0, 150),
        ("Practitioner event, part 2: open discussion of the learning, findings and key questions", 210, 120),
    ),
}
#: who is at a meeting: those with a task of its phase (the practitioners and the chair read the reports, the
#: Business Unit shares them)
MEETING_PHASES = {"practitioner_event_day": "Review and practitioner event"}
#: (uid, summary, start, end)
Entry = tuple[str, str, datetime, datetime]


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
    """The person's open tasks with a due date, each an event at its due time, and the meetings they are at
    (those with a task of the meeting's phase)."""
    events: list[Entry] = [(f"task-{task.id}", f"Due: {task.name} ({task.instance.title or 'an audit'})",
                            task.due_at, task.due_at)
                           for task in tasks.inbox(user, limit=MAX_EVENTS) if task.due_at is not None]
    for bpmn_id, phase in MEETING_PHASES.items():
        mine = select(HumanTask.instance_id).where(
            HumanTask.phase == phase, (HumanTask.assignee == user.username) | (HumanTask.completed_by == user.username))
        meetings = db.session.execute(select(TimerJob, ProcessInstance.title).join(ProcessInstance).where(
            TimerJob.bpmn_id == bpmn_id, TimerJob.instance_id.in_(mine)).order_by(TimerJob.due_at).limit(MAX_EVENTS))
        for timer, title in meetings:
            events += _meeting(timer, title or "an audit")
    return _calendar(f"Audit deadlines for {user.name}", events)


def audit_calendar(user: User, instance_id: int) -> bytes:
    """The audit's waiting deadlines (for agency staff: the partnership's and their agency's), as in its page,
    and its meetings, each part from its start to its end."""
    instance = audits.get_audit(user, instance_id)
    timers = db.session.scalars(select(TimerJob).where(TimerJob.instance_id == instance_id)
                                .order_by(TimerJob.due_at).limit(MAX_EVENTS))
    events: list[Entry] = []
    for timer in timers:
        if audits.sees_everything(user) or timer.agency in (None, user.agency):
            title = instance.title or "an audit"
            events += _meeting(timer, title) or [(f"timer-{timer.id}", f"{timer.name} ({title})", timer.due_at,
                                                  timer.due_at)]
    return _calendar(instance.title or f"Audit {instance_id}", events)


def _meeting(timer: TimerJob, title: str) -> list[Entry]:
    """The parts of the meeting a timer starts (none if it starts none)."""
    return [(f"timer-{timer.id}-part-{number}", f"{name} ({title})", timer.due_at + timedelta(minutes=after),
             timer.due_at + timedelta(minutes=after + length))
            for number, (name, after, length) in enumerate(MEETINGS.get(timer.bpmn_id, ()), start=1)]


def _calendar(name: str, events: list[Entry]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//bpmn-audit//audit deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for uid, summary, start, end in events:
        event = Event()
        event.add("uid", f"{uid}@bpmn-audit")
        event.add("summary", summary)
        event.add("dtstart", start.astimezone(LONDON))
        event.add("dtend", end.astimezone(LONDON))
        event.add("dtstamp", start.astimezone(LONDON))
        calendar.add_component(event)
    calendar.add_missing_timezones()  # a VTIMEZONE for Europe/London, so every program reads the times alike
    return calendar.to_ical()
