"""A running audit as the rest of the app sees it: start, list user tasks, complete, fire timers.

:class:`RunningAudit` wraps a SpiffWorkflow ``BpmnWorkflow`` and returns plain views and events, so
services never touch SpiffWorkflow objects. Every SpiffWorkflow or script error is wrapped in one of
the engine's own errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .errors import ScriptRuntimeError, TaskNotReadyError
from .serializer import dump_state, load_workflow, new_workflow


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


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_utc(value: str) -> datetime:
    """An ISO 8601 datetime (or date) string as an aware UTC datetime."""
    return TimerEventDefinition.get_datetime(str(value).replace("Z", "+00:00"))


class RunningAudit:
    """One process instance in memory, between a load and a save."""

    def __init__(self, workflow: BpmnWorkflow):
        self.workflow = workflow
        self.events: list[EngineEvent] = []

    # -- lifecycle -------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, spec_blob: bytes) -> RunningAudit:
        """A new instance of the deployment's process, run up to its first wait state."""
        audit = cls(new_workflow(spec_blob))
        audit._run_engine()
        return audit

    @classmethod
    def load(cls, spec_blob: bytes, state_blob: bytes) -> RunningAudit:
        """An instance restored from its saved state."""
        return cls(load_workflow(spec_blob, state_blob))

    def dump(self) -> bytes:
        """The instance's state as bytes to save (without the spec)."""
        return dump_state(self.workflow)

    @property
    def is_completed(self) -> bool:
        """True once the process has reached its end."""
        return self.workflow.is_completed()

    @property
    def data(self) -> dict[str, Any]:
        """Process data: the workflow's data once completed, else the latest completed task's data."""
        if self.workflow.is_completed():
            return dict(self.workflow.data)
        last = self.workflow.last_task
        return dict(last.data) if last is not None else {}

    # -- user tasks ------------------------------------------------------------------------------------------
    def user_tasks(self) -> list[UserTaskView]:
        """Every ready user task, in a stable order."""
        views = [self._view(task) for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)
                 if isinstance(task.task_spec, UserTask)]
        return sorted(views, key=lambda view: (view.bpmn_id, view.agency or "", view.task_id))

    def user_task(self, task_id: str) -> UserTaskView:
        """One ready user task; raises TaskNotReadyError if it is not (or no longer) ready."""
        return self._view(self._ready_user_task(task_id))

    def complete(self, task_id: str, data: dict[str, Any]) -> list[EngineEvent]:
        """Complete a ready user task with its form data and run on to the next wait state."""
        task = self._ready_user_task(task_id)
        task.data.update(data)
        self.events = []
        try:
            task.run()
        except SpiffWorkflowException as error:
            raise ScriptRuntimeError(_describe(error)) from error
        self._run_engine()
        return self.events

    # -- timers ----------------------------------------------------------------------------------------------
    def timers(self) -> list[TimerView]:
        """Every timer the instance is waiting on, with its due time in UTC."""
        views = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition) or isinstance(definition, CycleTimerEventDefinition):
                continue
            spec = task.task_spec
            try:
                due_at = self._timer_due(task, definition)
            except (SpiffWorkflowException, TypeError, ValueError) as error:
                raise ScriptRuntimeError(f"the timer '{spec.bpmn_id}' has no usable time: {error}") from error
            views.append(TimerView(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, due_at,
                                   task.data.get("agency"), (spec.extensions or {}).get("phase")))
        return sorted(views, key=lambda view: (view.due_at, view.bpmn_id))

    def fire_due_timers(self) -> list[EngineEvent]:
        """Fire every timer whose time has passed (by the system clock) and run on."""
        self.events = []
        self._run_engine()
        return self.events

    # -- internals -------------------------------------------------------------------------------------------
    def _run_engine(self) -> None:
        """Run every automatic task, firing due timers, until only people or the clock can move it on.

        SpiffWorkflow refreshes timers at the end of ``do_engine_steps``, so a timer that fires there
        leaves its follow-on tasks ready for the next round: keep going until nothing automatic is ready.
        """
        waiting = {timer.task_id: timer for timer in self.timers()}
        try:
            self.workflow.refresh_timers()
            while True:
                self.workflow.do_engine_steps(did_complete_task=self._record)
                if not any(not task.task_spec.manual for task in self.workflow.get_tasks(state=TaskState.READY)):
                    break
        except SpiffWorkflowException as error:
            raise ScriptRuntimeError(_describe(error)) from error
        except (TypeError, ValueError, KeyError) as error:  # e.g. a timer whose value is not a date
            raise ScriptRuntimeError(f"the process could not go on: {error!r}") from error
        fired = []
        for task_id, timer in waiting.items():
            task = self.workflow.get_task_from_id(UUID(task_id))
            if task is not None and task.state == TaskState.COMPLETED:
                fired.append(EngineEvent("timer_fired", timer.bpmn_id, timer.name, timer.agency,
                                         {"due_at": timer.due_at.isoformat(), "phase": timer.phase}))
        self.events[:0] = fired
        if self.workflow.is_completed() and not any(e.kind == "process_completed" for e in self.events):
            self.events.append(EngineEvent("process_completed", self.workflow.spec.name,
                                           self.workflow.spec.description or self.workflow.spec.name))

    def _record(self, task: Task) -> None:
        """Note the automatic steps worth a line in the audit's history."""
        spec = task.task_spec
        extensions = getattr(spec, "extensions", {}) or {}
        name = spec.bpmn_name or spec.bpmn_id
        if extensions.get("notify"):
            self.events.append(EngineEvent("notification", spec.bpmn_id, name, task.data.get("agency"),
                                           {"notify": extensions["notify"], "phase": extensions.get("phase")}))
        elif spec.__class__.__name__ in ("ScriptTask", "BusinessRuleTask"):
            self.events.append(EngineEvent("automatic_task", spec.bpmn_id, name, task.data.get("agency"),
                                           {"phase": extensions.get("phase")}))

    def _ready_user_task(self, task_id: str) -> Task:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, TypeError, SpiffWorkflowException):
            task = None
        if task is None or task.state != TaskState.READY or not isinstance(task.task_spec, UserTask):
            raise TaskNotReadyError(f"task {task_id} is not a ready user task of this audit")
        return task

    def _timer_due(self, task: Task, definition: TimerEventDefinition) -> datetime:
        value = task._get_internal_data("event_value")
        if value is None:
            value = self.workflow.script_engine.evaluate(task, definition.expression)
            if str(value).upper().startswith("P"):
                duration = TimerEventDefinition.parse_iso_duration(str(value))
                return datetime.now(UTC) + TimerEventDefinition.get_timedelta_from_start(duration)
        return parse_utc(value)

    def _view(self, task: Task) -> UserTaskView:
        spec = task.task_spec
        extensions = spec.extensions or {}
        due_at = None
        if extensions.get("camunda:dueDate"):
            try:
                due_at = parse_utc(self.workflow.script_engine.evaluate(task, extensions["camunda:dueDate"]))
            except (SpiffWorkflowException, ValueError, TypeError):
                due_at = None  # deploy-time validation checks the expression; data may still lack it
        priority = extensions.get("camunda:priority")
        return UserTaskView(
            task_id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
            phase=extensions.get("phase"), candidate_groups=_csv(extensions.get("camunda:candidateGroups")),
            candidate_users=_csv(extensions.get("camunda:candidateUsers")),
            assignee=extensions.get("camunda:assignee"), due_at=due_at,
            priority=int(priority) if priority and str(priority).isdigit() else None,
            agency=task.data.get("agency"), documentation=spec.documentation,
            form=[_field_view(f) for f in spec.form.fields] if spec.form else [])


def _field_view(form_field: Any) -> FormFieldView:
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


def _describe(error: SpiffWorkflowException) -> str:
    """SpiffWorkflow's message with the element it happened at."""
    task = getattr(error, "task", None)
    where = f" at '{task.task_spec.bpmn_id}'" if task is not None else ""
    notes = "; ".join(getattr(error, "__notes__", []) or [])
    return f"{error}{where}" + (f" ({notes})" if notes else "")
