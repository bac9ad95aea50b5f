"""Each agency's audit of the cases: a finding per case, and the agency's return, saved part-done.

DOMAIN.md: each agency audits its records on each case (involvement, what worked well, areas for
development, voice of the child, an Ofsted-scale grading, recommendations, or "no involvement"), and
submits a report nominating a practitioner. The findings live in their own tables, not in process
data; the agency's report task completes once they are whole (the ``agency_audit_complete`` guard)
and hands the process only the nominated practitioner's username (the ``agency_return`` provider).

Who may write an agency's audit: that agency's audit leads, while the audit runs and the agency takes
part. Who may read it: they, the Business Unit and the audit's chair; and, once the Business Unit has
shared the reports (its ``share_reports`` task is done), the leads and practitioners of every agency
taking part. Before then another agency's report is a NotFound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..models import AgencyReturn, Case, CaseFinding, HumanTask, ProcessInstance, User, db
from ..models.instance import RUNNING
from ..models.task import COMPLETED
from .cases import participation
from .errors import PROCESS_KEY, Conflict, FormInvalid, NotFound
from .transaction import transaction

GRADINGS = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires improvement",
            "inadequate": "Inadequate"}
FINDING_TEXTS = {"involvement_summary": "the summary of involvement", "worked_well": "what worked well",
                 "areas_for_development": "areas for development", "voice_of_child": "the voice of the child",
                 "recommendations": "recommendations"}
RETURN_TEXTS = {"summary": "the agency summary", "senior_name": "the senior manager's name",
                "senior_role": "the senior manager's role"}
MAX_TEXT, MAX_NAME = 20_000, 200
#: the model's task in which the Business Unit shares the agency reports with the audit's people
SHARE_TASK = "share_reports"
YES, NO = {"yes", "true", "on", "1"}, {"no", "false", "0", "no_involvement"}


@dataclass(frozen=True)
class AgencyAudit:
    """One agency's audit as its pages show it: each case with its finding, the return, what is missing."""

    audit_id: int
    agency: str
    cases: list[tuple[int, str, dict[str, Any] | None]]
    agency_return: dict[str, Any] | None
    missing: list[str]


def may_write(user: User, audit_id: int, agency: str) -> bool:
    """True if ``user`` is an audit lead of ``agency`` and the agency takes part in the audit."""
    return bool(user.active and "agency_lead" in (user.groups or []) and user.agency == agency
                and participation(user, audit_id).agency_takes_part)


def may_read(user: User, audit_id: int, agency: str) -> bool:
    """True if ``user`` may read the agency's audit (see the module docstring)."""
    if not user.active:
        return False
    groups = set(user.groups or [])
    if may_write(user, audit_id, agency) or "business_unit" in groups:
        return True
    taking_part = participation(user, audit_id)
    return taking_part.chairs or bool(
        groups & {"agency_lead", "practitioner"} and taking_part.agency_takes_part and shared(audit_id))


def shared(audit_id: int) -> bool:
    """True once the Business Unit has shared the audit's reports."""
    return bool(db.session.scalar(select(select(HumanTask.id).where(
        HumanTask.instance_id == audit_id, HumanTask.bpmn_id == SHARE_TASK, HumanTask.status == COMPLETED).exists())))


def agencies_of(audit_id: int, user: User) -> list[str]:
    """The agencies taking part in the audit whose reports ``user`` may read."""
    if not user.active:
        return []
    codes = set(db.session.scalars(select(HumanTask.agency).where(HumanTask.instance_id == audit_id,
                                                                  HumanTask.agency.is_not(None)).distinct()))
    groups = set(user.groups or [])
    taking_part = participation(user, audit_id)  # once for the audit, not once per agency as may_read would
    if "business_unit" in groups or taking_part.chairs or (
            groups & {"agency_lead", "practitioner"} and taking_part.agency_takes_part and shared(audit_id)):
        return sorted(codes)
    own = "agency_lead" in groups and taking_part.agency_takes_part and user.agency in codes
    return [user.agency] if own else []


