"""The human-task projection: what each inbox shows, kept in step with the workflow on every save, with the
task's candidates (who may act on it) in their own rows, like Camunda's identity links, so that an inbox
is an indexed query."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import EngineTaskRow, UTCDateTime, db, utcnow
from .instance import ProcessInstance

OPEN, COMPLETED, CANCELLED = "open", "completed", "cancelled"
GROUP, USER = "group", "user"


class HumanTask(EngineTaskRow, db.Model):
    """One user task of one audit: open until someone completes it (or the process cancels it)."""

    __tablename__ = "human_tasks"
    __table_args__ = (UniqueConstraint("instance_id", "engine_task_id"),
                      Index("ix_human_tasks_assignee_status", "assignee", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    phase: Mapped[str | None] = mapped_column(String(100))
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    candidate_users: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when someone took the task
    agency: Mapped[str | None] = mapped_column(String(100), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default=OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(200))
    form_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    draft: Mapped[dict[str, str] | None] = mapped_column(JSON)  # saved without completing (the form's raw text)
    instance: Mapped[ProcessInstance] = relationship()
    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan")


class TaskCandidate(db.Model):
    """One group or user a task is offered to. ``agency`` is set for an agency-scoped group (agency leads,
    practitioners, nominating partners) on a per-agency task: only that agency's members qualify."""

    __tablename__ = "task_candidates"
    __table_args__ = (Index("ix_task_candidates_lookup", "kind", "name", "agency"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str | None] = mapped_column(String(100))
