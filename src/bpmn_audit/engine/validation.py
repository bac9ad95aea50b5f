"""Deploy-time validation: every expression and script is checked before a model can run.

Problems are collected (not stopped at the first) and each names its element and says what is
wrong, so a process owner can fix a whole model in one go.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.camunda.specs.user_task import UserTask

from .errors import ModelProblem, ModelValidationError, UnsafeCodeError
from .limits import DEFAULT_LIMITS, EngineLimits
from .parser import ParsedModels, parse_models
from .sandbox import check_code, normalize_expression

EVAL, EXEC = "eval", "exec"
LOOKS_ISO = re.compile(r"^(R\d*/|PT?\d|P\d|\d{4}-\d{2})", re.IGNORECASE)
EXPRESSION = re.compile(r"[$#]\{.*\}", re.DOTALL)


def validate_models(files: list[tuple[str, bytes]], lane_groups: dict[str, str] | None = None,
                    known_groups: tuple[str, ...] | None = None, *,
                    limits: EngineLimits = DEFAULT_LIMITS) -> ParsedModels:
    """Parse ``files`` and check every expression, script and timer; raise ModelValidationError if any fail.

    Parsing refuses what the app cannot run, within ``limits`` (see parse_models). With ``lane_groups``
    (lane name -> group), also require that every user task can reach someone: ``camunda:candidateGroups``,
    ``candidateUsers`` or ``assignee``, or a lane that maps to a group. With ``known_groups``, every group
    named in ``camunda:candidateGroups`` must be one of them.
    """
    models = parse_models(files, limits)
    problems: list[ModelProblem] = []
    seen: set[int] = set()
    for spec, subprocess_specs in models.processes.values():
        for process_spec in [spec, *subprocess_specs.values()]:
            if id(process_spec) in seen:
                continue
            seen.add(id(process_spec))
            problems.extend(_check_process(process_spec, lane_groups, known_groups))
    if problems:
        raise ModelValidationError(problems)
    return models


def _check_process(spec: BpmnProcessSpec, lane_groups: dict[str, str] | None,
                   known_groups: tuple[str, ...] | None) -> Iterator[ModelProblem]:
    for task_spec in spec.task_specs.values():
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if bpmn_id is None:
            continue
        name = getattr(task_spec, "bpmn_name", None)
        for what, text, mode in _code_of(task_spec):
            message = _code_problem(what, text, mode)
            if message:
                yield ModelProblem(message, bpmn_id, name, spec.file)
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            message = _timer_kind_problem(definition)
            if message:
                yield ModelProblem(message, bpmn_id, name, spec.file)
        extensions = getattr(task_spec, "extensions", None) or {}
        groups = [g.strip() for g in extensions.get("camunda:candidateGroups", "").split(",") if g.strip()]
        unknown = [group for group in groups if known_groups is not None and group not in known_groups]
        if unknown:
            yield ModelProblem(f"camunda:candidateGroups names unknown group(s) {', '.join(unknown)}; the groups are "
                               f"{', '.join(known_groups)}", bpmn_id, name, spec.file)
        if lane_groups is not None and isinstance(task_spec, UserTask):
            has_people = any(extensions.get(f"camunda:{key}") for key in ("candidateGroups", "candidateUsers",
                                                                          "assignee"))
            if not has_people and task_spec.lane not in lane_groups:
                where = f"its lane '{task_spec.lane}' maps to no group" if task_spec.lane else "it is in no lane"
                yield ModelProblem(f"nobody can do this user task: {where}; set camunda:candidateGroups",
                                   bpmn_id, name, spec.file)


def _code_of(task_spec: Any) -> Iterator[tuple[str, str, str]]:
    """(what it is, its text, eval or exec) for every piece of code the task spec will run."""
    if getattr(task_spec, "script", None):
        yield "script", task_spec.script, EXEC
    for condition, target in getattr(task_spec, "cond_task_specs", []) or []:
        condition = getattr(condition, "args", [condition])[0]  # SpiffWorkflow wraps it in _BpmnCondition
        if condition is not None:
            target_id = getattr(task_spec._wf_spec.task_specs.get(target), "bpmn_id", target)
            yield f"condition of the flow to '{target_id}'", condition, EVAL
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        yield "timer", definition.expression or "", "timer"
    if isinstance(definition, MessageEventDefinition) and definition.expression:
        yield "message's camunda:expression", definition.expression, EVAL
    extensions = getattr(task_spec, "extensions", None) or {}
    if extensions.get("camunda:dueDate"):
        yield "camunda:dueDate", extensions["camunda:dueDate"], EVAL
    if EXPRESSION.fullmatch(extensions.get("camunda:priority", "")):
        yield "camunda:priority", extensions["camunda:priority"], EVAL  # a literal is checked by model_values.py
    for attribute in ("cardinality", "condition"):
        value = getattr(task_spec, attribute, None)
        if isinstance(value, str) and value.strip():
            yield f"multi-instance {attribute}", value, EVAL
    engine = getattr(task_spec, "dmnEngine", None)
    if engine is not None:
        yield from _decision_table_code(engine.decision_table)


def _timer_kind_problem(definition: TimerEventDefinition) -> str | None:
    """A timer type the app cannot run, or a literal of the wrong kind for its type."""
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle timers (timeCycle) are not supported: use a Date (timeDate) or Duration (timeDuration) timer"
    try:
        value = ast.literal_eval(normalize_expression(definition.expression or ""))
    except (ValueError, SyntaxError):
        return None  # an expression: its value is checked when the timer starts
    if not isinstance(value, str):
        return None
    is_duration = value.upper().startswith("P")
    if value.upper().startswith("R"):
        return (f"the timer {value!r} repeats, and repeating timers (cycles) are not supported: use a Date "
                "(timeDate) or Duration (timeDuration) timer")
    if isinstance(definition, TimeDateEventDefinition) and is_duration:
        return f"the Date timer {value!r} is a duration: make it a Duration timer (timeDuration), or give a date"
    if isinstance(definition, DurationTimerEventDefinition) and not is_duration:
        return f"the Duration timer {value!r} is not a duration like P14D: make it a Date timer (timeDate)"
    if not is_duration and not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value.strip()):
        return (f"the timer {value!r} has no time zone: write it with one, e.g. 2027-01-31T09:00:00Z "
                "(UTC) or 2027-07-31T09:00:00+01:00 (British Summer Time)")
    return None


def _decision_table_code(table: Any) -> Iterator[tuple[str, str, str]]:
    for column in table.inputs:
        if column.expression:
            yield f"decision input '{column.label or column.id}'", column.expression, EVAL
    for rule in table.rules:
        for entry in rule.inputEntries:
            for text in entry.lhs:
                if text and text.strip() not in ("", "-"):
                    yield f"decision rule {rule.row_number} input", text.replace("?", "dmninputexpr"), EVAL
        for entry in rule.outputEntries:
            if entry.text and entry.text.strip():
                yield f"decision rule {rule.row_number} output '{entry.output.name}'", entry.text, EVAL


def _code_problem(what: str, text: str, mode: str) -> str | None:
    """A message saying what is wrong with one piece of code, or None if it is fine."""
    if not text or not text.strip():
        return f"the {what} is empty"
    check_mode = EVAL if mode == "timer" else mode
    try:
        check_code(text, check_mode)
    except SyntaxError as error:
        if what.startswith("decision rule") and what.endswith("input"):
            return _dmn_entry_problem(what, text)
        return f"the {what} is not valid Python ({error.msg}): {text.strip()!r}"
    except UnsafeCodeError as error:
        return f"the {what} is refused by the sandbox: {error}"
    if mode == "timer":
        return _timer_literal_problem(text)
    return None


def _dmn_entry_problem(what: str, text: str) -> str | None:
    # DMN input entries may be partial comparisons ("> 3"), which the DMN engine prefixes with the input.
    try:
        check_code(f"dmninputexpr {text}", EVAL)
    except SyntaxError as error:
        return f"the {what} is not valid Python ({error.msg}): {text.strip()!r}"
    except UnsafeCodeError as error:
        return f"the {what} is refused by the sandbox: {error}"
    return None


def _timer_literal_problem(text: str) -> str | None:
    normalized = normalize_expression(text)
    try:
        value = ast.literal_eval(normalized)
    except (ValueError, SyntaxError):
        if LOOKS_ISO.match(text.strip()):
            return f"the timer {text.strip()!r} is not a valid ISO 8601 date, duration or cycle"
        return None  # an expression over process data: checked when the timer starts
    if not isinstance(value, str):
        return f"the timer {text.strip()!r} is not an ISO 8601 date, duration or cycle"
    try:
        for part in _timer_parts(value):
            TimerEventDefinition.parse_time_or_duration(part)
    except Exception:  # SpiffWorkflow raises bare Exception / ValueError / AttributeError here
        return f"the timer {text.strip()!r} is not a valid ISO 8601 date, duration or cycle"
    return None


def _timer_parts(value: str) -> list[str]:
    """The dates and durations of a timer value, each part of a cycle on its own; ValueError if no cycle.

    Never parse_iso_recurring_interval: it calls get_timedelta_from_start, which loops once per month
    of a duration (a cycle of P99999999Y would hang the worker).
    """
    if not value.upper().startswith("R"):
        return [value]
    count, *parts = value.split("/")
    if not (count[1:] == "" or count[1:].isdigit()) or not 1 <= len(parts) <= 2:
        raise ValueError(f"{value!r} is not a cycle")
    return parts
