"""Deploy-time validation names the element and says what is wrong, for every kind of mistake
a process owner is likely to make in the modeller."""

from __future__ import annotations

import pytest

from bpmn_audit.config import DEFAULT_LANE_GROUPS
from bpmn_audit.engine.errors import ModelValidationError
from bpmn_audit.engine.safe_xml import MalformedXMLError
from bpmn_audit.engine.validation import validate_models
from bpmn_audit.services.identity import GROUPS
from conftest import PROCESSES

BPMN = (PROCESSES / "multi_agency_audit.bpmn").read_text()
DMN = (PROCESSES / "audit_durations.dmn").read_bytes()


def problems_of(old: str, new: str, count: int = 1) -> list[str]:
    assert BPMN.count(old) >= 1, f"the model no longer contains {old!r}"
    changed = BPMN.replace(old, new, count)
    with pytest.raises(ModelValidationError) as caught:
        validate_models([("audit.bpmn", changed.encode()), ("durations.dmn", DMN)], DEFAULT_LANE_GROUPS, GROUPS)
    return [str(problem) for problem in caught.value.problems]


def test_the_shipped_model_is_valid():
    assert list(validate_models([("audit.bpmn", BPMN.encode()), ("d.dmn", DMN)], DEFAULT_LANE_GROUPS, GROUPS)
                .processes) == ["multi_agency_audit"]


def test_a_misspelt_group_is_named():
    [problem] = problems_of('camunda:candidateGroups="chair"', 'camunda:candidateGroups="chiar"')
    assert problem.startswith("audit.bpmn, element 'chair_reads_reports' (Read all the agency reports): "
                              "camunda:candidateGroups names unknown group(s) chiar; the groups are business_unit,")


def test_a_task_nobody_can_do_is_named():
    without_group = BPMN.replace('camunda:candidateGroups="chair" camunda:assignee="${chair}" '
                                 'camunda:dueDate="${deadlines[\'event_due\']}"',
                                 'camunda:dueDate="${deadlines[\'event_due\']}"', 1)
    assert without_group != BPMN
    # in the Chair lane, the lane's group does it: valid
    validate_models([("audit.bpmn", without_group.encode()), ("d.dmn", DMN)], DEFAULT_LANE_GROUPS, GROUPS)
    # in a lane that maps to no group, nobody could
    renamed = without_group.replace('name="Chair">', 'name="Chairs">')
    with pytest.raises(ModelValidationError) as caught:
        validate_models([("audit.bpmn", renamed.encode()), ("d.dmn", DMN)], DEFAULT_LANE_GROUPS, GROUPS)
    assert [str(p) for p in caught.value.problems] == [
        "audit.bpmn, element 'record_event_part_1' (Record the practitioner event, part 1): nobody can do this "
        "user task: its lane 'Chairs' maps to no group; set camunda:candidateGroups"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("deadlines['notice_due']</bpmn:timeDate>", "P14D</bpmn:timeDate>",
     "element 'notice_period_ends' (Notice period ends): the Date timer 'P14D' is a duration"),
    ("deadlines['notice_due']</bpmn:timeDate>", "2027-01-31T09:00:00</bpmn:timeDate>",
     "element 'notice_period_ends' (Notice period ends): the timer '2027-01-31T09:00:00' has no time zone"),
    ("deadlines['notice_due']</bpmn:timeDate>", "P14X</bpmn:timeDate>",
     "element 'notice_period_ends' (Notice period ends): the timer 'P14X' is not a valid ISO 8601"),
    ("<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">deadlines['notice_due']</bpmn:timeDate>",
     '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R3/PT1H</bpmn:timeCycle>',
     "element 'notice_period_ends' (Notice period ends): cycle timers (timeCycle) are not supported"),
    ("qa_decision == 'approve'", "qa_decision = 'approve'",
     "element 'qa_gateway' (QA approved?): the condition of the flow to 'qiip_booking_merge' is not valid Python"),
    ('pseudonyms = [case["pseudonym"] for case in cases]', "import os",
     "element 'assign_pseudonyms' (List the cases and the agencies): the script is refused by the sandbox"),
])
def test_timer_condition_and_script_mistakes_are_named(old, new, expected):
    found = problems_of(old, new)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_reported_at_once():
    changed = BPMN.replace("qa_decision == 'approve'", "qa_decision ==").replace(
        'camunda:candidateGroups="qiip"', 'camunda:candidateGroups="quip"')
    with pytest.raises(ModelValidationError) as caught:
        validate_models([("audit.bpmn", changed.encode()), ("d.dmn", DMN)], DEFAULT_LANE_GROUPS, GROUPS)
    assert sorted(p.element_id for p in caught.value.problems) == ["qa_gateway", "qiip_sign_off"]
    assert all(p.to_dict()["file"] == "audit.bpmn" for p in caught.value.problems)


def test_schema_errors_and_broken_xml_say_where():
    with pytest.raises(ModelValidationError) as caught:
        validate_models([("audit.bpmn", BPMN.replace("<bpmn:documentation>The partnership",
                                                     "<bpmn:notes>The partnership").replace(
            "(Multi-Agency Audit Process 2021).</bpmn:documentation>", "(2021).</bpmn:notes>").encode()),
                         ("d.dmn", DMN)])
    [problem] = caught.value.problems
    assert problem.file_name == "audit.bpmn" and problem.line and "notes" in problem.message
    with pytest.raises(MalformedXMLError, match=r"audit.bpmn: not well-formed XML: .* \(line \d+\)"):
        validate_models([("audit.bpmn", BPMN[:2000].encode()), ("d.dmn", DMN)])
