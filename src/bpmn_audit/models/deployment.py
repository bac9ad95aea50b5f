"""Deployments: immutable, versioned per process key, each pointing at a spec stored once by hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class ProcessSpec(db.Model):
    """A serialized process spec (with its subprocess specs), stored once however often deployed."""

    __tablename__ = "process_specs"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    serializer_version: Mapped[str] = mapped_column(String(20))
    library_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deployment(db.Model):
    """Version N of one executable process. Never changed once written."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("process_key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    spec_hash: Mapped[str] = mapped_column(ForeignKey("process_specs.hash"))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(2000))  # what the process owner says changed
    # lane name -> group, as configured when this version was deployed: routing belongs to the version,
    # so changing the setting later reroutes no running audit (None for versions deployed before this)
    lane_groups: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # bpmn id -> each user task's form (engine/task_forms.py), read once when deployed (None before that)
    forms: Mapped[dict[str, dict] | None] = mapped_column(JSON)
    spec: Mapped[ProcessSpec] = relationship()
    unchanged = False  # not a column: set by deploy() when it returns an existing version
    files: Mapped[list[DeploymentFile]] = relationship(back_populates="deployment", order_by="DeploymentFile.id")


class DeploymentFile(db.Model):
    """A BPMN or DMN file exactly as it was deployed, for download and diffing."""

    __tablename__ = "deployment_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    deployment: Mapped[Deployment] = relationship(back_populates="files")


class ProcessDraft(db.Model):
    """A model file a process owner is editing in the modeller, saved but not deployed (one per process and
    file; the next save replaces it)."""

    __tablename__ = "process_drafts"
    __table_args__ = (UniqueConstraint("process_key", "file_name", name="uq_process_drafts_file"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(300))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
