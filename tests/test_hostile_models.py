"""Hostile and broken models never hang, crash or stall the engine: each ends with a clear error.

Each model is its own small file under tests/data/ (its documentation says what it did on main).
Models run straight through the engine, past deploy's checks on expressions, as a model deployed by an older
version of the app might; the timeout is a hang guard, never a timing assertion.
"""

from __future__ import annotations

import re

import pytest

from bpmn_audit.engine.data_rules import DataRuleError, check_data
from bpmn_audit.engine.errors import ModelValidationError, ScriptRuntimeError
from bpmn_audit.engine.limits import DEFAULT_LIMITS
from bpmn_audit.engine.parser import AuditParser, parse_models
from bpmn_audit.engine.safe_xml import parse_xml
from bpmn_audit.engine.serializer import dump_spec
from bpmn_audit.engine.workflow import RunningAudit
from bpmn_audit.services import deployments
from conftest import DATA

PYTHON_NAMES = re.compile(r"\b(\w+Error|\w+Exception|Traceback|GeneratorExit|KeyboardInterrupt)\b")


def spec_blob(name: str) -> bytes:
    """The model in tests/data/NAME.bpmn, parsed without deploy's checks."""
    [(spec, subprocess_specs)] = parse_models([(f"{name}.bpmn", (DATA / f"{name}.bpmn").read_bytes())]) \
        .processes.values()
    return dump_spec(spec, subprocess_specs)[1]


def start_fails(name: str) -> ScriptRuntimeError:
    with pytest.raises(ScriptRuntimeError) as caught:
        audit = RunningAudit.start(spec_blob(name))
        audit.user_tasks()  # what a save reads next
        audit.dump()
    return caught.value


def assert_clear(error: ScriptRuntimeError, element_id: str, *words: str) -> None:
    """Plain English, naming the element and the limit or rule, with no Python class names (outside the
    quoted code it suggests writing)."""
    message = str(error)
    assert error.element_id == element_id, message
    assert element_id in message, message
    assert not PYTHON_NAMES.search(re.sub(r"'[^']*'", "", message)), message
    for word in words:
        assert word in message, message


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("model", "words"), [
    ("hostile_while_true", ["the script of 'Hostile script' (hostile)"]),
    ("hostile_big_comprehension", ["range of 1,000,000,000 numbers", "1,000,000 allowed"]),
    ("hostile_big_power", ["number of more than 10,000 bits"]),
    ("hostile_string_repeat", ["10,000,000,000 items"]),
    ("hostile_list_repeat", ["10,000,000,000 items"]),
    ("hostile_doubling", ["items"]),
    ("hostile_recursion", []),
    ("hostile_caught_budget", []),
])
def test_a_runaway_script_ends_with_a_clear_error(model, words):
    error = start_fails(model)
    assert_clear(error, "hostile", *words)
    assert re.search(r"loop rounds|ran for more than 2 s|items|bits|numbers", str(error)), error


@pytest.mark.timeout(20)
def test_a_script_that_allocates_without_operators_is_stopped_by_time_or_memory():
    error = start_fails("hostile_dict_comprehension")
    assert_clear(error, "hostile")
    assert re.search(r"ran for more than 2 s|more than 256 MB|loop rounds", str(error))


@pytest.mark.parametrize(("model", "words"), [
    ("hostile_base_exception", [".mro()"]),
    ("hostile_generator_exit", ["bare 'except:'"]),
])
def test_base_exceptions_cannot_be_raised_or_caught(app, model, words):
    with pytest.raises(ModelValidationError) as refused:
        deployments.deploy([(f"{model}.bpmn", (DATA / f"{model}.bpmn").read_bytes())])
    assert refused.value.problems[0].element_id == "hostile"
    assert_clear(start_fails(model), "hostile", "not allowed", *words)


@pytest.mark.parametrize(("model", "words"), [
    ("hostile_zip_data", ["the variable 'pairs'", "a zip"]),
    ("hostile_nested_data", ["the variable 'x'", "more than 32 levels deep"]),
    ("hostile_self_list", ["the variable 'x'", "contains itself"]),
    ("hostile_big_int_data", ["the variable 'x'", "number"]),
])
def test_data_json_cannot_hold_fails_the_script_that_made_it(model, words):
    assert_clear(start_fails(model), "hostile", "after 'Hostile script' (hostile)", *words)


