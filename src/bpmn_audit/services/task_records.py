"""Completing a task whose page is purpose-built, in one call: the records the page keeps in the app's own
tables (the case register, an agency's findings and return) travel in the completion's data.

The pages save these records one at a time as people work (``cases.nominate_case``,
``agency_audits.save_finding``, ``save_return``); the JSON API sends them with the completion instead,
and :func:`schema` describes them, for the task as it stands now (the cases still to audit, the
practitioners who may be nominated). :func:`complete_task` checks every record first, saves them, then
completes the task: a record with a wrong value saves nothing. Tasks of other pages pass straight through.

Keys: ``nominate_cases`` takes ``cases`` (the children to enter: name, date_of_birth, system_id,
other_ids, household_members), and ``case_count``, unless sent, is the register's count; the agency's
report (``submit_agency_report``) takes ``findings`` (one per case: case_id, involved, the texts,
grading) and ``return`` (summary, practitioner, senior_name, senior_role); the action tracker's task
(``record_actions``) takes ``rows`` (action, source_finding, review_type, owner_agency, owner_person,
due_date), which become the model's ``actions`` text, one line per row, for its ``parse_actions`` script.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..engine.script_functions import MAX_ACTION_PART, MAX_ACTIONS, REVIEW_TYPES
from ..engine.task_forms import TaskForm
from ..models import HumanTask, User
from . import agencies, agency_audits, cases, identity, tasks
from .case_form import MAX_HOUSEHOLD, MAX_IDENTIFIER, MAX_LABEL, MAX_NAME, MAX_OTHER_IDS, clean_case
from .errors import FormInvalid
from .forms import json_schema

MAX_CASES_AT_ONCE = 12  # the most children one nomination enters (the model's case_count is 1 to 12)
_SOME_TEXT = r"\S"  # blank answers are missing answers


def schema(task: HumanTask, form: TaskForm, user: User) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the data completing ``task`` takes, its records included, as ``user``
    (who may see the task) would send it."""
    case_ids = tasks.case_ids_of(task.instance_id)
    base = json_schema(form.fields, identity.usernames_in, agencies.active_codes(), case_ids)
    if form.app_page == "nominate_cases":
        return _nomination_schema(len(case_ids), base)
    if form.app_page == "submit_agency_report" and task.agency:
        return _agency_audit_schema(task, user, base)
    if form.app_page == "record_actions":
        return _action_rows_schema(base)
    return base


def complete_task(task_id: int, user: User, data: dict[str, Any]) -> HumanTask:
    """Save the records in ``data`` (all checked first), then complete the task with the rest.

    Raises what ``tasks.complete_task`` raises; FormInvalid names a record's field as ``cases.0.name``,
    ``findings.2.grading`` or ``return.practitioner``.
    """
    task = tasks.get_task(task_id, user)
    page = tasks.form_of(task).app_page
    if page == "nominate_cases":
        data = _nominate(task, user, data)
    elif page == "submit_agency_report" and task.agency:
        _save_agency_audit(task, user, data)
    elif page == "record_actions" and "rows" in data:
        data = {**data, "actions": action_lines(data["rows"])}
    return tasks.complete_task(task_id, user, data)


def _nomination_schema(entered: int, base: dict[str, Any]) -> dict[str, Any]:
    properties = {key: value for key, value in base["properties"].items() if key != "case_count"}
    properties["cases"] = {"type": "array", "title": "The children to enter in the case register",
                           "minItems": 0 if entered else 1, "maxItems": max(0, MAX_CASES_AT_ONCE - entered),
                           "items": _case_schema(date.today())}
    required = [key for key in base["required"] if key != "case_count"] + ([] if entered else ["cases"])
    return base | {"properties": properties, "required": required}


def _case_schema(today: date) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["name", "date_of_birth", "system_id"],
            "properties": {
                "name": _text(MAX_NAME) | {"title": "The child's full name"},
                "date_of_birth": {"type": "string", "format": "date", "title": "Date of birth (not in the future)",
                                  "pattern": _past_dates(today)},
                "system_id": _text(MAX_IDENTIFIER) | {"title": "The identifier in the nominating system"},
                "other_ids": {"type": "object", "maxProperties": MAX_OTHER_IDS, "title": "Label -> identifier",
                              "propertyNames": _text(MAX_LABEL), "additionalProperties": _text(MAX_IDENTIFIER)},
                "household_members": {"anyOf": [{"type": "string", "maxLength": MAX_HOUSEHOLD}, {"type": "null"}]}}}


