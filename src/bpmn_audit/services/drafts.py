"""The modeller's drafts: a process owner's saved, not yet deployed, model files (one set per process).

Opening the modeller gives the draft if there is one, else the files of the latest version; saving
replaces the draft; deploying clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from ..models import Deployment, ProcessDraft, User, db
from ..models.base import utcnow
from .deployments import check_files, deploy, latest_deployment
from .identity import require_group
from .transaction import transaction

#: who may edit and deploy processes
OWNERS = frozenset({"process_owner"})


@dataclass(frozen=True)
class Model:
    """The files to edit: the draft's (with who saved it and when), or the latest version's."""

    files: list[tuple[str, bytes]]
    draft_saved_by: str | None = None
    draft_saved_at: datetime | None = None
    version: int | None = None


def check_owner(user: User) -> None:
    """Raise Forbidden unless ``user`` is a process owner."""
    require_group(user, OWNERS, "only process owners change and deploy processes")


def model_to_edit(user: User, process_key: str) -> Model:
    """The draft of ``process_key`` if one is saved, else its latest version's files. Raises NotFound."""
    check_owner(user)
    drafts = list(db.session.scalars(select(ProcessDraft).where(ProcessDraft.process_key == process_key)
                                     .order_by(ProcessDraft.file_name)))
    if drafts:
        return Model([(draft.file_name, draft.content) for draft in drafts], drafts[0].saved_by, drafts[0].saved_at)
    latest = latest_deployment(process_key)
    return Model([(file.file_name, file.content) for file in latest.files], version=latest.version)


def save_draft(user: User, process_key: str, files: list[tuple[str, bytes]]) -> None:
    """Keep ``files`` as the process's draft, replacing the one before. Raises Forbidden, NotFound and the
    engine's ModelValidationError for files that are not .bpmn or .dmn (or too many)."""
    check_owner(user)
    latest_deployment(process_key)
    check_files(files)
    with transaction():
        db.session.execute(delete(ProcessDraft).where(ProcessDraft.process_key == process_key))
        db.session.add_all(ProcessDraft(process_key=process_key, file_name=name, content=content,
                                        saved_by=user.username, saved_at=utcnow()) for name, content in files)


def discard_draft(process_key: str) -> None:
    """Forget the process's draft (after it was deployed); the caller's transaction commits."""
    db.session.execute(delete(ProcessDraft).where(ProcessDraft.process_key == process_key))


def deploy_model(user: User, files: list[tuple[str, bytes]], note: str | None) -> list[Deployment]:
    """Deploy ``files`` as new versions of the processes they hold, with a note, and clear their drafts.
    Raises Forbidden and what ``deployments.deploy`` raises (nothing is stored then)."""
    check_owner(user)
    deployed = deploy(files, user.username, note)
    with transaction():
        for deployment in deployed:
            discard_draft(deployment.process_key)
    return deployed
