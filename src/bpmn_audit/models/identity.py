"""People: a user belongs to groups (roles) and, for agency staff, to one agency."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, String, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db


class User(UserMixin, db.Model):
    """Someone who signs in. ``agency`` is set for agency staff and empty for partnership staff.

    ``failed_sign_ins`` counts wrong passwords since the last good one; ``locked_until`` is set when
    there were too many."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(300))
    # emails once a day (a digest at 07:00 London) rather than as things happen; urgent ones always go at once
    email_digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    # the SHA-256 of the secret in the person's calendar feed link (None: no link); revoked by clearing it
    calendar_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    agency: Mapped[str | None] = mapped_column(String(100))
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:
        """Flask-Login: a deactivated user cannot sign in."""
        return self.active