def save_finding(audit_id: int, agency: str, case_id: int, user: User, form: Mapping[str, Any]) -> AgencyAudit:
    """Save (part-done or whole) what ``agency`` found on one case. Raises NotFound, Conflict, FormInvalid.

    ``form``: ``involved`` (yes / no), the texts of FINDING_TEXTS and ``grading`` (GRADINGS); each may be
    blank until the report is submitted. Needs: may_write.
    """
    _writable(audit_id, agency, user)
    case = db.session.get(Case, case_id)
    if case is None or case.instance_id != audit_id:
        raise NotFound(f"there is no case {case_id} in audit {audit_id}")
    values = check_finding(form)
    with transaction():
        row = db.session.scalar(select(CaseFinding).where(CaseFinding.audit_id == audit_id,
                                                          CaseFinding.agency == agency, CaseFinding.case_id == case_id))
        if row is None:
            row = CaseFinding(audit_id=audit_id, agency=agency, case_id=case_id)
            db.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_by = user.username
    return agency_audit(audit_id, agency, user)


def save_return(audit_id: int, agency: str, user: User, form: Mapping[str, Any]) -> AgencyAudit:
    """Save the agency's summary, nominated practitioner (a practitioner of the agency) and senior sign-off."""
    _writable(audit_id, agency, user)
    values = check_return(form, agency)
    with transaction():
        row = db.session.scalar(select(AgencyReturn).where(AgencyReturn.audit_id == audit_id,
                                                           AgencyReturn.agency == agency))
        if row is None:
            row = AgencyReturn(audit_id=audit_id, agency=agency)
            db.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_by = user.username
    return agency_audit(audit_id, agency, user)


def check_finding(form: Mapping[str, Any]) -> dict[str, Any]:
    """A finding's values, cleaned (the keys ``form`` holds); raises FormInvalid with a message per field."""
    return _clean(form, FINDING_TEXTS, {"involved": _yes_no, "grading": _grading})


def check_return(form: Mapping[str, Any], agency: str) -> dict[str, Any]:
    """An agency return's values, cleaned; raises FormInvalid with a message per field."""
    return _clean(form, RETURN_TEXTS, {"practitioner": lambda value: _practitioner(value, agency)})


def agency_audit(audit_id: int, agency: str, user: User) -> AgencyAudit:
    """One agency's audit: every case of the audit with its finding, the return, and what is still missing."""
    if db.session.get(ProcessInstance, audit_id) is None or not may_read(user, audit_id, agency):
        raise NotFound(f"there is no audit of {agency} in audit {audit_id} for you")
    return _view(audit_id, agency)


@dataclass(frozen=True)
class Gradings:
    """Every agency's grading of every case of an audit, for those writing and checking its analysis."""

    cases: list[tuple[int, str]]
    agencies: list[str]
    #: (agency, case id) -> a grading's words, or "No involvement"
    cells: dict[tuple[str, int], str]


def gradings(audit_id: int, user: User) -> Gradings:
    """The audit's gradings, agency by case (only the agencies whose reports ``user`` may read)."""
    cases = [(row.id, row.pseudonym) for row in db.session.execute(
        select(Case.id, Case.pseudonym).where(Case.instance_id == audit_id).order_by(Case.position))]
    agencies = agencies_of(audit_id, user)
    cells: dict[tuple[str, int], str] = {}
    for row in db.session.scalars(select(CaseFinding).where(CaseFinding.audit_id == audit_id,
                                                            CaseFinding.agency.in_(agencies))):
        if row.involved is False:
            cells[(row.agency, row.case_id)] = "No involvement"
        elif row.grading:
            cells[(row.agency, row.case_id)] = GRADINGS[row.grading]
    return Gradings(cases, agencies, cells)


def refuse_until_complete(task: HumanTask, values: Mapping[str, Any]) -> None:
    """The ``agency_audit_complete`` guard: every case audited, the return whole."""
    missing = _view(task.instance_id, task.agency or "").missing
    if missing:
        raise FormInvalid({PROCESS_KEY: "The agency audit is not finished: " + "; ".join(missing)})


