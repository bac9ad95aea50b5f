"""A model cannot reach the operating system: refused at deploy, and powerless at run time.
Hostile XML (DOCTYPE, entities) is refused before any parsing of the model."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from bpmn_audit.engine.errors import ModelValidationError, ScriptRuntimeError, UnsafeXMLError
from bpmn_audit.engine.parser import parse_models
from bpmn_audit.engine.serializer import dump_spec
from bpmn_audit.engine.workflow import RunningAudit
from bpmn_audit.services import deployments
from conftest import DATA, PROCESSES

TEMPLATE = (DATA / "sandbox_template.bpmn").read_text()
SAFE = {"SCRIPT": "x = 1", "CONDITION": "x == 2", "TIMER": "2027-01-31T09:00:00Z"}
IMPORT_ESCAPE = "__import__('os').system('touch {marker}')"
SUBCLASS_ESCAPE = "().__class__.__base__.__subclasses__()"


def model(**parts: str) -> bytes:
    text = TEMPLATE
    for key, value in {**SAFE, **parts}.items():
        text = text.replace(f"@@{key}@@", escape(value))
    return text.encode()


@pytest.mark.parametrize(("part", "element", "code"), [
    ("SCRIPT", "run_script", IMPORT_ESCAPE),
    ("SCRIPT", "run_script", SUBCLASS_ESCAPE),
    ("CONDITION", "decide", IMPORT_ESCAPE),
    ("CONDITION", "decide", SUBCLASS_ESCAPE),
    ("TIMER", "wait", IMPORT_ESCAPE),
    ("TIMER", "wait", SUBCLASS_ESCAPE),
])
def test_unsafe_code_is_refused_at_deploy_naming_the_element(app, tmp_path, part, element, code):
    marker = tmp_path / "pwned"
    with pytest.raises(ModelValidationError) as caught:
        deployments.deploy([("probe.bpmn", model(**{part: code.format(marker=marker)}))])
    [problem] = caught.value.problems
    assert problem.element_id == element
    assert "refused by the sandbox" in problem.message and "not allowed" in problem.message
    assert deployments.list_deployments() == []  # nothing stored
    assert not marker.exists()


def test_a_safe_model_deploys(app):
    [deployment] = deployments.deploy([("probe.bpmn", model())])
    assert (deployment.process_key, deployment.version) == ("sandbox_probe", 1)


@pytest.mark.parametrize("part", ["SCRIPT", "CONDITION", "TIMER"])
@pytest.mark.parametrize("code", [IMPORT_ESCAPE, SUBCLASS_ESCAPE + "[0]"])
def test_the_same_code_reached_at_run_time_cannot_touch_the_os(tmp_path, part, code):
    """Bypass deploy-time validation (as a model deployed by an older version might) and run it."""
    marker = tmp_path / "pwned"
    parts = {part: code.format(marker=marker)}
    if part == "CONDITION":
        parts["SCRIPT"] = "x = 2"  # make sure the gateway evaluates the hostile condition
    spec, subprocess_specs = parse_models([("probe.bpmn", model(**parts))]).processes["sandbox_probe"]
    _, blob = dump_spec(spec, subprocess_specs)
    with pytest.raises(ScriptRuntimeError, match="not allowed"):
        RunningAudit.start(blob)
    assert not marker.exists()


DOCTYPE_ATTACKS = {
    "billion laughs": '<!DOCTYPE d [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    "external entity": '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    "plain doctype": "<!DOCTYPE definitions>",
}


@pytest.mark.parametrize("attack", DOCTYPE_ATTACKS)
def test_a_model_with_a_doctype_or_entities_is_refused_clearly(app, attack):
    text = (PROCESSES / "audit_durations.dmn").read_text()
    hostile = text.replace("?>", "?>\n" + DOCTYPE_ATTACKS[attack], 1).replace(
        "<description>Weeks", "<description>&xxe; &b; Weeks" if "ENTITY" in DOCTYPE_ATTACKS[attack] else
        "<description>Weeks")
    files = [("multi_agency_audit.bpmn", (PROCESSES / "multi_agency_audit.bpmn").read_bytes()),
             ("durations.dmn", hostile.encode())]
    with pytest.raises(UnsafeXMLError) as caught:
        deployments.deploy(files)
    message = str(caught.value)
    assert message.startswith("durations.dmn:") and "not allowed" in message
    assert deployments.list_deployments() == []


def test_an_external_entity_is_named_as_the_reason(app):
    hostile = model().replace(b'<?xml version="1.0" encoding="UTF-8"?>',
                              b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    with pytest.raises(UnsafeXMLError, match="external entity"):
        deployments.deploy([("probe.bpmn", hostile)])
    assert deployments.list_deployments() == []
