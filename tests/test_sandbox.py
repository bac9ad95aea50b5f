"""The RestrictedPython sandbox for BPMN/DMN expressions and scripts."""

from __future__ import annotations

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser

from bpmn_audit.engine.errors import ScriptRuntimeError, UnsafeCodeError
from bpmn_audit.engine.sandbox import (
    _BUILTINS,
    DENIED_NAMES,
    SandboxedScriptEngine,
    SandboxEnvironment,
    _guarded_getattr,
    check_code,
    normalize_expression,
)

UNSAFE_EXPRESSIONS = [
    "__import__('os')",
    "__import__('os').system('echo pwned')",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd')",
    "open('/etc/passwd').read()",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', 'f', 'eval')",
    "getattr(x, '__class__')",
    "'{0.__class__}'.format(1)",
    "'{a.__class__}'.format_map({'a': 1})",
    "[].__class__",
    "x.__class__.__mro__",
    "type(x)",
    "globals()",
    "vars()",
    "dir()",
    "__builtins__",
    "(i for i in []).gi_frame",
    "setattr(x, 'y', 1)",
]

UNSAFE_SCRIPTS = [
    "import os",
    "import os\nos.system('echo pwned')",
    "from os import path",
    "x = 1\nimport subprocess",
    "f = open('/etc/passwd')",
    "class Evil:\n    pass",
    "raise SystemExit(1)",
    "y = [].__class__",
    "breakpoint()",
]


def run_script(script: str, data: dict, functions: dict | None = None) -> dict:
    SandboxEnvironment(functions).execute(script, data)
    return data


# --- normalize_expression -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "P14D", "PT1H", "P2W", "P1Y2M3DT4H5M6S", "PT0.5S", "2027-01-31", "2027-01-31T09:00:00Z",
    "2027-01-31T09:00:00+01:00", "2027-01-31T09:00:00.123-05:00", "R3/PT1H", "R/2027-01-01T00:00:00Z/P1D",
    "R/P1D",
])
def test_bare_iso_values_become_string_literals(value):
    assert normalize_expression(f"  {value}\n") == repr(value)
    assert SandboxEnvironment().evaluate(f" {value} ", {}) == value


@pytest.mark.parametrize(("text", "expected"), [
    ("${name}", "name"),
    ("#{name}", "name"),
    ("${ name }", "name"),
    ("${deadlines['audit_due']}", "deadlines['audit_due']"),
    ("#{len(cases) >= 4}", "len(cases) >= 4"),
])
def test_el_wrapped_expressions_are_unwrapped(text, expected):
    assert normalize_expression(text) == expected


@pytest.mark.parametrize("text", ["x + 1", "P", "PT", "'P14D'", "days * 2", "${a} + ${b}", "P14D + x"])
def test_other_text_is_left_alone(text):
    assert normalize_expression(text) == text


def test_el_wrapped_expression_evaluates():
    env = SandboxEnvironment()
    data = {"deadlines": {"audit_due": "2027-01-31"}}
    assert env.evaluate("${deadlines['audit_due']}", data) == "2027-01-31"
    assert env.evaluate("#{approved}", {"approved": True}) is True


# --- check_code -----------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", UNSAFE_EXPRESSIONS)
def test_check_code_refuses_unsafe_expressions(expression):
    with pytest.raises(UnsafeCodeError, match="not allowed"):
        check_code(expression, "eval")


@pytest.mark.parametrize("script", UNSAFE_SCRIPTS)
def test_check_code_refuses_unsafe_scripts(script):
    with pytest.raises(UnsafeCodeError, match="not allowed"):
        check_code(script, "exec")


def test_unsafe_code_messages_say_what_and_why():
    with pytest.raises(UnsafeCodeError) as info:
        check_code("__import__('os')", "eval")
    assert str(info.value) == ("expression uses the name '__import__', which is not allowed: "
                               "names starting with '_' are forbidden")
    with pytest.raises(UnsafeCodeError, match=r"attribute '\.__class__'.*starting with '_'"):
        check_code("[].__class__", "eval")
    with pytest.raises(UnsafeCodeError, match=r"'\.format\(\)'.*f-string"):
        check_code("'{0.__class__}'.format(1)", "eval")
    with pytest.raises(UnsafeCodeError, match=r"script line 2 imports os, which is not allowed"):
        check_code("x = 1\nimport os", "exec")
    with pytest.raises(UnsafeCodeError, match="'open', which is not allowed"):
        check_code("open('/etc/passwd')", "eval")


