"""Deploy refuses what would misbehave: each model in tests/data/deploy_*.bpmn is refused with a plain problem
naming the element and the file, before anything is stored, instead of a traceback at deploy or an audit
that hangs, overflows or waits for ever once started."""

from __future__ import annotations

import re
from html import escape

import pytest
from SpiffWorkflow.bpmn.parser.util import full_tag

from bpmn_audit.config import DEFAULT_LANE_GROUPS
from bpmn_audit.engine import model_checks
from bpmn_audit.engine.errors import ModelProblem, ModelValidationError
from bpmn_audit.engine.limits import EngineLimits
from bpmn_audit.engine.parser import AuditParser, parse_models
from bpmn_audit.engine.validation import validate_models
from bpmn_audit.services import deployments
from bpmn_audit.services.identity import GROUPS
from conftest import DATA, PROCESSES

DMN = ("audit_durations.dmn", (PROCESSES / "audit_durations.dmn").read_bytes())
SHIPPED = [("multi_agency_audit.bpmn", (PROCESSES / "multi_agency_audit.bpmn").read_bytes()), DMN]
#: What a message must not contain: Python's words for what went wrong, rather than the process owner's.
PYTHON_WORDS = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b|NoneType|\bcls\b|<class ")


def model(name: str, **replacing: str) -> tuple[str, bytes]:
    """A test model's file name and content, with ``@@KEY@@`` placeholders (or any text) replaced."""
    text = (DATA / name).read_text()
    for old, new in replacing.items():
        placeholder = f"@@{old.upper()}@@"
        assert placeholder in text or old in text, f"{name} has no {old!r}"
        text = text.replace(placeholder if placeholder in text else old, new)
    return name, text.encode()


def assert_plain(problem: ModelProblem) -> None:
    """The problem is in plain English and says where it is."""
    assert problem.file_name and problem.message, problem
    assert not PYTHON_WORDS.search(problem.message), problem.message


def problems_of(*files: tuple[str, bytes], limits: EngineLimits | None = None) -> list[ModelProblem]:
    """Every problem validation finds in the files (deployed with the shipped decision table)."""
    keywords = {"limits": limits} if limits else {}
    with pytest.raises(ModelValidationError) as caught:
        validate_models([*files, DMN], DEFAULT_LANE_GROUPS, GROUPS, **keywords)
    for problem in caught.value.problems:
        assert_plain(problem)
    return caught.value.problems


def the_problem(*files: tuple[str, bytes], limits: EngineLimits | None = None) -> ModelProblem:
    [problem] = problems_of(*files, limits=limits)
    return problem


def refused_by_deploy(*files: tuple[str, bytes]) -> list[ModelProblem]:
    """The problems ``deploy`` gives; it must store nothing."""
    before = deployments.list_deployments()
    with pytest.raises(ModelValidationError) as caught:
        deployments.deploy([*files, DMN], deployed_by="tests")
    assert deployments.list_deployments() == before
    for problem in caught.value.problems:
        assert_plain(problem)
    return caught.value.problems


def test_the_shipped_model_still_validates_and_deploys(app):
    assert list(validate_models(SHIPPED, DEFAULT_LANE_GROUPS, GROUPS, limits=EngineLimits()).processes) == [
        "multi_agency_audit"]
    [deployment] = deployments.deploy(SHIPPED, deployed_by="tests")
    assert (deployment.process_key, deployment.version) == ("multi_agency_audit", 1)


# -- element types ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("file_name", "element_id", "says"), [
    ("deploy_plain_task.bpmn", "do_it", ["plain task", "make it a user task", "or a script task"]),
    ("deploy_manual_task.bpmn", "phone_chair", ["manual task is given to nobody", "make it a user task"]),
    ("deploy_service_task.bpmn", "send_pack", ["service tasks are not supported", "script task"]),
    ("deploy_send_task.bpmn", "notify_leads", ["send tasks are not supported", "intermediate throw event"]),
    ("deploy_receive_task.bpmn", "await_reply", ["receive tasks are not supported", "intermediate catch event"]),
    ("deploy_complex_gateway.bpmn", "merge", ["complex gateways are not supported", "exclusive"]),
    ("deploy_event_based_gateway.bpmn", "first_of", ["event-based gateways are not supported", "boundary timer"]),
    ("deploy_event_subprocess.bpmn", "on_concern", ["event subprocesses are not supported"]),
    ("deploy_standard_loop.bpmn", "count_up", ["loops (the loop marker", "not supported", "exclusive gateway"]),
    ("deploy_signal_end.bpmn", "signal_done", ["signal end event does not send its signal", "throw event"]),
])
def test_elements_the_app_cannot_run_are_refused(app, file_name, element_id, says):
    [problem] = refused_by_deploy(model(file_name))
    assert (problem.element_id, problem.file_name) == (element_id, file_name)
    assert problem.element_name and problem.line
    for words in says:
        assert words in problem.message


