"""What an expression's value must be, by what the expression is for.

The sandbox evaluates every expression the same way; this module says what it was for (a timer, a
multi-instance cardinality, a gateway condition...) so an error can say so, and checks the values
SpiffWorkflow would otherwise trust: a timer must be a date or duration within the horizon (an int
made it fail deep inside the engine), and a cardinality a whole number within the instance bound
(``10**5`` took 25 seconds to create).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .budget import current_limits
from .timer_values import timer_value_problem

TIMER, CARDINALITY = "timer", "multi-instance cardinality"


def purpose_of(task: Any, expression: str) -> str:
    """What ``expression`` is for on ``task``'s element, in words for an error message."""
    spec = task.task_spec
    if not expression:
        return "expression"
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition) and expression == definition.expression:
        return TIMER
    if expression == getattr(spec, "cardinality", None):
        return CARDINALITY
    if expression == getattr(spec, "condition", None):
        return "completion condition"
    extensions = getattr(spec, "extensions", None) or {}
    for key, words in (("camunda:dueDate", "due date"), ("camunda:priority", "priority")):
        if expression == extensions.get(key):
            return words
    if getattr(spec, "dmnEngine", None) is not None:
        return "decision table"
    return "condition" if getattr(spec, "cond_task_specs", None) else "expression"


def check_result(task: Any, what: str, value: Any) -> str | None:
    """Why ``value`` will not do for ``what`` (a phrase to follow "the timer of 'X'"), or None."""
    limits = current_limits()
    if what == TIMER:
        return timer_value_problem(value, limits.horizon_days)
    if what == CARDINALITY:
        if type(value) is not int or not 0 <= value <= limits.max_instances:
            return (f"gave {value!r:.60}; it must be a whole number from 0 to {limits.max_instances} "
                    "(the most instances one activity may have)")
    return None