def test_syntax_errors_are_syntax_errors_and_unsafe_code_is_not():
    assert not issubclass(UnsafeCodeError, SyntaxError)
    with pytest.raises(SyntaxError):
        check_code("x ==", "eval")
    with pytest.raises(SyntaxError):
        check_code("> 5", "eval")
    with pytest.raises(SyntaxError):
        check_code("x = 1", "eval")
    with pytest.raises(SyntaxError):
        check_code("if x\n  y = 1", "exec")
    with pytest.raises(UnsafeCodeError) as info:
        check_code("__import__('os')", "eval")
    assert not isinstance(info.value, SyntaxError)


def test_check_code_accepts_ordinary_code():
    for expression in ["1 + 2 * 3", "x in ['a', 'b']", "len(cases) >= 4", "d['k'][0]", "f'{x}!'",
                       "[c for c in cases if c > 1]", "s.split(',')", "P14D", "${x}"]:
        check_code(expression, "eval")
    check_code("total = 0\nfor c in cases:\n    total += c\n", "exec")
    check_code("\n    a = 1\n    b = a + 1\n", "exec")  # indented script text from the XML


def test_check_code_rejects_unknown_mode():
    with pytest.raises(ValueError):
        check_code("1", "single")


# --- evaluate / execute at run time ---------------------------------------------------------------


@pytest.mark.parametrize("expression", UNSAFE_EXPRESSIONS)
def test_evaluate_refuses_unsafe_expressions(expression):
    with pytest.raises(UnsafeCodeError):
        SandboxEnvironment().evaluate(expression, {"x": 1})


@pytest.mark.parametrize("script", UNSAFE_SCRIPTS)
def test_execute_refuses_unsafe_scripts(script):
    data = {"x": 1}
    with pytest.raises(UnsafeCodeError):
        SandboxEnvironment().execute(script, data)
    assert data == {"x": 1}


def test_denied_names_are_not_reachable_at_run_time():
    assert DENIED_NAMES.isdisjoint(_BUILTINS)
    assert not any(name.startswith("_") for name in _BUILTINS)
    for name in ["open", "__import__", "eval", "exec", "getattr", "type", "SystemExit"]:
        assert name not in _BUILTINS


def test_attribute_guard_blocks_private_attributes_and_str_format():
    for obj, name in [(1, "__class__"), ("x", "_secret"), ("{0.__class__}", "format"), (str, "format"),
                      ("{a}", "format_map")]:
        with pytest.raises(UnsafeCodeError, match="not allowed"):
            _guarded_getattr(obj, name)
    assert _guarded_getattr(" a ", "strip")() == "a"
    with pytest.raises(AttributeError):
        _guarded_getattr(1, "no_such_attribute")


def test_evaluate_ordinary_expressions():
    env = SandboxEnvironment()
    data = {"x": 3, "status": "a", "cases": [1, 2, 3, 4], "d": {"k": [10, 20]}, "s": " a, b ,c "}
    assert env.evaluate("x * 2 + 1", data) == 7
    assert env.evaluate("x > 2 and x != 4", data) is True
    assert env.evaluate("status in ['a', 'b']", data) is True
    assert env.evaluate("len(cases) >= 4", data) is True
    assert env.evaluate("d['k'][1]", data) == 20
    assert env.evaluate("cases[1:3]", data) == [2, 3]
    assert env.evaluate("[c * x for c in cases if c % 2 == 0]", data) == [6, 12]
    assert env.evaluate("{c: x for c in cases}[4]", data) == 3
    assert env.evaluate("sum(c for c in cases) + max(cases)", data) == 14
    assert env.evaluate("[p.strip() for p in s.split(',')]", data) == ["a", "b", "c"]
    assert env.evaluate("f'{status.upper()}-{x:03d}'", data) == "A-003"
    assert env.evaluate("sorted(reversed(cases)) == list(range(1, 5))", data) is True
    assert env.evaluate("dict(zip(['a', 'b'], [1, 2]))", data) == {"a": 1, "b": 2}
    assert env.evaluate("isinstance(x, int) and round(2.5) == 2 and abs(-1) == 1", data) is True


def test_evaluate_sees_external_context_and_helpers():
    env = SandboxEnvironment({"double": lambda v: v * 2})
    assert env.evaluate("double(x) + y", {"x": 2}, {"y": 1}) == 5