def test_a_business_rule_task_without_a_decision_is_named(app):
    # BPMN files from other modelling tools leave camunda:decisionRef out; SpiffWorkflow raised KeyError.
    [problem] = refused_by_deploy(model("deploy_business_rule_no_ref.bpmn"))
    assert problem.element_id == "look_up"
    assert problem.message.startswith("this business rule task names no decision: set camunda:decisionRef")


def test_a_decision_that_is_not_deployed_is_named():
    problem = the_problem(model("deploy_business_rule_unknown.bpmn"))
    assert problem.element_id == "look_up"
    assert problem.message == ("camunda:decisionRef 'audit_lengths' names no decision of this deployment; the "
                               "decisions are audit_durations")
    with pytest.raises(ModelValidationError) as caught:
        validate_models([SHIPPED[0]], DEFAULT_LANE_GROUPS, GROUPS)
    [problem] = caught.value.problems
    assert problem.element_id == "decide_durations"
    assert "no DMN file is deployed with this model: deploy the .bpmn and .dmn files together" in problem.message


# -- message and signal events ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("file_name", "element_id", "kind", "name"), [
    ("deploy_message_catch.bpmn", "wait_for_reply", "message", "chair_reply"),
    ("deploy_signal_boundary.bpmn", "concern_raised", "signal", "immediate_concern"),
])
def test_an_event_nothing_can_trigger_is_refused(app, file_name, element_id, kind, name):
    [problem] = refused_by_deploy(model(file_name))
    assert problem.element_id == element_id
    assert problem.message.startswith(f"nothing can trigger this event: no throw event in this deployment sends "
                                      f"the {kind} '{name}' and the app does not send it itself")


def test_a_signal_thrown_in_the_deployment_may_be_caught(app):
    [deployment] = deployments.deploy([model("deploy_signal_thrown.bpmn")], deployed_by="tests")
    assert deployment.process_key == "signal_thrown"


def test_a_message_throw_event_sends_a_checked_value(app):
    [deployment] = deployments.deploy([model("deploy_message_thrown.bpmn", payload="${'go'}")], deployed_by="tests")
    assert deployment.process_key == "message_thrown"
    [problem] = refused_by_deploy(model("deploy_message_thrown.bpmn", **{' camunda:expression="@@PAYLOAD@@"': ""}))
    assert problem.element_id == "give_go"
    assert problem.message.startswith("a message throw event needs camunda:expression, the value it sends")
    problem = the_problem(model("deploy_message_thrown.bpmn", payload="${give_go.__class__}"))
    assert problem.element_id == "give_go"
    assert problem.message.startswith("the message's camunda:expression is refused by the sandbox")


def test_a_name_the_app_sends_may_be_caught(monkeypatch):
    monkeypatch.setitem(model_checks.APP_TRIGGERED_EVENTS, "chair_reply", "the chair's reply page (a test)")
    assert list(validate_models([model("deploy_message_catch.bpmn")], DEFAULT_LANE_GROUPS, GROUPS).processes) == [
        "message_catch"]


# -- reserved ids, references, call activities ----------------------------------------------------------------
@pytest.mark.parametrize(("file_name", "element_id"), [
    ("deploy_reserved_start.bpmn", "Start"),
    ("deploy_reserved_root.bpmn", "Root"),
    ("deploy_reserved_end.bpmn", "End"),
    ("deploy_reserved_endjoin.bpmn", "reserved_endjoin.EndJoin"),
])
def test_ids_the_engine_reserves_are_refused(app, file_name, element_id):
    [problem] = refused_by_deploy(model(file_name))
    assert problem.element_id == element_id
    assert problem.message.startswith(f"the id '{element_id}' is one the engine uses for its own steps")
    assert problem.message.endswith("give this element another id")


def test_a_flow_to_a_missing_element_names_the_flow_and_the_id(app):
    [problem] = refused_by_deploy(model("deploy_flow_missing_target.bpmn"))
    assert (problem.element_id, problem.element_name) == ("to_merge", "Approved")
    assert problem.message == ("the sequence flow leads to 'qa_merg', which is not a task, event or gateway of this "
                               "process: reconnect it in the Modeler")


@pytest.mark.timeout(10)
def test_a_call_activity_that_calls_its_own_process_is_refused(app):
    [problem] = refused_by_deploy(model("deploy_call_self.bpmn"))
    assert problem.element_id == "again"
    assert problem.message.startswith("this call activity calls its own process 'call_self': each audit would "
                                      "start copies of itself without end")


