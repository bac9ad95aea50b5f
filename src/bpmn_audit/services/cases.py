"""The case register (DESIGN.md decision 7): the children of each audit, their identifying data, who read it.

The nominating partner enters each child: name, date of birth, the nominating system's identifier,
other identifiers and household members. These are encrypted at rest (``case_crypto``) and leave this
module only through ``read_case``, which logs every read with its purpose. Each case gets a pseudonym
(Child A, Child B, ... in order of nomination, per audit); everything outside the register uses that.

Who may do what:
- nominate a case: the nominating partner or the Business Unit, to a running audit;
- read a case's identifying data: the Business Unit; the audit's chair; the audit lead of an agency
  taking part in the audit; for that audit only. Everyone else (other leads, practitioners, QiiP,
  other chairs, admins, process owners) gets NotFound, as if the case did not exist. Refusals are
  logged as well as reads;
- list an audit's cases (pseudonyms only, nothing decrypted, nothing logged): whoever may read them,
  plus practitioners and nominating partners of agencies taking part, whoever nominated one of them, and
  the nominating partners the audit's nomination is offered to (to see what they have entered so far);
- set an audit's retention date: the Business Unit. ``purge_expired`` (run by an operator) removes the
  identifying data of every audit whose retention date has passed, and logs each case it purges.

"Taking part" and "the audit's chair" are decided in ``participation`` alone, from the audit's
human-task projection; a participants table would change that one function.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.fernet import MultiFernet
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..engine.calendar import LONDON
from ..engine.script_functions import MAX_CASES, case_pseudonyms
from ..models import AuditRetention, Case, CaseAccess, HumanTask, TaskCandidate, User, db
from ..models.base import utcnow
from ..models.case import NOMINATED, PURGED, READ, REFUSED, RETENTION_SET
from ..models.instance import RUNNING
from ..models.task import GROUP
from .case_crypto import require_case_key, seal, unseal
from .case_form import clean_case, clean_purpose, clean_retention_date
from .errors import PROCESS_KEY, Conflict, Forbidden, FormInvalid, NotFound, ServiceError
from .runtime import get_instance
from .transaction import transaction

log = logging.getLogger(__name__)
NOMINATORS = {"nominating_partner", "business_unit"}
#: attempts at a nomination that lost the race for the next pseudonym to another nomination
NOMINATE_ATTEMPTS = 3


class CasePurged(ServiceError):
    """The case's identifying data was removed when its audit's retention date passed."""

    status = 410


@dataclass(frozen=True)
class CaseSummary:
    """A case as everyone allowed to see it sees it: no identifying data."""

    id: int
    instance_id: int
    pseudonym: str
    nominated_by: str
    nominated_at: datetime
    purged_at: datetime | None


@dataclass(frozen=True)
class CaseDetails:
    """A case's identifying data, as ``read_case`` returns it."""

    id: int
    instance_id: int
    pseudonym: str
    name: str
    date_of_birth: date
    system_id: str
    other_ids: dict[str, str]
    household_members: str | None


@dataclass(frozen=True)
class Participation:
    """How a user takes part in one audit, as far as the register is concerned."""

    agency_takes_part: bool
    chairs: bool


def participation(user: User, instance_id: int) -> Participation:
    """Whether ``user``'s agency takes part in the audit, and whether ``user`` is its chair.

    The one place these are decided, from the audit's human-task projection (tasks of every status):
    an agency takes part if any of the audit's tasks carries its agency code; the audit's chair is a
    member of the ``chair`` group who is the assignee of any of the audit's tasks.
    """
    tasks = select(HumanTask.id).where(HumanTask.instance_id == instance_id)
    takes_part = bool(user.agency) and bool(db.session.scalar(
        select(tasks.where(HumanTask.agency == user.agency).exists())))
    chairs = "chair" in (user.groups or []) and bool(db.session.scalar(
        select(tasks.where(HumanTask.assignee == user.username).exists())))
    return Participation(takes_part, chairs)


def may_read_identities(user: User, instance_id: int) -> bool:
    """True if ``user`` may read the identifying data of the audit's cases (see the module's docstring)."""
    if not user.active:
        return False
    groups = set(user.groups or [])
    if "business_unit" in groups:
        return True
    taking_part = participation(user, instance_id)
    return taking_part.chairs or ("agency_lead" in groups and taking_part.agency_takes_part)


