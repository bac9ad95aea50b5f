"""A running audit as the rest of the app sees it: start, list user tasks, complete, fire timers.

:class:`RunningAudit` wraps a SpiffWorkflow ``BpmnWorkflow`` and returns plain views and events, so
services never touch SpiffWorkflow objects. Every failure, whatever its type, comes out as a
:class:`ScriptRuntimeError` naming the element, in plain English.

Each engine run (a start, a completion, a timer sweep) runs under the caller's :class:`EngineLimits`:
at most ``run_steps`` automatic steps (a loop with no wait state is stopped, not run for ever), every
evaluation inside its own budget (see budget.py), process data checked after every script and
decision (see data_rules.py), and the task tree kept shallower than SpiffWorkflow's task iterator can
follow (it silently stops at depth 1000, so a deeper instance would look completed while work is left).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import ReceiveTask as ReceiveTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import SendTask as SendTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .budget import limits_in_force
from .data_rules import DataRuleError, check_data
from .elements import element_of
from .errors import EngineError, ScriptRuntimeError, TaskNotReadyError, plain_reason
from .limits import DEFAULT_LIMITS, EngineLimits
from .serializer import dump_state, load_workflow, new_workflow
from .views import EngineEvent, TimerView, UserTaskView, agency_of, names_in, timer_due, user_task_view

#: SpiffWorkflow's task iterator stops descending at this depth (TaskIterator's max_depth)
ENGINE_DEPTH = 1000
#: refuse to go on well before it: a deeper tree would hide ready tasks from the engine
SAFE_DEPTH = ENGINE_DEPTH - 50
#: how deeply subprocesses and call activities may nest (SpiffWorkflow's bookkeeping slows with depth)
MAX_NESTING = 20
#: how many open tasks an admin's move forward may skip
MAX_FORWARD_STEPS = 200
#: task specs whose output is computed by model code, so their data is checked after they run
_COMPUTING_SPECS = (ScriptEngineTask, BusinessRuleTaskMixin)


class RunningAudit:
    """One process instance in memory, between a load and a save."""

    def __init__(self, workflow: BpmnWorkflow, limits: EngineLimits = DEFAULT_LIMITS):
        self.workflow = workflow
        self.limits = limits
        self.events: list[EngineEvent] = []
        self._steps = 0
        self._current: Task | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, spec_blob: bytes, limits: EngineLimits = DEFAULT_LIMITS,
              data: dict[str, Any] | None = None) -> RunningAudit:
        """A new instance of the deployment's process with start ``data``, run up to its first wait state.

        Raises ScriptRuntimeError if the data breaks the data rules or the process fails on its way.
        """
        try:
            workflow = new_workflow(spec_blob)
        except RecursionError:
            raise ScriptRuntimeError("the process cannot be set up: its flows loop back on themselves with no "
                                     "task or event in between (for example a gateway whose flow returns to it)"
                                     ) from None
        audit = cls(workflow, limits)
        if data:
            try:
                check_data(data, limits)
            except DataRuleError as error:
                raise ScriptRuntimeError(f"the start data cannot be used: {error}") from None
            start = next(task for task in audit.workflow.get_tasks(state=TaskState.READY))
            start.data.update(data)
        audit._run_engine()
        return audit

    @classmethod
    def load(cls, spec_blob: bytes, state_blob: bytes, limits: EngineLimits = DEFAULT_LIMITS) -> RunningAudit:
        """An instance restored from its saved state."""
        return cls(load_workflow(spec_blob, state_blob), limits)

    def dump(self) -> bytes:
        """The instance's state as bytes to save (without the spec).

        Data is checked as the process runs, so this fails only if something slipped past the checks;
        it then says so rather than raising the serializer's own error.
        """
        try:
            return dump_state(self.workflow)
        except (TypeError, ValueError, RecursionError, OverflowError) as error:
            raise ScriptRuntimeError(f"the audit's state could not be saved: {plain_reason(error)}") from error

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
        if last is None:  # none done since a migration reset the waiting work: what that work holds
            waiting = next(iter(self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)), None)
            return dict(waiting.data) if waiting is not None else {}
        return dict(last.data)

    def data_of(self, agency: str | None) -> dict[str, Any]:
        """The data the audit's work still to do holds: one agency's (its per-agency tasks), or with None the
        partnership's (tasks outside any agency's work); the process data if no such task is waiting."""
        for task in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
            if task.data.get("agency") == agency:
                return dict(task.data)
        return self.data

    def data_by_agency(self) -> dict[str, dict[str, Any]]:
        """What an admin sees of the data: the partnership's (``data_of(None)``) under "partnership", and under
        each agency with work still to do, what its work holds that differs from the partnership's."""
        shared = self.data_of(None)
        agencies: dict[str, dict[str, Any]] = {}
        for task in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
            agency = task.data.get("agency")
            if isinstance(agency, str) and agency not in agencies:
                agencies[agency] = {key: value for key, value in task.data.items() if shared.get(key) != value}
        return {"partnership": shared, **({"agencies": agencies} if agencies else {})}

    def element_states(self) -> dict[str, str]:
        """bpmn id -> state, for each element that has run (subprocesses included): ``active`` (ready or
        started, or waiting other than on a timer: a join, a message), ``waiting`` (a timer waiting to fire) or
        ``completed``. An element with several runs (a loop's earlier rounds, each agency's own) takes the first
        of active, waiting, completed that one of them is in."""
        states: dict[str, str] = {}
        for bpmn_id, task in self._element_tasks():
            state = _element_state(task)
            if state and _STATE_RANK[state] > _STATE_RANK.get(states.get(bpmn_id, ""), 0):
                states[bpmn_id] = state
        return states

    def element_counts(self) -> dict[str, dict[str, int]]:
        """For each activity run once per agency (a multi-instance subprocess or task, and each activity inside
        one): bpmn id -> ``{"done": n, "of": m}``, of the agencies whose work has reached it, how many are done
        with it. An agency's runs are told apart by the ``agency`` in their data; the agency is done when one of
        its runs completed and none is still to do (a loop's earlier rounds and cancelled branches stay in the
        engine as tasks, and count for nothing)."""
        reached: dict[str, dict[str, bool]] = {}  # bpmn id -> agency -> done
        for bpmn_id, task in self._element_tasks():
            agency = task.data.get("agency")
            if not isinstance(agency, str) or not _is_activity(task.task_spec) or task.state == TaskState.CANCELLED:
                continue
            agencies = reached.setdefault(bpmn_id, {})
            if task.state == TaskState.COMPLETED:
                agencies.setdefault(agency, True)
            else:  # ready, started or waiting: still to do, whatever an earlier round did
                agencies[agency] = False
        return {bpmn_id: {"done": sum(agencies.values()), "of": len(agencies)}
                for bpmn_id, agencies in sorted(reached.items())}

    def _element_tasks(self) -> list[tuple[str, Task]]:
        """(bpmn id, task) for every task of a model element that has run or is running, subprocesses' included,
        each once (the engine's iterator also descends into running subprocesses)."""
        found: dict[UUID, tuple[str, Task]] = {}
        with limits_in_force(self.limits):
            for workflow in [self.workflow, *self.workflow.subprocesses.values()]:
                for task in workflow.get_tasks(state=TaskState.FINISHED_MASK | TaskState.READY | TaskState.WAITING
                                               | TaskState.STARTED):
                    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
                    if bpmn_id and task.id not in found:
                        found[task.id] = (bpmn_id, task)
        return list(found.values())

    def task_tree(self, limit: int = 2000) -> list[tuple[int, str, str, str]]:
        """The engine's tasks as (depth, bpmn id, name, state), depth first, for an admin (at most ``limit``)."""
        rows: list[tuple[int, str, str, str]] = []
        stack = [(self.workflow.task_tree, 0)]
        with limits_in_force(self.limits):
            while stack and len(rows) < limit:
                task, depth = stack.pop()
                spec = task.task_spec
                rows.append((depth, getattr(spec, "bpmn_id", None) or spec.name,
                             getattr(spec, "bpmn_name", None) or "", TaskState.get_name(task.state)))
                stack.extend((child, depth + 1) for child in reversed(task.children))
        return rows

    # -- user tasks ------------------------------------------------------------------------------------------
    def user_tasks(self) -> list[UserTaskView]:
        """Every ready user task, in a stable order."""
        with limits_in_force(self.limits):
            views = [user_task_view(task) for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)
                     if isinstance(task.task_spec, UserTask)]
        return sorted(views, key=lambda view: (view.bpmn_id, view.agency or "", view.task_id))

    def user_task(self, task_id: str) -> UserTaskView:
        """One ready user task; raises TaskNotReadyError if it is not (or no longer) ready."""
        with limits_in_force(self.limits):
            return user_task_view(self._ready_user_task(task_id))

    def complete(self, task_id: str, data: dict[str, Any]) -> list[EngineEvent]:
        """Complete a ready user task with its form data and run on to the next wait state."""
        task = self._ready_user_task(task_id)
        task.data.update(data)
        self.events = []
        self._run_engine(first=task.run)
        return self.events

    # -- timers ----------------------------------------------------------------------------------------------
    def timers(self) -> list[TimerView]:
        """Every timer the instance is waiting on, with its due time in UTC."""
        views = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            if not _is_timer(task):
                continue
            spec, definition = task.task_spec, task.task_spec.event_definition
            try:
                with limits_in_force(self.limits):
                    due_at = timer_due(task, definition)
            except ScriptRuntimeError:
                raise
            except Exception as error:
                raise ScriptRuntimeError(f"the timer of {_label(spec)} has no usable time: {plain_reason(error)}",
                                         spec.bpmn_id, spec.bpmn_name) from error
            views.append(TimerView(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, due_at,
                                   agency_of(task), (spec.extensions or {}).get("phase")))
        return sorted(views, key=lambda view: (view.due_at, view.bpmn_id))

    def fire_due_timers(self) -> list[EngineEvent]:
        """Fire every timer whose time has passed (by the system clock) and run on."""
        self.events = []
        self._run_engine()
        return self.events

    # -- an admin's moves ---------------------------------------------------------------------------------------
    def move_back(self, bpmn_id: str) -> str:
        """Reopen the user task ``bpmn_id`` done most recently, with the data it was done with; what came after it
        is undone (its tasks and timers go), and the audit runs on from it. Returns the task's id; raises
        TaskNotReadyError if no such task was done."""
        done = [task for workflow in [self.workflow, *self.workflow.subprocesses.values()]
                for task in workflow.get_tasks() if task.state == TaskState.COMPLETED
                and isinstance(task.task_spec, UserTask) and task.task_spec.bpmn_id == bpmn_id]
        if not done:
            raise TaskNotReadyError(f"no '{bpmn_id}' task of this audit has been done, so there is none to go back to")
        task = max(done, key=lambda each: each.last_state_change)
        self.events = []
        try:
            with limits_in_force(self.limits):
                self.workflow.reset_from_task_id(task.id, dict(task.data))
        except Exception as error:
            raise self._failure(error) from error
        self._run_engine()
        return str(task.id)

    def skip(self, task_id: str) -> list[EngineEvent]:
        """Complete a ready user task with no answers (an admin's skip) and run on."""
        return self.complete(task_id, {})

    def move_forward(self, bpmn_id: str, max_steps: int = MAX_FORWARD_STEPS) -> list[UserTaskView]:
        """Go forward until a user task ``bpmn_id`` is open: skip every open user task, round by round, and
        when nobody's work is left, fire the timers the audit waits on (an intermediate timer, never a boundary
        one, whose reminder or escalation belongs to a task being skipped anyway). Returns the tasks skipped, in
        order; ``events`` holds everything that happened. Raises TaskNotReadyError when the audit ends, or waits
        on something else, before getting there, or skips more than ``max_steps`` tasks, and ScriptRuntimeError
        when a step cannot go on without the answers a person would have given: the caller then saves nothing.
        """
        if bpmn_id not in {task_id for task_id, _ in self.user_task_specs()}:
            raise TaskNotReadyError(f"this version of the process has no user task '{bpmn_id}'")
        if any(view.bpmn_id == bpmn_id for view in self.user_tasks()):
            raise TaskNotReadyError(f"'{bpmn_id}' is open already")
        events: list[EngineEvent] = []
        skipped: list[UserTaskView] = []
        for _ in range(max_steps):  # each round skips a task or fires a timer, so this bounds the rounds too
            ready = self.user_tasks()
            if any(view.bpmn_id == bpmn_id for view in ready):
                self.events = events
                return skipped
            if ready:  # a round: every task open now, so parallel work (each agency's) moves on together
                for view in ready[:max_steps - len(skipped)]:
                    skipped.append(view)
                    events.extend(self.skip(view.task_id))
                if len(skipped) >= max_steps:
                    break
                continue
            timers = [task for task in self.workflow.get_tasks(state=TaskState.WAITING)
                      if _is_timer(task) and not isinstance(task.task_spec, BoundaryEvent)]
            if not timers:
                where = "ends" if self.workflow.is_completed() else "waits on something other than a person or a timer"
                raise TaskNotReadyError(f"the audit {where} before '{bpmn_id}' opens, so it cannot be moved there")
            for task in timers:
                task._set_internal_data(event_fired=True)
            events.extend(self.fire_due_timers())
        raise TaskNotReadyError(f"'{bpmn_id}' did not open within {max_steps} skipped tasks, so the audit stays")

    def user_task_specs(self) -> list[tuple[str, str]]:
        """(bpmn id, name) of every user task of this instance's version, its subprocesses' included."""
        specs = [self.workflow.spec, *self.workflow.subprocess_specs.values()]
        found = {spec.bpmn_id: spec.bpmn_name or spec.bpmn_id for process in specs
                 for spec in process.task_specs.values() if isinstance(spec, UserTask)}
        return list(found.items())

    # -- changing data -----------------------------------------------------------------------------------------
    def set_data(self, values: dict[str, Any], agency: str | None = None, run: bool = True) -> list[EngineEvent]:
        """Set process variables where the running instance holds them, re-arm its timers, and run on.

        The values go into every task not yet finished (of one agency's work only, with ``agency``).
        SpiffWorkflow evaluates a timer's expression once, when it starts waiting, so each waiting timer
        among those tasks forgets its value and re-reads it: a Date timer reading ``event_at`` or
        ``deadlines[...]`` moves with the data (a Duration timer restarts from now). A timer whose new time
        has passed fires in the same run (with ``run`` false nothing runs: an admin mending an audit with an
        incident lets the retry run it). Raises ScriptRuntimeError if the values break the data rules.
        """
        try:
            check_data(values, self.limits)
        except DataRuleError as error:
            raise ScriptRuntimeError(f"the data cannot be set: {error}") from None
        self.events = []
        for task in self.workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            if agency is not None and task.data.get("agency") != agency:
                continue
            task.data.update(values)
            if task.parent is not None and task.parent.has_state(TaskState.FINISHED_MASK):
                task.parent.data.update(values)  # a waiting task re-inherits its parent's data when refreshed
            definition = getattr(task.task_spec, "event_definition", None)
            if task.state == TaskState.WAITING and isinstance(definition, TimerEventDefinition):
                task.internal_data.pop("event_value", None)
                task.internal_data.pop("event_fired", None)
        if run:
            self._run_engine()
        return self.events

    # -- internals -------------------------------------------------------------------------------------------
    def _run_engine(self, first: Any = None) -> None:
        """Run ``first`` (a user task's completion), then every automatic task, firing due timers, until
        only people or the clock can move the instance on.

        SpiffWorkflow refreshes timers at the end of ``do_engine_steps``, so a timer that fires there
        leaves its follow-on tasks ready for the next round: keep going until nothing automatic is ready.
        Raises ScriptRuntimeError, naming the element, for anything that goes wrong on the way.
        """
        waiting = {timer.task_id: timer for timer in self.timers()}
        self._steps, self._current = 0, None
        try:
            with limits_in_force(self.limits):
                if first is not None:
                    first()
                self.workflow.refresh_timers()
                while True:
                    self.workflow.do_engine_steps(will_complete_task=self._before_step,
                                                  did_complete_task=self._after_step)
                    if not any(not task.task_spec.manual
                               for task in self.workflow.get_tasks(state=TaskState.READY)):
                        break
        except Exception as error:
            raise self._failure(error) from error
        self._check_depth()
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

    def _before_step(self, task: Task) -> None:
        """Count the step against the run's budget: a loop with no wait state ends here."""
        self._current = task
        self._steps += 1
        if getattr(task.workflow, "depth", 0) > MAX_NESTING:
            raise ScriptRuntimeError(
                f"subprocesses and call activities nest more than {MAX_NESTING} deep at {_label(task.task_spec)}: "
                "does a process call itself?", task.task_spec.bpmn_id, task.task_spec.bpmn_name)
        if self._steps > self.limits.run_steps:
            raise ScriptRuntimeError(
                f"the process ran more than {self.limits.run_steps:,} automatic steps without waiting for a "
                f"person or a timer, last at {_label(task.task_spec)}: is there a loop with no wait state?",
                task.task_spec.bpmn_id, task.task_spec.bpmn_name)

    def _after_step(self, task: Task) -> None:
        """Check what model code computed, and note the steps worth a line in the audit's history."""
        spec = task.task_spec
        extensions = getattr(spec, "extensions", {}) or {}
        name = spec.bpmn_name or spec.bpmn_id
        if isinstance(spec, _COMPUTING_SPECS):
            try:
                check_data(task.data, self.limits)
            except DataRuleError as error:
                raise ScriptRuntimeError(f"after {_label(spec)}, {error}", spec.bpmn_id, spec.bpmn_name) from None
        if extensions.get("notify"):
            detail = {"notify": extensions["notify"], "phase": extensions.get("phase"), "task_id": str(task.id)}
            for optional in ("unless_claimed", "about"):
                if extensions.get(optional):
                    detail[optional] = extensions[optional]
            if extensions.get("notify_users"):  # named people (``${chair}``) rather than a whole group
                detail["users"] = names_in(task, "notify_users")
            self.events.append(EngineEvent("notification", spec.bpmn_id, name, agency_of(task), detail))
        elif isinstance(spec, _COMPUTING_SPECS):
            self.events.append(EngineEvent("automatic_task", spec.bpmn_id, name, agency_of(task),
                                           {"phase": extensions.get("phase")}))

    def _failure(self, error: Exception) -> ScriptRuntimeError:
        """Whatever went wrong in a run, as one ScriptRuntimeError naming the element where known."""
        cause: BaseException | None = error
        for _ in range(20):  # SpiffWorkflow wraps errors in its own; ours may be inside (a short chain)
            if cause is None:
                break
            if isinstance(cause, ScriptRuntimeError):
                return cause
            cause = getattr(cause, "exception", None) or cause.__cause__ or cause.__context__
        task = getattr(error, "task", None) or self._current
        spec = task.task_spec if task is not None else None
        where = f" at {_label(spec)}" if spec is not None else ""
        reason = str(error) if isinstance(error, SpiffWorkflowException | EngineError) else plain_reason(error)
        return ScriptRuntimeError(f"the process could not go on{where}: {reason}",
                                  getattr(spec, "bpmn_id", None), getattr(spec, "bpmn_name", None))

    def _check_depth(self) -> None:
        """Refuse to go on with a task tree deeper than SpiffWorkflow's iterator follows."""
        for tree in [self.workflow, *self.workflow.subprocesses.values()]:
            stack = [(tree.task_tree, 1)]
            while stack:
                task, depth = stack.pop()
                if depth > SAFE_DEPTH:
                    raise ScriptRuntimeError(
                        f"the process has run {depth} steps deep, near the {ENGINE_DEPTH} the engine can follow, "
                        f"at {_label(task.task_spec)}: a loop has gone round too many times",
                        task.task_spec.bpmn_id, task.task_spec.bpmn_name)
                stack.extend((child, depth + 1) for child in task.children)

    def _ready_user_task(self, task_id: str) -> Task:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, TypeError, SpiffWorkflowException):
            task = None
        if task is None or task.state != TaskState.READY or not isinstance(task.task_spec, UserTask):
            raise TaskNotReadyError(f"task {task_id} is not a ready user task of this audit")
        return task