@pytest.mark.timeout(10)
def test_a_call_cycle_through_another_process_is_refused():
    problems = problems_of(model("deploy_call_cycle_a.bpmn"), model("deploy_call_cycle_b.bpmn"))
    assert {(p.file_name, p.element_id) for p in problems} == {("deploy_call_cycle_a.bpmn", "call_b"),
                                                              ("deploy_call_cycle_b.bpmn", "call_a")}
    call_b = next(p for p in problems if p.element_id == "call_b")
    assert "(call_cycle_a -> call_cycle_b -> call_cycle_a)" in call_b.message


# -- timers ----------------------------------------------------------------------------------------------------
@pytest.mark.timeout(10)  # SpiffWorkflow's month-by-month loop would take hours over P99999999Y
@pytest.mark.parametrize("duration", ["P99999999Y", "P999999999D", "'P99999999Y'", "${'P99999999Y'}",
                                      "PT999999999999H", "P11Y", "R/P99999999Y"])
def test_a_timer_beyond_the_horizon_is_refused(duration):
    problems = problems_of(model("deploy_timer.bpmn", duration=duration))
    assert [p.element_id for p in problems] == ["wait"]
    assert "waits longer than the 3,660 days (about 10 years) a timer may wait" in problems[0].message


@pytest.mark.parametrize(("date", "says"), [
    ("9999-12-31T23:59:59Z", "is more than 3,660 days (about 10 years) from now: check the year"),
    ("${'9999-12-31T23:59:59+01:00'}", "is more than 3,660 days (about 10 years) from now"),
])
def test_a_timer_date_beyond_the_horizon_is_refused(date, says):
    problem = the_problem(model("deploy_timer_date.bpmn", date=date))
    assert problem.element_id == "wait" and says in problem.message


def test_a_timer_date_in_the_past_is_allowed_and_fires_at_once():
    assert validate_models([model("deploy_timer_date.bpmn", date="1901-01-01T00:00:00Z")], DEFAULT_LANE_GROUPS)


def test_the_horizon_comes_from_the_engine_limits():
    month = EngineLimits(horizon_days=30)
    assert validate_models([model("deploy_timer.bpmn", duration="P30D")], DEFAULT_LANE_GROUPS, limits=month)
    assert "30 days" in the_problem(model("deploy_timer.bpmn", duration="P31D"), limits=month).message
    # an expression is checked when the timer starts
    assert validate_models([model("deploy_timer.bpmn", duration="${wait_for}")], DEFAULT_LANE_GROUPS, limits=month)


# -- multi-instance, priority, forms, expressions --------------------------------------------------------------
def test_a_literal_loop_cardinality_above_the_bound_is_refused(app):
    [problem] = refused_by_deploy(model("deploy_mi_cardinality.bpmn"))
    assert problem.element_id == "read"
    assert problem.message == ("the loop cardinality 100,000 is more than the 100 instances one multi-instance "
                               "may create")
    assert the_problem(model("deploy_mi_cardinality.bpmn", **{"100000": "${100000}"})).element_id == "read"
    assert validate_models([model("deploy_mi_cardinality.bpmn", **{"100000": "5"})], DEFAULT_LANE_GROUPS, GROUPS)


def test_a_multi_instance_without_a_collection_says_to_use_one(app):
    [problem] = refused_by_deploy(model("deploy_mi_input_ref.bpmn"))
    assert problem.element_id == "read"
    assert "(loopDataInputRef is not read by this app): set camunda:collection" in problem.message


@pytest.mark.parametrize("priority", ["12345678901234567890123456", "2147483648", "-5", "high", "9.5"])
def test_a_priority_that_is_not_a_whole_number_in_range_is_refused(priority):
    problem = the_problem(model("deploy_priority.bpmn", priority=priority))
    assert problem.element_id == "chase"
    assert problem.message.startswith(f"camunda:priority '{priority}' is not a whole number from 0 to 2,147,483,647")


def test_a_priority_expression_is_checked_like_other_expressions():
    for fine in ("0", "90", "2147483647", "${priority}"):
        assert validate_models([model("deploy_priority.bpmn", priority=fine)], DEFAULT_LANE_GROUPS, GROUPS)
    problem = the_problem(model("deploy_priority.bpmn", priority="${chase.__class__}"))
    assert problem.element_id == "chase"
    assert problem.message.startswith("the camunda:priority is refused by the sandbox")


def test_a_form_field_without_an_id_is_refused(app):
    [problem] = refused_by_deploy(model("deploy_form_field_no_id.bpmn"))
    assert problem.element_id == "record"
    assert problem.message.startswith("the form field 'Notes' has no ID, so it could never be filled in")


