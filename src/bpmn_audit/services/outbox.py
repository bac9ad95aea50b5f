"""Email, through an outbox: a message is staged in the same transaction as the step that causes it, and a
sender delivers it by SMTP later, once.

``stage`` keys each message (the step's identity and the recipient): a step retried, or a timer fired twice,
stages the same key, which is kept only the first time. ``send_due`` claims due messages one at a time (a
guarded UPDATE, so several senders share the outbox), delivers them, and on a failure waits and tries again
(``MAIL_RETRY_SECONDS``, doubling) until ``MAIL_MAX_ATTEMPTS``, when the message is marked failed with its
last error. A sender that dies holding a message loses it for ``MAIL_LOCK_SECONDS``; another then sends it.
Someone who chose a daily digest (``users.email_digest``) gets what is not urgent held until the next 07:00,
London time, and then as one email listing it all; urgent messages (an immediate concern) always go at once.
Texts name the audit and the step, never a child: callers pass no case register data.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from flask import current_app
from markupsafe import escape
from sqlalchemy import or_, select, update

from ..engine.calendar import LONDON
from ..models import OutboxMessage, User, db
from ..models.base import utcnow
from ..models.outbox import FAILED, PENDING, SENT

log = logging.getLogger(__name__)
BATCH = 100
#: a subject (at most 300 characters) on one line: a folded one arrives with a leading space in some programs
HEADERS_UNFOLDED = policy.SMTP.clone(max_line_length=998)
DIGEST_HOUR = 7  # the daily digest goes at 07:00, London time
FOOTER = ("You get this email because you take part in a multi-agency case file audit. It holds no child's "
          "details: sign in to see the work.")


def stage(user: User, key: str, subject: str, text: str, path: str | None, instance_id: int | None,
          kind: str = "notification", urgent: bool = False) -> None:
    """Stage an email to ``user`` (none if they have no address, or ``key`` was staged before); the caller's
    transaction commits it. ``path`` is the page it links to, such as ``/tasks/12``; a message not ``urgent``
    waits for the digest of someone who chose one."""
    if not user.active or not user.email:
        return
    key = f"{key}:{user.username}"[:300]
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return
    link = current_app.config["BASE_URL"].rstrip("/") + (path or "/")
    held = bool(user.email_digest and not urgent)  # for the person's daily digest
    db.session.add(OutboxMessage(
        key=key, kind=kind, recipient=user.username, address=user.email, subject=subject[:300],
        body_text=f"{text}\n\nOpen it: {link}\n\n{FOOTER}\n",
        body_html=(f"<p>{escape(text)}</p><p><a href=\"{escape(link)}\">Open it in the audit service</a></p>"
                   f"<p>{escape(FOOTER)}</p>"),
        instance_id=instance_id, status=PENDING, attempts=0, digest=held,
        next_attempt_at=next_digest_at(utcnow()) if held else utcnow()))


def next_digest_at(now: datetime) -> datetime:
    """The next daily digest's moment after ``now``: 07:00 in London, today or tomorrow."""
    local = now.astimezone(LONDON)
    moment = datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=LONDON)
    if moment <= local:
        moment = datetime.combine(local.date() + timedelta(days=1), time(DIGEST_HOUR), tzinfo=LONDON)
    return moment.astimezone(UTC)


def send_due(worker_id: str) -> int:
    """Deliver every message due now, one at a time; return how many were sent."""
    config = current_app.config
    now = utcnow()
    due = db.session.execute(select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.digest).where(
        OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.lock_expires_at.is_(None), OutboxMessage.lock_expires_at < now))
        .order_by(OutboxMessage.id).limit(BATCH)).all()
    batches: dict[str, list[int]] = {}  # one email each: a message alone, or a recipient's held digest
    for message_id, recipient, digest in due:
        batches.setdefault(f"digest:{recipient}" if digest else f"one:{message_id}", []).append(message_id)
    sent = 0
    for ids in batches.values():
        if _claim(ids, worker_id, now, config["MAIL_LOCK_SECONDS"]):
            sent += _send(ids)
    return sent


def _claim(ids: list[int], worker_id: str, now: datetime, lock_seconds: int) -> bool:
    """Take these messages for this sender, all or none (no other sender takes them until the lock expires)."""
    won = db.session.execute(update(OutboxMessage).where(
        OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING,
        or_(OutboxMessage.lock_expires_at.is_(None), OutboxMessage.lock_expires_at < now))
        .values(lock_owner=worker_id, lock_expires_at=now + timedelta(seconds=lock_seconds))).rowcount
    if won != len(ids):
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _send(ids: list[int]) -> int:
    """Send claimed messages as one email; record the outcome on each."""
    config = current_app.config
    messages = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                       .order_by(OutboxMessage.id).execution_options(populate_existing=True)))
    try:
        _deliver(_email(messages, config["MAIL_DEFAULT_SENDER"]), config)
    except (smtplib.SMTPException, OSError) as error:
        for message in messages:
            _failed(message, f"{type(error).__name__}: {error}"[:2000], config)
        sent = 0
    else:
        for message in messages:
            message.status, message.sent_at, message.attempts = SENT, utcnow(), message.attempts + 1
        sent = 1
    for message in messages:
        message.lock_owner = message.lock_expires_at = None
    db.session.commit()
    return sent


def _failed(message: OutboxMessage, error: str, config: Mapping[str, Any]) -> None:
    message.attempts += 1
    message.last_error = error
    if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        message.status = FAILED
        log.error("email %s to %s given up after %s attempts: %s", message.id, message.recipient,
                  message.attempts, error)
    else:
        wait = config["MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1)
        message.next_attempt_at = utcnow() + timedelta(seconds=wait)


def _email(messages: list[OutboxMessage], sender: str) -> EmailMessage:
    """One message as it was staged, or several as a digest listing each."""
    email = EmailMessage(policy=HEADERS_UNFOLDED)
    email["From"], email["To"] = sender, messages[0].address
    email["Date"] = format_datetime(utcnow())
    # the same messages sent again (a sender killed after the server's "250 OK", before its commit) carry the
    # same id, so the receiving side can drop the repeat: delivery is at least once, the id makes it once
    domain = sender.rpartition("@")[2].strip("<> ") or "bpmn-audit.invalid"
    staged = int(messages[0].created_at.timestamp())
    email["Message-ID"] = f"<outbox-{'-'.join(str(message.id) for message in messages)}.{staged}@{domain}>"
    if len(messages) == 1 and not messages[0].digest:
        email["Subject"] = messages[0].subject
        email.set_content(messages[0].body_text)
        email.add_alternative(messages[0].body_html, subtype="html")
        return email
    email["Subject"] = f"Your audit digest: {len(messages)} thing{'s' if len(messages) != 1 else ''} since yesterday"
    email.set_content("\n\n".join(message.body_text.split(f"\n\n{FOOTER}")[0] for message in messages)
                      + f"\n\n{FOOTER}\n")
    email.add_alternative("".join(f"<div>{message.body_html.split('<p>' + str(escape(FOOTER)))[0]}</div><hr>"
                                  for message in messages) + f"<p>{escape(FOOTER)}</p>", subtype="html")
    return email


def _deliver(email: EmailMessage, config: Mapping[str, Any]) -> None:
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        smtp.send_message(email)


def pending_count() -> int:
    """How many messages wait to be sent (for the operator)."""
    return db.session.scalar(select(db.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == PENDING)) or 0
