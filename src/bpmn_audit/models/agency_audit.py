"""Each agency's audit of an audit's cases: one finding per case, and the agency's return (its summary,
nominated practitioner and senior sign-off). Pseudonymised throughout: cases are known by id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class CaseFinding(db.Model):
    """What one agency found on one case: its involvement (or none), what worked well, areas for
    development, the voice of the child, an Ofsted-scale grading and recommendations. Saved part-done."""

    __tablename__ = "case_findings"
    __table_args__ = (UniqueConstraint("audit_id", "agency", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    agency: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    involved: Mapped[bool | None]  # None until the agency says
    involvement_summary: Mapped[str | None] = mapped_column(Text)
    worked_well: Mapped[str | None] = mapped_column(Text)
    areas_for_development: Mapped[str | None] = mapped_column(Text)
    voice_of_child: Mapped[str | None] = mapped_column(Text)
    grading: Mapped[str | None] = mapped_column(String(30))
    recommendations: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AgencyReturn(db.Model):
    """One agency's return for an audit: its summary, the practitioner it nominates (a user of the agency)
    and the senior manager who signed it off."""

    __tablename__ = "agency_returns"
    __table_args__ = (UniqueConstraint("audit_id", "agency"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    agency: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(Text)
    practitioner: Mapped[str | None] = mapped_column(String(200))
    senior_name: Mapped[str | None] = mapped_column(String(200))
    senior_role: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