@pytest.mark.parametrize("value", [
    (i for i in range(3)), map(str, [1]), range(3), b"bytes", {1, 2}, 1j, 10**5000, float("nan"), object(),
    {1: "not a text key"}, print,
], ids=["generator", "map", "range", "bytes", "set", "complex", "huge int", "nan", "object", "int key", "function"])
def test_only_json_values_are_process_data(value):
    with pytest.raises(DataRuleError, match="the variable 'v'"):
        check_data({"v": value}, DEFAULT_LIMITS)


def test_process_data_is_bounded_in_size():
    check_data({"v": "x" * 900_000}, DEFAULT_LIMITS)
    with pytest.raises(DataRuleError, match="more than 1,000,000 bytes"):
        check_data({"v": "x" * 600_000, "w": ["y" * 1000] * 600}, DEFAULT_LIMITS)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("model", "element", "words"), [
    ("hostile_script_loop", "again", ["more than 500 automatic steps", "loop with no wait state"]),
])
def test_engine_runaway_is_an_error_never_a_completed_instance(model, element, words):
    assert_clear(start_fails(model), element, *words)


def test_a_parallel_gateway_looping_to_itself_cannot_be_set_up():
    message = str(start_fails("hostile_parallel_loop"))
    assert "loop back on themselves" in message and not PYTHON_NAMES.search(message)


@pytest.mark.timeout(20)
def test_a_process_that_calls_itself_stops_at_the_nesting_limit():
    """Deploy refuses it (test_deploy_checks); run anyway, it stops rather than recursing for ever."""
    parser = AuditParser()  # SpiffWorkflow's parser alone: parse_models would refuse the model
    parser.add_bpmn_xml(parse_xml((DATA / "hostile_call_self.bpmn").read_bytes()).getroot(), "hostile_call_self.bpmn")
    blob = dump_spec(parser.get_spec("hostile_call_self"), parser.get_subprocess_specs("hostile_call_self"))[1]
    with pytest.raises(ScriptRuntimeError) as caught:
        RunningAudit.start(blob)
    assert_clear(caught.value, "start", "nest more than 20 deep", "call itself")


@pytest.mark.timeout(20)
def test_a_loop_of_500_rounds_is_an_error_not_a_completed_instance():
    with pytest.raises(ScriptRuntimeError) as caught:
        RunningAudit.start(spec_blob("hostile_loop_500"), data={"rounds": 500})
    assert_clear(caught.value, "done", "more than 500 automatic steps")


def test_a_loop_within_the_budgets_runs_correctly():
    audit = RunningAudit.start(spec_blob("hostile_loop_500"), data={"rounds": 100})
    assert not audit.is_completed
    assert [task.bpmn_id for task in audit.user_tasks()] == ["review"]
    assert audit.data["n"] == 100


@pytest.mark.timeout(20)
def test_a_task_tree_deeper_than_the_engine_can_follow_is_refused():
    """With a generous step budget, the depth guard stops the loop before the engine loses track of it."""
    with pytest.raises(ScriptRuntimeError) as caught:
        RunningAudit.start(spec_blob("hostile_loop_500"), DEFAULT_LIMITS.__class__(run_steps=5000), {"rounds": 500})
    assert_clear(caught.value, "done", "steps deep", "1000 the engine can follow")


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("model", "element", "words"), [
    ("hostile_timer_int", "wait", ["the timer of 'Wait' (wait) gave 5", "not a date"]),
    ("hostile_timer_far_expression", "wait", ["P99999999Y", "10-year horizon"]),
    ("hostile_cardinality", "each", ["multi-instance cardinality", "gave 100000", "from 0 to 100"]),
    ("hostile_agency_ints", "report", ["agency 1", "agency codes"]),
    ("hostile_many_agencies", "report", ["10,000 items", "at most 100 instances"]),
])
def test_values_the_engine_would_trust_are_checked_first(model, element, words):
    assert_clear(start_fails(model), element, *words)
