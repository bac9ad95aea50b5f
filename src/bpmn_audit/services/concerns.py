"""Immediate concerns: raised at any time during an audit, each handled by its own process.

A concern about a child's safety cannot wait for an agency's report. From nomination until sign-off
(the audit running, past its "Set-up" phase and not yet in its "Action tracker" phase), an agency
lead or practitioner of a taking-part agency, the audit's chair or the Business Unit may raise one.
Raising it starts an ``immediate_concern`` process at once, in the same transaction (a separate
process rather than an event subprocess: SpiffWorkflow starts event subprocesses with the audit, and
a process of its own keeps the concern apart from the learning): a Business Unit task due the same
working day, the raising agency told, and every Business Unit member told if nobody has claimed the
task within two working hours. The concern is open while that process runs; the task's form records
the outcome. The audit's QA cannot be completed while one is open (the ``no_open_concerns`` guard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..models import Case, Concern, HumanTask, ProcessInstance, User, db
from ..models.base import utcnow
from ..models.instance import RUNNING
from ..models.task import COMPLETED
from . import notifications, runtime
from .cases import participation
from .errors import PROCESS_KEY, Conflict, FormInvalid, NotFound
from .persistence import record_event
from .transaction import transaction

CONCERN_PROCESS = "immediate_concern"
RESPONSE_TASK = "respond_to_concern"
#: the audit's phases before nomination starts and after sign-off (the phase property of its tasks)
BEFORE_NOMINATION, AFTER_SIGN_OFF = "Set-up", "Action tracker"
MAX_SUMMARY = 4000


@dataclass(frozen=True)
class ConcernView:
    """A concern as its audit shows it: open or closed, and the outcome once closed."""

    id: int
    audit_id: int
    pseudonym: str | None
    summary: str
    raised_by: str
    raised_agency: str | None
    raised_at: datetime
    open: bool
    outcome: dict | None


def may_raise(user: User, audit_id: int) -> bool:
    """True if ``user`` may raise a concern on the audit: see the module docstring."""
    groups = set(user.groups or [])
    if not user.active:
        return False
    if "business_unit" in groups:
        return True
    taking_part = participation(user, audit_id)
    return taking_part.chairs or bool({"agency_lead", "practitioner"} & groups and taking_part.agency_takes_part)


def raise_concern(audit_id: int, user: User, summary: str, case_id: int | None = None) -> ConcernView:
    """Raise an immediate concern about a case of a running audit, and start its process now.

    Raises NotFound (no such audit or case for this user), Conflict (before nomination, after sign-off,
    or the audit is not running), FormInvalid (no summary, or too long) and ProcessFailed.
    Needs: business_unit, the audit's chair, or a lead or practitioner of a taking-part agency.
    """
    audit = db.session.get(ProcessInstance, audit_id)
    if audit is None or audit.process_key == CONCERN_PROCESS or not may_raise(user, audit_id):
        raise NotFound(f"there is no audit {audit_id} for you")
    _check_window(audit)
    summary = (summary or "").strip()
    if not summary or len(summary) > MAX_SUMMARY:
        raise FormInvalid({"summary": f"Describe the concern in 1 to {MAX_SUMMARY:,} characters"},
                          {"summary": summary})
    pseudonym = _pseudonym(audit_id, case_id)
    raised_at = utcnow()
    agency = user.agency if user.agency and participation(user, audit_id).agency_takes_part else None
    with transaction():
        title = f"Immediate concern: {pseudonym or 'a case'} ({audit.title or f'audit {audit_id}'})"
        process = runtime.stage_start(CONCERN_PROCESS, user.username, {
            "audit_id": audit_id, "agency": agency, "pseudonym": pseudonym, "raised_at": raised_at.isoformat(),
            "title": title})
        concern = Concern(audit_id=audit_id, process_id=process.id, case_id=case_id, pseudonym=pseudonym,
                          summary=summary, raised_by=user.username, raised_agency=agency, raised_at=raised_at)
        db.session.add(concern)
        db.session.flush()
        record_event(audit, "concern_raised", CONCERN_PROCESS, "Immediate concern raised", agency=agency,
                     actor=user.username, detail={"concern_id": concern.id, "pseudonym": pseudonym,
                                                  "process_id": process.id})
        response = db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == process.id,
                                                                HumanTask.bpmn_id == RESPONSE_TASK).limit(1))
        notifications.tell(notifications.recipients(["business_unit"], None), "concern",
                           f"Immediate concern raised in {audit.title or f'audit {audit_id}'}: respond today",
                           audit_id, key=f"concern:{concern.id}", urgent=True,
                           path=f"/tasks/{response}" if response else f"/audits/{audit_id}")
    return _view(concern)


def list_concerns(audit_id: int, user: User) -> list[ConcernView]:
    """The audit's concerns, newest first, for those who may raise them."""
    if not may_raise(user, audit_id):
        raise NotFound(f"there is no audit {audit_id} for you")
    concerns = db.session.scalars(select(Concern).where(Concern.audit_id == audit_id).order_by(Concern.id.desc()))
    return [_view(concern) for concern in concerns]


def concern_of_process(process_id: int) -> ConcernView | None:
    """The concern a concern process handles (for the page of its task), or None for any other process."""
    concern = db.session.scalar(select(Concern).where(Concern.process_id == process_id))
    return _view(concern) if concern else None


def open_concerns(audit_id: int) -> list[Concern]:
    """The audit's concerns whose process still runs."""
    return list(db.session.scalars(select(Concern).join(ProcessInstance, Concern.process_id == ProcessInstance.id)
                                   .where(Concern.audit_id == audit_id, ProcessInstance.status == RUNNING)))


def refuse_while_open(audit: ProcessInstance) -> None:
    """The ``no_open_concerns`` guard: raise FormInvalid while the audit has an open concern."""
    still_open = open_concerns(audit.id)
    if still_open:
        cases = ", ".join(concern.pseudonym or "a case" for concern in still_open)
        raise FormInvalid({PROCESS_KEY: f"Close the open immediate concern(s) first ({cases}): QA cannot sign "
                                       "off while a concern about a child's safety is open"})


def _check_window(audit: ProcessInstance) -> None:
    if audit.status != RUNNING:
        raise Conflict(f"the audit is {audit.status}: concerns go straight to the Business Unit now")
    phases = set(db.session.scalars(select(HumanTask.phase).where(HumanTask.instance_id == audit.id).distinct()))
    if AFTER_SIGN_OFF in phases:
        raise Conflict("the audit has been signed off: raise the concern with the Business Unit directly")
    if not phases - {BEFORE_NOMINATION, None}:
        raise Conflict("the audit is still being set up: concerns can be raised once nomination starts")


def _pseudonym(audit_id: int, case_id: int | None) -> str | None:
    if case_id is None:
        return None
    case = db.session.get(Case, case_id)
    if case is None or case.instance_id != audit_id:
        raise NotFound(f"there is no case {case_id} in audit {audit_id}")
    return case.pseudonym


def _view(concern: Concern) -> ConcernView:
    response = db.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == concern.process_id, HumanTask.bpmn_id == RESPONSE_TASK,
        HumanTask.status == COMPLETED).limit(1))
    return ConcernView(concern.id, concern.audit_id, concern.pseudonym, concern.summary, concern.raised_by,
                       concern.raised_agency, concern.raised_at, concern.process.status == RUNNING,
                       dict(response.form_data or {}, completed_by=response.completed_by) if response else None)