def test_execute_reads_and_writes_task_data():
    data = {"cases": [1, 2, 3], "n": 2, "note": " hello ", "old": "gone"}
    script = (
        "total = 0\n"
        "for c in cases:\n"
        "    total += c\n"
        "total -= 1\n"
        "doubled = [c * n for c in cases]\n"
        "lookup = {c: n for c in cases}\n"
        "a, (b, e) = 1, (2, 3)\n"
        "note = note.strip()\n"
        "label = f'{note}:{total}'\n"
        "cases.append(4)\n"
        "del old\n"
    )
    run_script(script, data)
    assert data == {"cases": [1, 2, 3, 4], "n": 2, "note": "hello", "total": 5, "doubled": [2, 4, 6],
                    "lookup": {1: 2, 2: 2, 3: 2}, "c": 3, "a": 1, "b": 2, "e": 3, "label": "hello:5"}


def test_execute_indented_script_and_local_functions():
    data = {"n": 2}
    script = "\n        def add(v):\n            return v + n\n        y = add(1)\n        print(y)\n"
    run_script(script, data)
    assert data == {"n": 2, "y": 3}


def test_execute_never_leaks_builtins_guards_or_helpers():
    helpers = {"plan_deadlines": lambda start: {"audit_due": start + "+14d"}}
    data = {"start": "2027-01-01"}
    run_script("deadlines = plan_deadlines(start)\nhelper_copy = plan_deadlines\nprint('x')", data, helpers)
    assert data == {"start": "2027-01-01", "deadlines": {"audit_due": "2027-01-01+14d"}}
    assert not any(key.startswith("_") for key in data)


def test_execute_refuses_task_data_shadowing_a_helper():
    with pytest.raises(ValueError, match="plan_deadlines"):
        run_script("x = 1", {"plan_deadlines": 3}, {"plan_deadlines": lambda: None})


def test_task_data_cannot_replace_guards():
    data = {"_getattr_": "not a function", "s": "a"}
    assert SandboxEnvironment().evaluate("s.upper()", data) == "A"
    run_script("t = s.upper()", data)
    assert data == {"_getattr_": "not a function", "s": "a", "t": "A"}


def test_attribute_assignment_on_objects_is_refused():
    data = {"d": {"k": 1}}
    run_script("d['k'] = 2", data)
    assert data["d"] == {"k": 2}
    with pytest.raises(TypeError):
        run_script("s.upper = 1", {"s": "a"})


def test_augmented_item_assignment_is_refused_by_restrictedpython():
    with pytest.raises(UnsafeCodeError):
        check_code("d['k'] += 1", "exec")


# --- SpiffWorkflow integration --------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:scriptTask id="script" name="Compute"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f4"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="big">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="small"/>
    <bpmn:endEvent id="big"/>
    <bpmn:endEvent id="small"/>
  </bpmn:process>
</bpmn:definitions>"""


def make_workflow(script: str, condition: str = "${total > 5}") -> BpmnWorkflow:
    parser = BpmnParser()
    xml = BPMN.format(script=script, condition=condition).encode()
    parser.add_bpmn_xml(etree.fromstring(xml), filename="test.bpmn")
    engine = SandboxedScriptEngine({"double": lambda v: v * 2})
    return BpmnWorkflow(parser.get_spec("proc"), script_engine=engine)


def test_workflow_runs_scripts_and_conditions_in_the_sandbox():
    wf = make_workflow("total = double(3)")
    wf.do_engine_steps()
    assert wf.is_completed()
    assert wf.data["total"] == 6
    assert wf.get_next_task(spec_name="big") is not None
    assert "double" not in wf.data and "__builtins__" not in wf.data


def test_workflow_refuses_unsafe_script():
    wf = make_workflow("import os\nos.system('echo pwned')")
    with pytest.raises(ScriptRuntimeError) as info:
        wf.do_engine_steps()
    assert str(info.value).startswith("the script of ") and "not allowed" in str(info.value)
    assert isinstance(info.value.__cause__, UnsafeCodeError)


def test_workflow_refuses_unsafe_condition():
    wf = make_workflow("total = 1", condition="().__class__.__base__.__subclasses__()")
    with pytest.raises(ScriptRuntimeError) as info:
        wf.do_engine_steps()
    assert str(info.value).startswith("the condition of 'gw'") and "not allowed" in str(info.value)
    assert info.value.element_id == "gw"
    assert isinstance(info.value.__cause__, UnsafeCodeError)


def test_engine_validate_distinguishes_syntax_from_unsafe_code():
    engine = SandboxedScriptEngine()
    engine.validate("x == 1")
    engine.validate("P14D")
    with pytest.raises(SyntaxError):
        engine.validate("> 5")  # the DMN engine then retries with "v > 5"
    engine.validate("v > 5")
    with pytest.raises(UnsafeCodeError):
        engine.validate("__import__('os')")