def _is_timer(task: Task) -> bool:
    """Whether the task waits for a date or a duration (not a cycle)."""
    definition = getattr(task.task_spec, "event_definition", None)
    return isinstance(definition, TimerEventDefinition) and not isinstance(definition, CycleTimerEventDefinition)


def _label(spec: Any) -> str:
    """How an element is named in messages: its name and id."""
    return element_of(spec)[2]


#: an element with runs in several states shows the highest (the audit page's diagram)
_STATE_RANK = {"completed": 1, "waiting": 2, "active": 3}


def _element_state(task: Task) -> str | None:
    """What a task says of its element: ``active``, ``waiting`` (on a timer), ``completed``, or None (cancelled,
    failed)."""
    if task.state & (TaskState.READY | TaskState.STARTED):
        return "active"
    if task.state == TaskState.WAITING:
        timer = isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)
        return "waiting" if timer else "active"
    return "completed" if task.state == TaskState.COMPLETED else None


def _is_activity(spec: Any) -> bool:
    """Whether the element is a task or a subprocess (not an event or a gateway)."""
    if isinstance(spec, (SendTaskMixin, ReceiveTaskMixin)):
        return True
    return not isinstance(spec, (CatchingEvent, ThrowingEvent, MultiChoice, UnstructuredJoin))
