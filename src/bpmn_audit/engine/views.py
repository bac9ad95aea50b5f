"""What the engine hands out about a running audit: plain views of its user tasks, timers and events.

Services never see SpiffWorkflow objects; these dataclasses are built from them here. People on a task
(``camunda:assignee``, ``candidateUsers``, ``candidateGroups``) may be literal or an expression over
process data (``${chair}``), evaluated in the sandbox like every other expression; an expression giving None names
nobody, and the task goes to its candidate groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task

from .elements import element_of
from .errors import ScriptRuntimeError

#: the largest priority a task may have (a database integer)
MAX_PRIORITY = 2**31 - 1
#: the longest user or group name the projections hold
MAX_NAME = 200


@dataclass
class FormFieldView:
    """One ``camunda:formField`` of a user task."""

    id: str
    label: str
    type: str
    default: str | None = None
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    widget: str | None = None
    #: ``camunda:constraint`` name -> config (``min``, ``max``, ``minlength``, ``maxlength``...; None when bare)
    constraints: dict[str, str | None] = field(default_factory=dict)
    #: ``camunda:property`` id -> value of the field
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class UserTaskView:
    """A ready user task, with what the inbox needs to route and show it."""

    task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    phase: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    due_at: datetime | None
    priority: int | None
    agency: str | None
    documentation: str | None
    form: list[FormFieldView]
    #: checks the app makes before the task may be completed (the ``guard`` property), e.g. no_open_concerns
    guards: list[str] = field(default_factory=list)
    #: records the app adds to the task's data when it completes (the ``provide`` property), e.g. case_list
    providers: list[str] = field(default_factory=list)
    #: the ``camunda:formKey``, e.g. ``embedded:app:nominate_cases``
    form_key: str | None = None


@dataclass
class TimerView:
    """A timer the workflow is waiting on."""

    task_id: str
    bpmn_id: str
    name: str
    due_at: datetime
    agency: str | None
    phase: str | None = None


@dataclass
class EngineEvent:
    """Something the engine did on its own: a timer fired, a notification thrown, a script ran, the end."""

    kind: str
    bpmn_id: str
    name: str
    agency: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def user_task_view(task: Task) -> UserTaskView:
    """The view of a ready user task, with its people and due date evaluated against its data."""
    spec = task.task_spec
    extensions = spec.extensions or {}
    due_at = None
    if extensions.get("camunda:dueDate"):
        try:
            due_at = parse_utc(task.workflow.script_engine.evaluate(task, extensions["camunda:dueDate"]))
        except (ScriptRuntimeError, ValueError, TypeError):
            due_at = None  # deploy-time validation checks the expression; data may still lack it
    assignees = names_in(task, "camunda:assignee")
    return UserTaskView(
        task_id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
        phase=extensions.get("phase"), candidate_groups=names_in(task, "camunda:candidateGroups"),
        candidate_users=names_in(task, "camunda:candidateUsers"), assignee=assignees[0] if assignees else None,
        due_at=due_at, priority=_priority(extensions.get("camunda:priority")),
        agency=agency_of(task), documentation=spec.documentation,
        form=[form_field_view(f) for f in spec.form.fields] if spec.form else [],
        guards=split_names(extensions.get("guard")), providers=split_names(extensions.get("provide")),
        form_key=(spec.form.key or None) if spec.form else None)


def split_names(text: str | None) -> list[str]:
    """Comma-separated names as a list, blanks dropped."""
    return [part.strip() for part in str(text or "").split(",") if part.strip()]


def timer_due(task: Task, definition: TimerEventDefinition) -> datetime:
    """When a waiting timer falls due: the value SpiffWorkflow stored, or its expression evaluated now."""
    value = task._get_internal_data("event_value")
    if value is None:
        value = task.workflow.script_engine.evaluate(task, definition.expression)
        if str(value).upper().startswith("P"):
            duration = TimerEventDefinition.parse_iso_duration(str(value))
            return datetime.now(UTC) + TimerEventDefinition.get_timedelta_from_start(duration)
    return parse_utc(value)


def parse_utc(value: str) -> datetime:
    """An ISO 8601 datetime (or date) string as an aware UTC datetime."""
    return TimerEventDefinition.get_datetime(str(value).replace("Z", "+00:00"))


def names_in(task: Task, key: str) -> list[str]:
    """The extension ``key`` (``camunda:assignee``, ``notify_users``...) as user or group names: comma-separated
    literals, or an expression over the task's data giving a name, a list of names, or None (nobody)."""
    text = ((task.task_spec.extensions or {}).get(key) or "").strip()
    if "${" not in text and "#{" not in text:
        return [part.strip() for part in text.split(",") if part.strip()]
    value = task.workflow.script_engine.evaluate(task, text)
    if value is None:
        return []  # nobody named (yet): the task goes to its candidate groups
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if names is None or not all(isinstance(name, str) and 0 < len(name) <= MAX_NAME for name in names):
        bpmn_id, name, label = element_of(task.task_spec)
        raise ScriptRuntimeError(f"{key} of {label} gave {value!r:.60}, not a user or group name "
                                 "(text) or a list of them", bpmn_id, name)
    return [name.strip() for name in names if name.strip()]


def form_field_view(form_field: Any) -> FormFieldView:
    """The view of one ``camunda:formField``."""
    return FormFieldView(
        id=form_field.id or "", label=form_field.label or form_field.id or "this field",
        type=form_field.type or "string",
        default=form_field.default_value,
        # Camunda writes <camunda:constraint name="required" /> with no config, which has_validation misses
        required=any(rule.name == "required" for rule in form_field.validation),
        options=[(option.id, option.name) for option in getattr(form_field, "options", [])],
        widget=form_field.get_property("widget"),
        constraints={rule.name: rule.config for rule in form_field.validation},
        properties={prop.id: prop.value for prop in form_field.properties})


def _priority(value: str | None) -> int | None:
    """``camunda:priority`` as a number, if it is a sane whole number (deploy checks literal values)."""
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and int(text) <= MAX_PRIORITY:
        return int(text)
    return None


def agency_of(task: Task) -> str | None:
    """The agency a per-agency task belongs to (the ``agency`` element variable), which must be a code."""
    agency = task.data.get("agency")
    if agency is None or (isinstance(agency, str) and 0 < len(agency) <= 100):
        return agency
    bpmn_id, name, label = element_of(task.task_spec)
    raise ScriptRuntimeError(f"{label} is for the agency {agency!r:.40}, which is not an agency code: the collection "
                             "it comes from must hold agency codes (text such as 'police')", bpmn_id, name)