def _past_dates(today: date) -> str:
    """A pattern of real dates from 1900 to last year (days 1 to 28: every month has them)."""
    last = today.year - 1
    years = ["19[0-9]{2}"] + [f"{decade}[0-9]" for decade in range(200, last // 10)]
    years.append(f"{last // 10}[0-{last % 10}]")
    return rf"^({'|'.join(years)})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"


def _nominate(task: HumanTask, user: User, data: dict[str, Any]) -> dict[str, Any]:
    given = data.get("cases", [])
    if not isinstance(given, list) or len(given) > MAX_CASES_AT_ONCE:
        raise FormInvalid({"cases": f"Send the children as a list of at most {MAX_CASES_AT_ONCE}"})
    errors: dict[str, str] = {}
    for index, case in enumerate(given):
        try:
            clean_case(case if isinstance(case, Mapping) else {}, date.today())
        except FormInvalid as error:
            errors.update({f"cases.{index}.{key}": message for key, message in error.errors.items()})
    if errors:
        raise FormInvalid(errors)
    for case in given:
        cases.nominate_case(task.instance_id, user, case)
    if data.get("case_count") in (None, ""):  # the API leaves it to the register; a page asks for it
        return {**data, "case_count": len(tasks.case_ids_of(task.instance_id))}
    return data



def _text(longest: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": longest, "pattern": _SOME_TEXT}


def _agency_audit_schema(task: HumanTask, user: User, base: dict[str, Any]) -> dict[str, Any]:
    audit = agency_audits.agency_audit(task.instance_id, task.agency, user)
    finding_keys = ["case_id", "involved", *agency_audits.FINDING_TEXTS, "grading"]
    findings = [{"type": "object", "additionalProperties": False, "required": finding_keys,
                 "title": f"The finding on {pseudonym}",
                 "properties": {"case_id": {"const": case_id}, "involved": {"type": "boolean"},
                                **dict.fromkeys(agency_audits.FINDING_TEXTS, _text(agency_audits.MAX_TEXT)),
                                "grading": {"enum": list(agency_audits.GRADINGS)}}}
                for case_id, pseudonym, _ in audit.cases]
    returned = {"summary": _text(agency_audits.MAX_TEXT), "senior_name": _text(agency_audits.MAX_NAME),
                "senior_role": _text(agency_audits.MAX_NAME),
                "practitioner": {"enum": identity.usernames_in("practitioner", agency=task.agency)}}
    properties = base["properties"] | {
        "findings": {"type": "array", "title": "One finding per case, in this order", "prefixItems": findings,
                     "items": False, "minItems": len(findings)},
        "return": {"type": "object", "additionalProperties": False, "title": "The agency's return",
                   "required": list(returned), "properties": returned}}
    required = list(base["required"]) + (["findings", "return"] if audit.missing else [])
    return base | {"properties": properties, "required": required}


def _save_agency_audit(task: HumanTask, user: User, data: dict[str, Any]) -> None:
    findings, returned = data.get("findings", []), data.get("return")
    if not isinstance(findings, list) or len(findings) > cases.MAX_CASES:
        raise FormInvalid({"findings": "Send the findings as a list, one per case"})
    if returned is not None and not isinstance(returned, Mapping):
        raise FormInvalid({"return": "Send the return as an object of its fields"})
    known = {case_id for case_id, _, _ in agency_audits.agency_audit(task.instance_id, task.agency, user).cases}
    errors: dict[str, str] = {}
    checked: list[tuple[int, dict[str, Any]]] = []
    for index, finding in enumerate(findings):
        case_id = finding.get("case_id") if isinstance(finding, Mapping) else None
        if case_id not in known or isinstance(case_id, bool):
            errors[f"findings.{index}.case_id"] = "Name one of the audit's cases by its id"
            continue
        try:
            checked.append((case_id, agency_audits.check_finding(finding)))
        except FormInvalid as error:
            errors.update({f"findings.{index}.{key}": message for key, message in error.errors.items()})
    if returned is not None:
        try:
            agency_audits.check_return(returned, task.agency)
        except FormInvalid as error:
            errors.update({f"return.{key}": message for key, message in error.errors.items()})
    if errors:
        raise FormInvalid(errors)
    for case_id, values in checked:
        agency_audits.save_finding(task.instance_id, task.agency, case_id, user, values)
    if returned is not None:
        agency_audits.save_return(task.instance_id, task.agency, user, returned)


ROW_PARTS = ("action", "source_finding", "review_type", "owner_agency", "owner_person", "due_date")
#: the review types an action may be tracked under, and the most actions one audit records
REVIEW_TYPE_NAMES = sorted(set(REVIEW_TYPES.values()))
MAX_ROWS = MAX_ACTIONS
_ROW_REQUIRED = {"action": "the action", "review_type": "the review type", "owner_agency": "the agency that owns it",
                 "due_date": "the due date"}
_ONE_LINE = r"^[^|\r\n]*\S[^|\r\n]*$"  # a part of an action line: no bar, no line break


def _action_rows_schema(base: dict[str, Any]) -> dict[str, Any]:
    part = {"type": "string", "maxLength": MAX_ACTION_PART, "pattern": _ONE_LINE}
    optional = {"anyOf": [part, {"type": "null"}]}
    row = {"type": "object", "additionalProperties": False, "required": list(_ROW_REQUIRED), "properties": {
        "action": part, "source_finding": optional, "review_type": {"enum": REVIEW_TYPE_NAMES},
        "owner_agency": part, "owner_person": optional,
        "due_date": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}}
    properties = {key: value for key, value in base["properties"].items() if key != "actions"}
    properties["rows"] = {"type": "array", "title": "The actions, one row each", "minItems": 1,
                          "maxItems": MAX_ACTIONS, "items": row}
    return base | {"properties": properties,
                   "required": [key for key in base["required"] if key != "actions"] + ["rows"]}


def action_lines(rows: Any) -> str:
    """Rows of the action tracker as the model's ``actions`` text; FormInvalid (``rows.N.part``) if one is wrong.

    Rows left wholly blank are skipped (the page shows spare ones).
    """
    if not isinstance(rows, list) or len(rows) > MAX_ACTIONS:
        raise FormInvalid({"rows": f"Send the actions as a list of at most {MAX_ACTIONS} rows"})
    lines, errors = [], {}
    for index, row in enumerate(rows):
        parts = {key: row.get(key) for key in ROW_PARTS} if isinstance(row, Mapping) else {}
        parts = {key: value.strip() if isinstance(value, str) else value for key, value in parts.items()}
        if not any(parts.values()):
            continue
        for key, value in parts.items():
            message = _row_part_problem(key, value)
            if message:
                errors[f"rows.{index}.{key}"] = f"Action {index + 1}: {message}"
        lines.append(" | ".join(str(parts.get(key) or "") for key in ROW_PARTS))
    if not lines and not errors:
        errors["rows"] = "Record at least one action"
    if errors:
        raise FormInvalid(errors)
    return "\n".join(lines)


def _row_part_problem(key: str, value: Any) -> str | None:
    if value in (None, ""):
        return f"enter {_ROW_REQUIRED[key]}" if key in _ROW_REQUIRED else None
    if not isinstance(value, str):
        return f"write {key.replace('_', ' ')} as text"
    if "|" in value or "\n" in value or "\r" in value:
        return f"{key.replace('_', ' ')} may not hold a bar (|) or a line break"
    if len(value) > MAX_ACTION_PART:
        return f"keep {key.replace('_', ' ')} to {MAX_ACTION_PART:,} characters"
    if key == "review_type" and value.lower() not in REVIEW_TYPES:
        return f"choose a review type: {', '.join(REVIEW_TYPE_NAMES)}"
    if key == "due_date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return "the due date must be a real date, like 2027-03-31"
    return None
