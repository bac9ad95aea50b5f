"""The case register: the children of each audit, their identifying data (encrypted), who read it and
how long it is kept. Everything outside these tables knows a case by its id and pseudonym only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow

#: what an access-log entry records
NOMINATED, READ, REFUSED, PURGED, RETENTION_SET = "nominated", "read", "refused", "purged", "retention_set"


class Case(db.Model):
    """One child nominated to one audit, known everywhere else as ``pseudonym`` ("Child A").

    ``identity_token`` is a Fernet token of the identifying fields as JSON (name, date of birth,
    identifiers, household members); it is NULL once the audit's retention date has passed and the
    data was purged (``purged_at``). ``position`` orders the cases of an audit and gives the pseudonym.
    """

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("instance_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    position: Mapped[int]
    pseudonym: Mapped[str] = mapped_column(String(20))
    identity_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    nominated_by: Mapped[str] = mapped_column(String(200))
    nominated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseAccess(db.Model):
    """One entry of the access log: who did what to the register, when, for which audit and case, and why.

    Append-only. ``case_id`` is empty for entries about a whole audit (its retention date).
    """

    __tablename__ = "case_access_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(500))


class AuditRetention(db.Model):
    """How long an audit's identifying data is kept: purged once ``retain_until`` has passed."""

    __tablename__ = "audit_retention"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), primary_key=True)
    retain_until: Mapped[date] = mapped_column(Date, index=True)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
