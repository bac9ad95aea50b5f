"""Notifications: telling people that something happened, as records they see in the app.

A throw event with a ``notify`` property (a group: ``agency_lead``, ``chair``, ``business_unit``...) tells
that group's members; for an agency-scoped group (agency leads, practitioners) only those of the event's
agency. ``notify_users`` names people instead (an expression such as ``${chair}``); when it gives nobody,
the group is told. ``unless_claimed`` names a user task of the same instance: if someone has claimed (is
assigned) it, nobody is told. ``about`` names the user task the event is about (a reminder's): its email
links to that open task (the event's agency's own) instead of the audit. Each person told gets a
notification, and the audit's history says whom. Texts name the audit and the step, never a child: no case
register data ever goes into a notification.
Each is emailed too, through the outbox (``services/outbox.py``), to those with an address: keyed by the
step that told them, so a step retried or a timer fired twice emails nobody twice.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from ..engine.views import EngineEvent
from ..models import HumanTask, Notification, ProcessInstance, User, db
from ..models.base import utcnow
from ..models.task import OPEN
from . import outbox
from .identity import AGENCY_SCOPED_GROUPS

MAX_LIST = 200
#: processes whose every word is urgent: emailed at once, whatever the person chose
URGENT_PROCESSES = frozenset({"immediate_concern"})


def recipients(groups: list[str], agency: str | None) -> list[str]:
    """Active users in any of ``groups``; agency-scoped groups only for ``agency``.

    Groups are a JSON column, so members are found in Python; the identity work that puts groups in
    their own table (issue 7) turns this into a query.
    """
    found = []
    for user in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)):
        for group in set(groups).intersection(user.groups or []):
            if group not in AGENCY_SCOPED_GROUPS or agency is None or user.agency == agency:
                found.append(user.username)
                break
    return found


def _active(usernames: list[str]) -> list[str]:
    """Those of ``usernames`` who are active users."""
    return list(db.session.scalars(select(User.username).where(User.username.in_(usernames),
                                                              User.active.is_(True)).order_by(User.username)))


def tell(usernames: list[str], kind: str, text: str, instance_id: int | None, key: str | None = None,
         path: str | None = None, urgent: bool = False) -> None:
    """Stage a notification for each user, and with a ``key`` (the step's identity) an email linking to
    ``path`` (``urgent``: at once, even for those who chose a daily digest); the calling service commits."""
    told = list(dict.fromkeys(usernames))
    for username in told:
        db.session.add(Notification(recipient=username, kind=kind, text=text[:2000], instance_id=instance_id,
                                    path=path))
    if key:  # one query for everyone told, not one each
        for person in db.session.scalars(select(User).where(User.username.in_(told))):
            outbox.stage(person, key, text[:300], text, path, instance_id, kind, urgent=urgent)


def for_engine_event(instance: ProcessInstance, event: EngineEvent) -> list[str]:
    """Tell the people a thrown ``notify`` event names; return who was told (for the history)."""
    groups = [group.strip() for group in str(event.detail.get("notify") or "").split(",") if group.strip()]
    claimed_task = event.detail.get("unless_claimed")
    if not (groups or event.detail.get("users")) or (claimed_task and _claimed(instance.id, claimed_task)):
        return []
    named = event.detail.get("users")
    told = _active(named) if named else recipients(groups, event.agency)
    about = _open_task(instance.id, event.detail.get("about"), event.agency)
    tell(told, "process", f"{event.name}: {instance.title or instance.deployment.name}", instance.id,
         key=f"event:{instance.id}:{event.detail.get('task_id') or event.bpmn_id}",
         path=f"/tasks/{about}" if about else f"/audits/{instance.id}", urgent=instance.process_key in URGENT_PROCESSES)
    return told


def _open_task(instance_id: int, bpmn_id: str | None, agency: str | None) -> int | None:
    """The id of the open task ``bpmn_id`` of the instance (the agency's own, for an agency's event) that an
    event's ``about`` property names, so its email links to the task rather than the audit; None if none."""
    if not bpmn_id:
        return None
    query = select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id,
                                       HumanTask.status == OPEN)
    if agency is not None:
        query = query.where(HumanTask.agency == agency)
    return db.session.scalar(query.order_by(HumanTask.id).limit(1))


def offer_tasks(instance: ProcessInstance, new_tasks: list[HumanTask]) -> None:
    """Email each new task to whoever may do it: its assignee, else its candidate users and groups (agency staff
    of its agency only). Email only: the task itself is in their inbox. Tasks of an urgent process are not
    emailed again (raising it told the Business Unit at once). The calling service commits."""
    if not new_tasks or instance.process_key in URGENT_PROCESSES:
        return
    users = db.session.scalars(select(User).where(User.active.is_(True), User.email.is_not(None))).all()
    title = instance.title or instance.deployment.name
    for task in new_tasks:
        for person in users:
            if task.assignee:
                chosen = person.username == task.assignee
            else:
                chosen = person.username in (task.candidate_users or []) or any(
                    group in (person.groups or []) and (group not in AGENCY_SCOPED_GROUPS or task.agency is None
                                                        or person.agency == task.agency)
                    for group in task.candidate_groups or [])
            if chosen:
                outbox.stage(person, f"task:{task.id}", f"A task for you: {task.name}: {title}",
                             f"A task for you{' (' + task.agency + ')' if task.agency else ''}: {task.name}, in "
                             f"{title}.", f"/tasks/{task.id}", instance.id, "task")


def _claimed(instance_id: int, bpmn_id: str) -> bool:
    """True if an open task ``bpmn_id`` of the instance has someone assigned (claimed) already."""
    return db.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id, HumanTask.status == OPEN,
        HumanTask.assignee.is_not(None)).limit(1)) is not None


def inbox(user: User, unread_only: bool = False, limit: int = MAX_LIST) -> list[Notification]:
    """The user's notifications, newest first."""
    query = select(Notification).where(Notification.recipient == user.username)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(min(limit, MAX_LIST))))


def mark_read(user: User, notification_ids: list[int]) -> int:
    """Mark the user's own notifications read; return how many changed."""
    result = db.session.execute(update(Notification).where(
        Notification.id.in_(notification_ids), Notification.recipient == user.username,
        Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; return how many changed."""
    result = db.session.execute(update(Notification).where(
        Notification.recipient == user.username, Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount


def count_unread(user: User) -> int:
    """How many notifications the user has not read (for the navigation)."""
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient == user.username, Notification.read_at.is_(None))) or 0
