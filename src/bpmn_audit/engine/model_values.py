"""Deploy-time checks on the values in a deployment's XML: timers, loops, priorities, form fields and scripts.

SpiffWorkflow accepts values at deploy that hang or overflow once an audit starts: a timer 99,999,999 years
away loops month by month in ``TimerEventDefinition.get_timedelta_from_start``, a loop cardinality of 100,000
takes half a minute, a 26-digit priority fits no integer column. Literal values are checked here against
:class:`.EngineLimits` without calling SpiffWorkflow; expressions are checked with the other code by
``validation.py``, and their values when they are evaluated.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import re2
from lxml import etree

from .errors import ModelProblem
from .model_checks import Check, DeploymentSurvey, ModelDocument, bpmn, camunda, local, problem
from .sandbox import normalize_expression
from .timer_values import duration_days

#: Largest ``camunda:priority``: Camunda's (and a database's) signed 32-bit integer.
MAX_PRIORITY = 2**31 - 1
MAX_PATTERN = 500  # the longest pattern constraint of a form field
#: Elements the app's own multi-instance classes run (``parser.MI_TAGS``, ``specs.py``).
MULTI_INSTANCE_ELEMENTS = frozenset({"userTask", "subProcess"})
_EXPRESSION = re.compile(r"[$#]\{.*\}", re.DOTALL)
_NOT_LITERAL = object()


def shown(value: object, most: int = 40) -> str:
    """A value as a message quotes it, cut short if long."""
    text = str(value)
    return repr(text if len(text) <= most else text[:most] + "…")


def literal(text: str) -> object:
    """The value of ``text`` if it is a literal (``P14D``, ``'P14D'``, ``${100}``), else ``_NOT_LITERAL``."""
    try:
        return ast.literal_eval(normalize_expression(text))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


# -- timers ---------------------------------------------------------------------------------------------------
def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def horizon_problem(text: str, horizon_days: int, now: datetime | None = None) -> str | None:
    """What is wrong with a literal timer value (date, duration or cycle) that lies beyond the horizon, or None."""
    value = literal(text)
    if not isinstance(value, str):
        return None  # an expression: its value is checked when the timer starts
    parts = value.strip().split("/")
    if parts[0].upper().startswith("R"):
        parts = parts[1:]
    now = now or datetime.now(UTC)
    limit = f"{horizon_days:,} days (about {horizon_days // 365} years)"
    for part in parts:
        if part.upper().startswith("P"):
            days = duration_days(part)
            if days is not None and days > horizon_days:
                return f"the timer {shown(value)} waits longer than the {limit} a timer may wait"
            continue
        moment = _moment(part)
        if moment is not None and moment - now > timedelta(days=horizon_days):
            return f"the timer date {shown(value)} is more than {limit} from now: check the year"
    return None


def _timers(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for definition in doc.root.iter(bpmn("timerEventDefinition")):
        for child in definition.iterchildren(bpmn("timeDate"), bpmn("timeDuration"), bpmn("timeCycle")):
            message = horizon_problem(child.text or "", deployment.limits.horizon_days)
            if message:
                yield problem(doc, definition.getparent(), message)


# -- loops ----------------------------------------------------------------------------------------------------
def _loops(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for loop in doc.root.iter(bpmn("standardLoopCharacteristics")):
        yield problem(doc, loop.getparent(), "loops (the loop marker, standardLoopCharacteristics) are not "
                                             "supported: loop back with an exclusive gateway, or make it a "
                                             "multi-instance over camunda:collection")
    for loop in doc.root.iter(bpmn("multiInstanceLoopCharacteristics")):
        message = multi_instance_problem(loop, deployment.limits.max_instances)
        if message:
            yield problem(doc, loop.getparent(), message)


def multi_instance_problem(loop: etree._Element, max_instances: int) -> str | None:
    """What is wrong with a ``multiInstanceLoopCharacteristics``, or None."""
    if local(loop.getparent()) not in MULTI_INSTANCE_ELEMENTS:
        return ("multi-instance (per-agency) works only on user tasks and embedded subprocesses: put this step in "
                "an embedded subprocess and make that multi-instance")
    cardinality = loop.find(bpmn("loopCardinality"))
    text = (cardinality.text or "").strip() if cardinality is not None else ""
    if (loop.get(camunda("collection")) or "").strip():
        return None
    if not text:
        unread = " (loopDataInputRef is not read by this app)" if loop.find(bpmn("loopDataInputRef")) is not None \
            else ""
        return (f"this multi-instance says neither over what nor how many times to run{unread}: set "
                "camunda:collection (Collection, e.g. agencies) and camunda:elementVariable (Element variable, "
                "e.g. agency)")
    too_many = (f"the loop cardinality {{}} is more than the {max_instances:,} instances one multi-instance may "
                "create")
    digits = normalize_expression(text)
    if digits.isascii() and digits.isdigit() and len(digits) > 18:
        return too_many.format(shown(digits))  # no need to read it (int() refuses more than 4,300 digits)
    value = literal(text)
    if value is _NOT_LITERAL:
        return None  # an expression: its value is checked when the activity starts
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or \
            (isinstance(value, float) and not value.is_integer()):
        return f"the loop cardinality {shown(text)} is not a whole number from 0 to {max_instances:,}"
    return too_many.format(f"{int(value):,}") if value > max_instances else None


# -- priorities, form fields, scripts -------------------------------------------------------------------------
def priority_problem(text: str) -> str | None:
    """What is wrong with a literal ``camunda:priority``, or None (expressions are checked as code)."""
    text = text.strip()
    if not text or _EXPRESSION.fullmatch(text):
        return None
    if len(text) > len(str(MAX_PRIORITY)) or not re.fullmatch(r"[0-9]+", text) or int(text) > MAX_PRIORITY:
        return (f"camunda:priority {shown(text)} is not a whole number from 0 to {MAX_PRIORITY:,}: write a number "
                "such as 90, or an expression such as ${priority}")
    return None


def _priorities(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for node in doc.root.iter(etree.Element):
        message = priority_problem(node.get(camunda("priority")) or "")
        if message:
            yield problem(doc, node, message)


def _form_fields(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for field in doc.root.iter(camunda("formField")):
        owner = next((node for node in field.iterancestors() if local(node) and node.get("id")), field)
        label = (field.get("label") or "").strip()
        what = f"the form field '{label}'" if label else "a form field"
        if not (field.get("id") or "").strip():
            yield problem(doc, owner, f"{what} has no ID, so it could never be filled in: give it an ID in the "
                                      "Modeler (Form fields -> ID)")
        for constraint in field.iter(camunda("constraint")):
            if constraint.get("name") == "pattern":
                message = pattern_problem(constraint.get("config"))
                if message:
                    yield problem(doc, owner, f"the pattern of {what} {message}")


def pattern_problem(pattern: str | None) -> str | None:
    """Why a form field's ``pattern`` constraint cannot be used (None if it can): it must be a regular
    expression RE2 runs (no look-around or back-references: matching stays linear in the answer's length),
    of at most MAX_PATTERN characters."""
    if not pattern:
        return "is empty: write a regular expression, such as [A-Z]{2}[0-9]{6}"
    if len(pattern) > MAX_PATTERN:
        return f"is longer than {MAX_PATTERN} characters"
    try:
        re2.compile(pattern)
    except re2.error:
        return (f"{shown(pattern)} is not a regular expression the app can run (look-around and "
                "back-references are not supported)")
    return None


def _scripts(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for task in doc.root.iter(bpmn("scriptTask")):
        script_format = (task.get("scriptFormat") or "python").strip()
        if script_format.lower() != "python":
            yield problem(doc, task, f"the script's format is '{script_format}': scripts must be Python "
                                     "(Format: python)")
        if task.find(bpmn("script")) is None:
            yield problem(doc, task, "this script task has no inline script (an external resource is not "
                                     "supported): set Type to Inline script and write the script")


VALUE_CHECKS: tuple[Check, ...] = (_timers, _loops, _priorities, _form_fields, _scripts)


def check_values(deployment: DeploymentSurvey) -> list[ModelProblem]:
    """Every problem with the literal values of the deployment's BPMN files."""
    return [found for doc in deployment.documents if not doc.is_dmn
            for check in VALUE_CHECKS for found in check(doc, deployment)]
