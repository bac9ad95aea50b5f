"""Moving running audits to a newer version of their process (admins): preview, then apply.

The preview runs the move on a copy of each audit and says what it would do (open tasks carried over with
their ids, new tasks, cancelled tasks, timers that restart) or why it is refused; applying does the same for
real, one audit per transaction under its optimistic lock, and writes it to the audit's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..engine.errors import ScriptRuntimeError
from ..engine.migration import MigrationOutcome, MigrationRefused, migrate
from ..models import Deployment, ProcessInstance, User, db
from ..models.instance import RUNNING
from .errors import FormInvalid, NotFound
from .identity import require_group
from .persistence import engine_limits, load_audit, record_event, save_audit
from .runtime import reason_problem
from .transaction import transaction

MIGRATORS = frozenset({"admin"})
#: the most audits one request moves
MAX_AUDITS = 100


@dataclass
class AuditMove:
    """One audit's move: what it does, or why it cannot be done."""

    instance: ProcessInstance
    outcome: MigrationOutcome | None = None
    refused: str | None = None


def check_migrator(user: User) -> None:
    """Raise Forbidden unless ``user`` is an admin."""
    require_group(user, MIGRATORS, "only admins move running audits to another version")


def target(process_key: str, version: int) -> Deployment:
    """Version ``version`` of ``process_key``; raises NotFound."""
    found = db.session.scalar(select(Deployment).where(Deployment.process_key == process_key,
                                                       Deployment.version == version))
    if found is None:
        raise NotFound(f"there is no version {version} of '{process_key}'")
    return found


def movable(process_key: str, to: Deployment) -> list[ProcessInstance]:
    """The running audits of ``process_key`` on versions older than ``to``, oldest first."""
    return list(db.session.scalars(select(ProcessInstance).join(Deployment).where(
        ProcessInstance.process_key == process_key, ProcessInstance.status == RUNNING,
        Deployment.version < to.version).order_by(ProcessInstance.id).limit(MAX_AUDITS)))


def preview(user: User, instance_ids: list[int], to: Deployment) -> list[AuditMove]:
    """What moving each audit to ``to`` would do; nothing is saved."""
    check_migrator(user)
    moves = []
    for instance in _instances(instance_ids, to):
        move = _move(instance, to)
        db.session.rollback()  # nothing of a preview is kept
        moves.append(move)
    return moves


def apply(user: User, instance_ids: list[int], to: Deployment, reason: str) -> list[AuditMove]:
    """Move each audit to ``to``, each in its own transaction; a refused one is left as it was."""
    check_migrator(user)
    if problem := reason_problem(reason):
        raise FormInvalid({"reason": problem})
    moves = []
    for instance in _instances(instance_ids, to):
        before = instance.deployment.version
        try:
            with transaction():
                move = _move(instance, to)
                if move.outcome is not None:
                    record_event(instance, "migrated", to.process_key, f"moved to version {to.version}",
                                 actor=user.username, detail=_detail(move.outcome, before, to, reason.strip()))
                else:
                    db.session.rollback()
        except StaleDataError:
            move = AuditMove(instance, refused="it changed meanwhile (a task was done or a timer fired): try again")
        moves.append(move)
    return moves


def _instances(instance_ids: list[int], to: Deployment) -> list[ProcessInstance]:
    if not instance_ids or len(instance_ids) > MAX_AUDITS:
        raise FormInvalid({"audits": f"Choose from 1 to {MAX_AUDITS} audits"})
    found = {instance.id: instance for instance in db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids)))}
    wrong = [key for key in instance_ids if key not in found or found[key].process_key != to.process_key]
    if wrong:
        raise NotFound(f"there is no running audit {wrong[0]} of '{to.process_key}'")
    return [found[key] for key in dict.fromkeys(instance_ids)]


def _move(instance: ProcessInstance, to: Deployment) -> AuditMove:
    """Move the audit in the session (the caller commits or rolls back)."""
    if instance.status != RUNNING:
        return AuditMove(instance, refused=f"it is {instance.status}")
    if instance.deployment.version >= to.version:
        return AuditMove(instance, refused=f"it is on version {instance.deployment.version} already, not an older "
                                           "one")
    audit = load_audit(instance, engine_limits())
    try:
        outcome = migrate(audit, to.spec.blob)
    except (MigrationRefused, ScriptRuntimeError) as error:
        return AuditMove(instance, refused=str(error))
    instance.deployment = to
    save_audit(instance, audit, audit.events, None)
    return AuditMove(instance, outcome)


def _detail(outcome: MigrationOutcome, before: int, to: Deployment, reason: str) -> dict:
    return {"from_version": before, "to_version": to.version, "reason": reason,
            "carried": [view.name for view in outcome.carried], "new": [view.name for view in outcome.new],
            "cancelled": [view.name for view in outcome.cancelled],
            "restarted": [after.name for _, after in outcome.restarted]}