def agency_return(task: HumanTask, values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``agency_return`` provider: the practitioner the agency nominated."""
    row = _return_of(task.instance_id, task.agency or "")
    return {"practitioner": row.practitioner if row else None}


def practitioners(task: HumanTask, values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``practitioners`` provider: agency -> its nominated practitioner, for every return of the audit."""
    rows = db.session.scalars(select(AgencyReturn).where(AgencyReturn.audit_id == task.instance_id))
    return {"practitioners": {row.agency: row.practitioner for row in rows if row.practitioner}}


def _writable(audit_id: int, agency: str, user: User) -> None:
    audit = db.session.get(ProcessInstance, audit_id)
    if audit is None or not may_write(user, audit_id, agency):
        raise NotFound(f"there is no audit of {agency} in audit {audit_id} for you")
    if audit.status != RUNNING:
        raise Conflict(f"audit {audit_id} has ended: its agency audits can no longer change")


def _clean(form: Mapping[str, Any], texts: dict[str, str], special: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, words in texts.items():
        if key in form:
            value = form[key]
            if value is not None and not isinstance(value, str):
                errors[key] = f"Write {words} as text"
            elif value and len(value) > MAX_TEXT:
                errors[key] = f"Keep {words} to {MAX_TEXT:,} characters"
            else:
                values[key] = (value or "").strip() or None
    for key, clean in special.items():
        if key in form:
            try:
                values[key] = clean(form[key])
            except ValueError as error:
                errors[key] = str(error)
    if errors:
        raise FormInvalid(errors, dict(form))
    return values


def _yes_no(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in YES | NO:
        return word in YES
    raise ValueError("Say whether the agency was involved with this child: yes or no")


def _grading(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in GRADINGS:
        raise ValueError(f"Choose a grading: {', '.join(GRADINGS.values())}")
    return value


def _practitioner(value: Any, agency: str) -> str | None:
    if value in (None, ""):
        return None
    user = db.session.scalar(select(User).where(User.username == str(value)[:MAX_NAME]))
    if user is None or not user.active or "practitioner" not in (user.groups or []) or user.agency != agency:
        raise ValueError(f"Choose a practitioner of {agency} who uses the system")
    return user.username


def _return_of(audit_id: int, agency: str) -> AgencyReturn | None:
    return db.session.scalar(select(AgencyReturn).where(AgencyReturn.audit_id == audit_id,
                                                        AgencyReturn.agency == agency))


def _view(audit_id: int, agency: str) -> AgencyAudit:
    cases = db.session.execute(select(Case.id, Case.pseudonym).where(Case.instance_id == audit_id)
                               .order_by(Case.position)).all()
    findings = {row.case_id: row for row in db.session.scalars(select(CaseFinding).where(
        CaseFinding.audit_id == audit_id, CaseFinding.agency == agency))}
    returned = _return_of(audit_id, agency)
    missing = [problem for case_id, pseudonym in cases for problem in _finding_gaps(pseudonym, findings.get(case_id))]
    missing += _return_gaps(returned)
    return AgencyAudit(audit_id, agency,
                       [(case_id, pseudonym, _as_dict(findings.get(case_id), FINDING_TEXTS, ("involved", "grading")))
                        for case_id, pseudonym in cases],
                       _as_dict(returned, RETURN_TEXTS, ("practitioner",)), missing)


def _finding_gaps(pseudonym: str, finding: CaseFinding | None) -> list[str]:
    if finding is None or finding.involved is None:
        return [f"{pseudonym}: say whether the agency was involved"]
    if not finding.involved:
        return []
    gaps = [words for key, words in FINDING_TEXTS.items() if not getattr(finding, key)]
    if not finding.grading:
        gaps.append("the grading")
    return [f"{pseudonym}: {', '.join(gaps)} missing"] if gaps else []


def _return_gaps(returned: AgencyReturn | None) -> list[str]:
    gaps = [words for key, words in RETURN_TEXTS.items() if not (returned and getattr(returned, key))]
    if not (returned and returned.practitioner):
        gaps.append("the nominated practitioner")
    return [f"{', '.join(gaps)} missing"] if gaps else []


def _as_dict(row: object, texts: dict[str, str], others: tuple[str, ...]) -> dict[str, Any] | None:
    if row is None:
        return None
    return {key: getattr(row, key) for key in (*texts, *others)} | {"updated_by": row.updated_by}
