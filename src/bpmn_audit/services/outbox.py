"""Email, through an outbox: a message is staged in the same transaction as the step that causes it, and a
sender delivers it by SMTP later, once.

``stage`` keys each message (the step's identity and the recipient): a step retried, or a timer fired twice,
stages the same key, which is kept only the first time. ``send_due`` claims due messages one at a time (a
guarded UPDATE, so several senders share the outbox), delivers them, and on a failure waits and tries again
(``MAIL_RETRY_SECONDS``, doubling) until ``MAIL_MAX_ATTEMPTS``, when the message is marked failed with its
last error. A sender that dies holding a message loses it for ``MAIL_LOCK_SECONDS``; another then sends it.
Texts name the audit and the step, never a child: callers pass no case register data.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from markupsafe import escape
from sqlalchemy import or_, select, update

from ..models import OutboxMessage, User, db
from ..models.base import utcnow
from ..models.outbox import FAILED, PENDING, SENT

log = logging.getLogger(__name__)
BATCH = 100
FOOTER = ("You get this email because you take part in a multi-agency case file audit. It holds no child's "
          "details: sign in to see the work.")


def stage(user: User, key: str, subject: str, text: str, path: str | None, instance_id: int | None,
          kind: str = "notification") -> None:
    """Stage an email to ``user`` (none if they have no address, or ``key`` was staged before); the caller's
    transaction commits it. ``path`` is the page it links to, such as ``/tasks/12``."""
    if not user.active or not user.email:
        return
    key = f"{key}:{user.username}"[:300]
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return
    link = current_app.config["BASE_URL"].rstrip("/") + (path or "/")
    db.session.add(OutboxMessage(
        key=key, kind=kind, recipient=user.username, address=user.email, subject=subject[:300],
        body_text=f"{text}\n\nOpen it: {link}\n\n{FOOTER}\n",
        body_html=(f"<p>{escape(text)}</p><p><a href=\"{escape(link)}\">Open it in the audit service</a></p>"
                   f"<p>{escape(FOOTER)}</p>"),
        instance_id=instance_id, status=PENDING, attempts=0, next_attempt_at=utcnow()))


def send_due(worker_id: str) -> int:
    """Deliver every message due now, one at a time; return how many were sent."""
    config = current_app.config
    now = utcnow()
    due = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.lock_expires_at.is_(None), OutboxMessage.lock_expires_at < now))
        .order_by(OutboxMessage.id).limit(BATCH)).all()
    sent = 0
    for message_id in due:
        if _claim(message_id, worker_id, now, config["MAIL_LOCK_SECONDS"]):
            sent += _send_one(message_id)
    return sent


def _claim(message_id: int, worker_id: str, now: datetime, lock_seconds: int) -> bool:
    """Take one message for this sender (no other sender takes it until the lock expires)."""
    won = db.session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.status == PENDING,
        or_(OutboxMessage.lock_expires_at.is_(None), OutboxMessage.lock_expires_at < now))
        .values(lock_owner=worker_id, lock_expires_at=now + timedelta(seconds=lock_seconds))).rowcount
    db.session.commit()
    return bool(won)


def _send_one(message_id: int) -> int:
    config = current_app.config
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    try:
        _deliver(message, config)
    except (smtplib.SMTPException, OSError) as error:
        message.attempts += 1
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
            message.status = FAILED
            log.error("email %s to %s given up after %s attempts: %s", message.id, message.recipient,
                      message.attempts, message.last_error)
        else:
            wait = config["MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1)
            message.next_attempt_at = utcnow() + timedelta(seconds=wait)
        sent = 0
    else:
        message.status, message.sent_at, message.attempts = SENT, utcnow(), message.attempts + 1
        sent = 1
    message.lock_owner = message.lock_expires_at = None
    db.session.commit()
    return sent


def _deliver(message: OutboxMessage, config: Mapping[str, Any]) -> None:
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.address
    email["Subject"] = message.subject
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        smtp.send_message(email)


def pending_count() -> int:
    """How many messages wait to be sent (for the operator)."""
    return db.session.scalar(select(db.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == PENDING)) or 0
