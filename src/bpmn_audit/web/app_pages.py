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
from ..services import agency_audits, cases, concerns, identity, tasks
from .record_forms import CaseForm, ReturnForm, action_rows


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


def _action_tracker(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The action tracker's rows, in place of the model's one-line-per-action text field."""
    rows = records.get("action_rows") or action_rows(None, (task.draft or {}).get("actions"))
    return {"action_rows": rows, "replaced": {"actions"}, "app_page": None,  # it sits inside the task's form
            "app_page_fields": "app/record_actions.html"}


def _event_part_1(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The practitioner event: who each agency nominated to attend."""
    nominated = agency_audits.practitioners(task, {})["practitioners"]
    return {"nominated": sorted(nominated.items())}


def _event_part_2(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The event's second part, beside the record of its first."""
    return {"earlier": tasks.latest_answers(task.instance_id, "record_event_part_1"), "earlier_title": "Part 1",
            "earlier_fields": {"attendees": "Who attended", "recording_reference": "Recording",
                               "themes": "Themes"}}


def _analysis(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """Writing or revising the analysis report: the agencies' gradings, the event's learning, and what QA
    or QiiP said when they returned it."""
    returned = tasks.latest_answers(task.instance_id, "qa_analysis_report", "qiip_sign_off")
    return {"gradings": agency_audits.gradings(task.instance_id, user),
            "event": tasks.latest_answers(task.instance_id, "record_event_part_2"),
            "report": tasks.latest_answers(task.instance_id, "write_analysis_report"),
            "returned": returned if returned and "return" in (returned.get("qa_decision"),
                                                              returned.get("qiip_decision")) else None}


def _report_check(task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """QA's checklist and QiiP's sign-off, beside the analysis report they check."""
    return {"report": tasks.latest_answers(task.instance_id, "write_analysis_report"),
            "revision": tasks.latest_answers(task.instance_id, "revise_analysis_report")}


#: NAME of ``app:NAME`` -> what its template needs
PAGES: dict[str, Callable[[HumanTask, User, dict[str, Any]], dict[str, Any]]] = {
    "nominate_cases": _case_register,
    "submit_agency_report": _agency_audit,
    "immediate_concern": _concern,
    "record_actions": _action_tracker,
    "record_event_part_1": _event_part_1,
    "record_event_part_2": _event_part_2,
    "write_analysis_report": _analysis,
    "revise_analysis_report": _analysis,
    "qa_analysis_report": _report_check,
    "qiip_sign_off": _report_check,
}
#: parts that share a template
TEMPLATES = {"revise_analysis_report": "write_analysis_report", "qiip_sign_off": "qa_analysis_report",
             "record_event_part_2": "earlier_record"}
#: pages whose parts sit inside the task's own form, and what they add to what it sends
ROWS_PAGE = "record_actions"


def context(name: str | None, task: HumanTask, user: User, records: dict[str, Any]) -> dict[str, Any]:
    """The template variables of the task's purpose-built part (``app_page`` is its template), or none."""
    if name not in PAGES:
        return {"app_page": None}
    return {"app_page": f"app/{TEMPLATES.get(name, name)}.html", **PAGES[name](task, user, records)}


def posted(name: str | None, formdata: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a page's part adds to a completion (its records), and the records to show again if it fails."""
    if name != ROWS_PAGE:
        return {}, {}
    rows = action_rows(formdata, None)
    return {"rows": rows.values()}, {"action_rows": rows}


def draft(name: str | None, formdata: Any) -> dict[str, Any]:
    """What a page's part keeps in a draft of the task's fields."""
    return {"actions": action_rows(formdata, None).as_text()} if name == ROWS_PAGE else {}