def test_a_condition_too_deep_to_compile_names_the_gateway():
    condition = " + ".join(["1"] * 300) + " == 300"
    template = model("sandbox_template.bpmn", script="x = 1", condition=condition, timer="2027-01-31T09:00:00Z")
    problem = the_problem(template)
    assert (problem.element_id, problem.element_name) == ("decide", "Decide")
    assert "nests more than 100 levels deep" in problem.message


# -- all at once, and the backstop -----------------------------------------------------------------------------
def test_every_problem_the_xml_shows_is_reported_at_once(app):
    problems = refused_by_deploy(model("deploy_plain_task.bpmn"), model("deploy_reserved_end.bpmn"),
                                 model("deploy_business_rule_no_ref.bpmn"), model("deploy_timer.bpmn",
                                                                                  duration="P99999999Y"))
    assert sorted((p.file_name, p.element_id) for p in problems) == [
        ("deploy_business_rule_no_ref.bpmn", "look_up"), ("deploy_plain_task.bpmn", "do_it"),
        ("deploy_reserved_end.bpmn", "End"), ("deploy_timer.bpmn", "wait")]


def test_a_chain_too_long_for_the_engine_is_a_plain_problem():
    # SpiffWorkflow parses each step inside the parse of the one before: 1,000 in a row exhaust Python's stack.
    steps = "".join(f'<bpmn:sequenceFlow id="f{n}" sourceRef="s{n}" targetRef="s{n + 1}" />'
                    f'<bpmn:scriptTask id="s{n + 1}" scriptFormat="python"><bpmn:script>n = {n}</bpmn:script>'
                    "</bpmn:scriptTask>" for n in range(1000))
    long_chain = model("deploy_signal_thrown.bpmn", **{'<bpmn:sequenceFlow id="to_review"': (
        f'<bpmn:sequenceFlow id="to_chain" sourceRef="split" targetRef="s0" /><bpmn:scriptTask id="s0" '
        f'scriptFormat="python"><bpmn:script>n = 0</bpmn:script></bpmn:scriptTask>{steps}'
        '<bpmn:sequenceFlow id="chain_done" sourceRef="s1000" targetRef="given_end" />'
        '<bpmn:sequenceFlow id="to_review"')})
    problem = the_problem(long_chain)
    assert problem.element_id and problem.element_id.startswith("s")
    assert problem.message.startswith("the engine could not read the process from this element on: too many steps")


def test_an_exception_inside_spiffworkflows_task_parser_names_the_element(monkeypatch):
    user_task_parser = AuditParser.OVERRIDE_PARSER_CLASSES[full_tag("userTask")][0]

    def broken_parser(*args, **kwargs):
        raise KeyError("{http://camunda.org/schema/1.0/bpmn}something")

    monkeypatch.setattr(user_task_parser, "create_task", broken_parser)
    with pytest.raises(ModelValidationError) as caught:
        parse_models([model("deploy_form_field_no_id.bpmn", **{'label="Notes" ': 'id="notes" label="Notes" '})])
    [problem] = caught.value.problems
    assert_plain(problem)
    assert problem.element_id == "record"
    assert problem.message.startswith("the engine could not read this element")


def test_an_exception_while_building_a_process_names_the_process(monkeypatch):
    monkeypatch.setattr(AuditParser, "get_subprocess_specs", lambda *args: None.specs)  # AttributeError
    with pytest.raises(ModelValidationError) as caught:
        parse_models([model("deploy_signal_thrown.bpmn")])
    [problem] = caught.value.problems
    assert_plain(problem)
    assert (problem.element_id, problem.file_name) == ("signal_thrown", "deploy_signal_thrown.bpmn")


@pytest.mark.parametrize(("pattern", "said"), [
    ("(?<=a)b", "is not a regular expression the app can run"), (r"(a)\1", "is not a regular expression"),
    ("", "is empty"), ("a" * 501, "is longer than 500 characters")])
def test_a_form_field_pattern_the_app_cannot_run_is_refused(app, pattern, said):
    with_pattern = {'<camunda:formField id="outcome" label="Outcome" type="string" />':
                    '<camunda:formField id="outcome" label="Outcome" type="string"><camunda:validation>'
                    f'<camunda:constraint name="pattern" config="{escape(pattern, quote=True)}"/>'
                    '</camunda:validation></camunda:formField>',
                    '<camunda:formField label="Notes" type="string" />': ""}
    [problem] = refused_by_deploy(model("deploy_form_field_no_id.bpmn", **with_pattern))
    assert problem.element_id == "record"
    assert problem.message.startswith("the pattern of the form field 'Outcome' ") and said in problem.message
