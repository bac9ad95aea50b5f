"""The purpose-built parts of task pages, for what a generated form cannot do.

A model asks for one with ``camunda:formKey="app:NAME"`` (or ``embedded:app:NAME``, as Camunda Modeler
writes it); a task whose NAME is not in :data:`PAGES` gets its generated form alone. Each part is a
template ``app/NAME.html`` shown above the task's generated form, filled by its function here; the
routes that save what the part records live in ``case_pages``, ``agency_audit_pages`` and
``concern_pages``. The process owner's guide lists the names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..models import HumanTask, User
from ..services import agency_audits, cases, concerns, identity
from .record_forms import CaseForm, ReturnForm


def _case_register(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The nomination: the cases entered so far, and a form to enter the next."""
    return {"cases": cases.list_cases(task.instance_id, user),
            "case_form": records.get("case_form") or CaseForm(prefix="case")}


def _agency_audit(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The agency's audit: each case with its finding, the return, and what is still missing."""
    audit = agency_audits.agency_audit(task.instance_id, task.agency or "", user)
    form = records.get("return_form") or ReturnForm(prefix="return", data=audit.agency_return or {})
    form.practitioner.choices = return_choices(task.agency or "")
    return {"agency_audit": audit, "return_form": form}


def return_choices(agency: str) -> list[tuple[str, str]]:
    """The practitioners of ``agency`` an agency return may nominate, as select choices."""
    return [("", "Choose a practitioner"),
            *((name, name) for name in identity.usernames_in("practitioner", agency=agency))]


def _concern(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The concern being handled: what was raised, about whom, by whom."""
    return {"concern": concerns.concern_of_process(task.instance_id)}


#: NAME of ``app:NAME`` -> what its template needs
PAGES: dict[str, Callable[[HumanTask, User, dict[str, Any]], dict[str, Any]]] = {
    "nominate_cases": _case_register,
    "submit_agency_report": _agency_audit,
    "immediate_concern": _concern,
}


def context(name: str | None, task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The template variables of the task's purpose-built part (``app_page`` is its template), or none."""
    if name not in PAGES:
        return {"app_page": None}
    return {"app_page": f"app/{name}.html", **PAGES[name](task, user, records)}
