"""Process instances: one running (or finished) audit, its compressed workflow state, and the lock a
timer worker holds while it fires the instance's due timers (with its failed attempts and backoff)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow
from .deployment import Deployment

RUNNING, COMPLETED = "running", "completed"
SUSPENDED, TERMINATED = "suspended", "terminated"  # set by an admin: no timer fires, no task completes


class ProcessInstance(db.Model):
    """An audit. ``version`` is the optimistic lock: a save that lost a race raises StaleDataError."""

    __tablename__ = "process_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=RUNNING, index=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    serializer_version: Mapped[str] = mapped_column(String(20))
    library_version: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The automatic work of an instance (its due timers) is taken by one worker at a time.
    lock_owner: Mapped[str | None] = mapped_column(String(200))
    lock_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed attempts at that work since it last succeeded, and when the next may start (backoff).
    failed_attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    deployment: Mapped[Deployment] = relationship()

    __mapper_args__ = {"version_id_col": version}