def may_list_cases(user: User, instance_id: int) -> bool:
    """True if ``user`` may see the audit's cases by pseudonym (see the module's docstring)."""
    if may_read_identities(user, instance_id):
        return True
    if not user.active:
        return False
    if {"practitioner", "nominating_partner"} & set(user.groups or []) \
            and participation(user, instance_id).agency_takes_part:
        return True
    if "nominating_partner" in (user.groups or []) and db.session.scalar(select(select(TaskCandidate.task_id).join(
            HumanTask, HumanTask.id == TaskCandidate.task_id).where(
            HumanTask.instance_id == instance_id, TaskCandidate.kind == GROUP,
            TaskCandidate.name == "nominating_partner").exists())):
        return True
    return bool(db.session.scalar(select(select(Case.id).where(
        Case.instance_id == instance_id, Case.nominated_by == user.username).exists())))


def nominate_case(instance_id: int, user: User, form: Mapping[str, Any]) -> CaseSummary:
    """Enter one child into a running audit's register, under the next pseudonym; logs the creation.

    ``form`` holds ``name``, ``date_of_birth``, ``system_id`` and optionally ``other_ids`` (label ->
    value) and ``household_members``. Needs: nominating_partner or business_unit. Raises Forbidden,
    NotFound (no such audit), Conflict (the audit has ended, or has MAX_CASES cases already),
    FormInvalid (a message per field; nothing is stored) and CaseKeyError (no usable case key).
    """
    if not user.active or not NOMINATORS.intersection(user.groups or []):
        raise Forbidden("only the nominating partner or the Business Unit can nominate cases")
    if get_instance(instance_id).status != RUNNING:
        raise Conflict(f"audit {instance_id} has ended: cases can no longer be nominated to it")
    token = seal(_cipher(), clean_case(form, _today()))
    for _attempt in range(NOMINATE_ATTEMPTS):
        try:
            with transaction():
                case = _add_case(instance_id, user.username, token)
            return _summary(case)
        except IntegrityError:
            log.info("audit %s: another nomination took the same pseudonym; trying again", instance_id)
    raise Conflict("others nominated cases to this audit at the same moment; try again")


def list_cases(instance_id: int, user: User) -> list[CaseSummary]:
    """An audit's cases in order of nomination, by pseudonym only; nothing is decrypted or logged.

    Needs: may_list_cases. Raises NotFound (no such audit, or not for this user).
    """
    get_instance(instance_id)
    if not may_list_cases(user, instance_id):
        raise NotFound(f"there are no cases of audit {instance_id} for you")
    rows = db.session.scalars(select(Case).where(Case.instance_id == instance_id).order_by(Case.position))
    return [_summary(row) for row in rows]


def pseudonyms_of(instance_id: int) -> list[tuple[int, str]]:
    """(id, pseudonym) of the audit's cases in order of nomination, for those already allowed to work on one of
    its tasks (what a ``format=case`` form field offers); nothing is decrypted or logged."""
    return [(case_id, pseudonym) for case_id, pseudonym in db.session.execute(
        select(Case.id, Case.pseudonym).where(Case.instance_id == instance_id).order_by(Case.position))]


def refuse_until_nominated(task: HumanTask, values: Mapping[str, Any]) -> None:
    """The ``cases_nominated`` guard: the register holds the audit's cases, as many as the form says."""
    count = db.session.scalar(select(func.count()).select_from(Case).where(Case.instance_id == task.instance_id))
    expected = values.get("case_count")
    if not count:
        raise FormInvalid({PROCESS_KEY: "Enter each child in the case register first: no case has been nominated"})
    if expected is not None and count != expected:
        raise FormInvalid({"case_count": f"The case register holds {count} case(s), not {expected}: add the missing "
                                         "cases or correct the number"})


