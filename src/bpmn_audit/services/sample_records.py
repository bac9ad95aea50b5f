"""Plausible records for the simulation and the tests: children in the case register, agency audits.

The people in a simulated audit do in the app's own pages what the real ones do: the nominating
partner enters each child in the case register before completing the nomination task, and each
agency lead records a finding per case and the agency's return before submitting the report. This
module does that through the same services, with made-up children (none is real).
"""

from __future__ import annotations

from datetime import date

from ..models import User
from . import agency_audits, cases

FIRST_NAMES = ("Amelia", "Noah", "Isla", "Leo", "Ava", "Oscar", "Freya", "Arthur", "Mia", "Theo", "Ivy", "Finn")


def nominate_cases(audit_id: int, nominator: User, count: int, launch: date) -> list[cases.CaseSummary]:
    """Enter ``count`` made-up children (under five at launch) in the audit's case register."""
    entered = []
    for index in range(count):
        born = date(launch.year - 1 - index % 4, 1 + index % 12, 1 + index % 27)
        entered.append(cases.nominate_case(audit_id, nominator, {
            "name": f"{FIRST_NAMES[index % len(FIRST_NAMES)]} Example", "date_of_birth": born.isoformat(),
            "system_id": f"CSC-{100000 + index}", "other_ids": {"NHS number": f"999 000 {1000 + index}"},
            "household_members": "Mother; one older sibling"}))
    return entered


def complete_agency_audit(audit_id: int, agency: str, lead: User, practitioner: str | None) -> None:
    """Record the agency's finding on every case (involved with all but the last) and its return."""
    view = agency_audits.agency_audit(audit_id, agency, lead)
    for index, (case_id, pseudonym, _finding) in enumerate(view.cases):
        involved = index < len(view.cases) - 1 or len(view.cases) == 1
        agency_audits.save_finding(audit_id, agency, case_id, lead, {
            "involved": "yes" if involved else "no",
            **({"involvement_summary": f"{agency} knew {pseudonym} through routine contacts.",
                "worked_well": "Timely information sharing at strategy discussions.",
                "areas_for_development": "Recording the lived experience of the child.",
                "voice_of_child": f"{pseudonym}'s wishes were noted at two visits.",
                "grading": "requires_improvement" if index % 2 else "good",
                "recommendations": "Refresh neglect training."} if involved else {})})
    agency_audits.save_return(audit_id, agency, lead, {
        "summary": f"{agency} was involved with most nominated children; drift in neglect plans.",
        "practitioner": practitioner, "senior_name": "Sam Senior", "senior_role": "Head of safeguarding"})