def case_list(task: HumanTask, values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``case_list`` provider: the audit's cases as the process may hold them, ids and pseudonyms only."""
    rows = db.session.execute(select(Case.id, Case.pseudonym).where(Case.instance_id == task.instance_id)
                              .order_by(Case.position))
    return {"cases": [{"id": case_id, "pseudonym": pseudonym} for case_id, pseudonym in rows]}


def get_case(case_id: int, user: User) -> CaseSummary:
    """One case by pseudonym, for someone who may read its details (nothing is decrypted or logged).

    Raises NotFound (no such case, or the user may not read the identities of its audit).
    """
    case = db.session.get(Case, case_id)
    if case is None or not may_read_identities(user, case.instance_id):
        raise NotFound(f"there is no case {case_id} for you")
    return _summary(case)


def read_case(case_id: int, user: User, purpose: str) -> CaseDetails:
    """One case's identifying data, decrypted. The read, or its refusal, is logged with ``purpose``.

    Needs: may_read_identities for the case's audit. Raises FormInvalid (no purpose, or one over
    500 characters), NotFound (no such case, or not for this user), CasePurged (the data was removed
    after the retention date) and CaseKeyError (no usable key, or none that decrypts the case).
    """
    purpose = clean_purpose(purpose)
    cipher = _cipher()
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"there is no case {case_id} for you")
    allowed = may_read_identities(user, case.instance_id)
    found = _summary(case)
    token = case.identity_token
    with transaction():
        _log(user.username, READ if allowed else REFUSED, found.instance_id, case_id, purpose)
    if not allowed:
        raise NotFound(f"there is no case {case_id} for you")
    if token is None:
        raise CasePurged(f"the details of {found.pseudonym} were removed on {_day(found.purged_at)}, after the "
                         "audit's retention date")
    fields = unseal(cipher, token)
    return CaseDetails(found.id, found.instance_id, found.pseudonym, fields["name"],
                       date.fromisoformat(fields["date_of_birth"]), fields["system_id"], fields["other_ids"],
                       fields["household_members"])


def set_retention(instance_id: int, user: User, retain_until: date | str) -> date:
    """Keep the audit's identifying data until ``retain_until`` (inclusive); the next purge after it removes it.

    Needs: business_unit. Raises Forbidden, NotFound (no such audit) and FormInvalid (not a real date).
    A date already past means the next purge removes the data. Logged in the access log.
    """
    if not user.active or "business_unit" not in (user.groups or []):
        raise Forbidden("only the Business Unit can set how long an audit's case details are kept")
    until = clean_retention_date(retain_until)
    get_instance(instance_id)
    with transaction():
        row = db.session.get(AuditRetention, instance_id) or AuditRetention(instance_id=instance_id)
        row.retain_until, row.set_by, row.set_at = until, user.username, utcnow()
        db.session.add(row)
        _log(user.username, RETENTION_SET, instance_id, None, f"retention date set to {until.isoformat()}")
    return until


def purge_expired(actor: str = "retention") -> int:
    """Remove the identifying data of every case whose audit's retention date has passed; return how many.

    The day after the retention date (in London) the data goes. Pseudonyms, history, findings and
    tracker rows stay. Each purge is logged as done by ``actor``. Safe to run from several workers.
    """
    expired = (select(Case, AuditRetention.retain_until)
               .join(AuditRetention, AuditRetention.instance_id == Case.instance_id)
               .where(AuditRetention.retain_until < _today(), Case.identity_token.is_not(None))
               .order_by(Case.id).with_for_update(of=Case))
    with transaction():
        rows = db.session.execute(expired).all()
        now = utcnow()
        for case, retain_until in rows:
            case.identity_token, case.purged_at = None, now
            _log(actor, PURGED, case.instance_id, case.id, f"retention date {retain_until.isoformat()} passed")
    return len(rows)


def _add_case(instance_id: int, username: str, token: bytes) -> Case:
    last = db.session.scalar(select(func.max(Case.position)).where(Case.instance_id == instance_id))
    position = 0 if last is None else last + 1
    if position >= MAX_CASES:
        raise Conflict(f"audit {instance_id} has {MAX_CASES} cases, the most one audit may have")
    case = Case(instance_id=instance_id, position=position, pseudonym=case_pseudonyms(position + 1)[position],
                identity_token=token, nominated_by=username, nominated_at=utcnow())
    db.session.add(case)
    db.session.flush()  # the log needs the case id; a lost race for the position fails here
    _log(username, NOMINATED, instance_id, case.id, "nominated to the audit")
    return case


def _log(actor: str, action: str, instance_id: int, case_id: int | None, purpose: str) -> None:
    db.session.add(CaseAccess(at=utcnow(), actor=actor, action=action, instance_id=instance_id, case_id=case_id,
                              purpose=purpose))


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(case.id, case.instance_id, case.pseudonym, case.nominated_by, case.nominated_at,
                       case.purged_at)


def _cipher() -> MultiFernet:
    """The register's cipher, from the app's settings: read once, at the edge of each service."""
    return require_case_key(current_app.config)


def _today() -> date:
    return utcnow().astimezone(LONDON).date()


def _day(moment: datetime | None) -> str:
    local = moment.astimezone(LONDON) if moment else None
    return f"{local.day} {local:%B %Y}" if local else "an unknown date"
