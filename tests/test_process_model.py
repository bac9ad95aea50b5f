"""The shipped models open cleanly in a modeller (Camunda Modeler / bpmn-js) and cover the 2021 procedure.

Every shipped BPMN file (the audit and the immediate concern) is checked for the schemas, deploy-time
validation, and complete diagram interchange with nothing drawn on top of anything else. The audit and
processes/audit_durations.dmn are also checked for lanes that match the app's groups, every numbered
step of the seed procedure, timers and due dates driven by the planned ``deadlines``, and the
phase-duration decision table.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import combinations, pairwise, product
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from bpmn_audit.config import DEFAULT_LANE_GROUPS
from bpmn_audit.engine.calendar import plan_deadlines
from bpmn_audit.engine.validation import validate_models

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
BPMN_FILE, DMN_FILE = PROCESSES / "multi_agency_audit.bpmn", PROCESSES / "audit_durations.dmn"
BPMN_NS, DMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL", "https://www.omg.org/spec/DMN/20191111/MODEL/"
NS = {"bpmn": BPMN_NS, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "dmn": DMN_NS,
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "camunda": "http://camunda.org/schema/1.0/bpmn"}
OMG_NAMESPACES = {NS["bpmn"], NS["bpmndi"], NS["dc"], NS["di"]}
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
FLOW_NODE_TAGS = {f"{{{BPMN_NS}}}{tag}" for tag in (
    "task userTask serviceTask scriptTask businessRuleTask sendTask receiveTask manualTask callActivity subProcess "
    "transaction adHocSubProcess startEvent endEvent intermediateCatchEvent intermediateThrowEvent boundaryEvent "
    "exclusiveGateway parallelGateway inclusiveGateway eventBasedGateway complexGateway").split()}
# ${deadlines['key']} or deadlines['key']: a planned date, never a literal
DEADLINE = re.compile(r"\s*(?:\$\{\s*)?deadlines\[\s*'(\w+)'\s*\]\s*\}?\s*")
PLANNED = set(plan_deadlines("2027-01-04", 2, 5, 2, 2, 1))
LANE_GROUPS = set(DEFAULT_LANE_GROUPS.values())


def _parse(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


@pytest.fixture(scope="module")
def bpmn():
    return _parse(BPMN_FILE)


SHIPPED = sorted(PROCESSES.glob("*.bpmn"))


@pytest.fixture(scope="module", params=SHIPPED, ids=[path.stem for path in SHIPPED])
def any_bpmn(request):
    """Each shipped BPMN file in turn (the audit and the immediate concern): drawn and checked alike."""
    return _parse(request.param)


@pytest.fixture(scope="module")
def dmn():
    return _parse(DMN_FILE)


def by_id(root, element_id):
    found = root.xpath("//bpmn:*[@id=$id]", namespaces=NS, id=element_id)
    assert found, f"no element '{element_id}' in the model"
    return found[0]


def local(element) -> str:
    return etree.QName(element).localname


def flow_nodes(container) -> list:
    return [child for child in container if child.tag in FLOW_NODE_TAGS]


def containers(root) -> list:
    """The process and every subprocess in it: each owns its flow nodes and sequence flows."""
    return root.xpath("//bpmn:process | //bpmn:process//bpmn:subProcess", namespaces=NS)


def bounds(shape) -> tuple[float, float, float, float]:
    """(x1, y1, x2, y2) of a shape's own dc:Bounds (not its label's)."""
    b = shape.find("dc:Bounds", NS)
    x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
    return x, y, x + w, y + h


def overlap(a, b) -> bool:
    """True if two bounds share some area (merely touching borders is fine)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def distance_to_border(x, y, b) -> float:
    if inside((x, y, x, y), b):
        return min(x - b[0], b[2] - x, y - b[1], b[3] - y)
    return math.hypot(max(b[0] - x, 0, x - b[2]), max(b[1] - y, 0, y - b[3]))


def runs_into(p, q, b, margin: float = 2) -> bool:
    """True if the segment p-q enters the interior of bounds b (deeper than ``margin``): Liang-Barsky clipping."""
    lo, hi, dx, dy = 0.0, 1.0, q[0] - p[0], q[1] - p[1]
    for step, room in ((-dx, p[0] - b[0] - margin), (dx, b[2] - margin - p[0]),
                       (-dy, p[1] - b[1] - margin), (dy, b[3] - margin - p[1])):
        if step == 0 and room < 0:
            return False
        if step != 0:
            lo, hi = (max(lo, room / step), hi) if step < 0 else (lo, min(hi, room / step))
    return lo <= hi


def plane_for(root, container):
    """The plane a container's contents are drawn on: the collaboration's, or a collapsed subprocess's own."""
    if local(container) == "process":
        return di_of(root, root.find("bpmn:collaboration", NS).get("id"), "BPMNPlane")[0]
    if di_of(root, container.get("id"))[0].get("isExpanded") == "true":
        return di_of(root, container.get("id"))[0].getparent()
    planes = di_of(root, container.get("id"), "BPMNPlane")
    assert len(planes) == 1, f"collapsed subprocess '{container.get('id')}' needs exactly one plane"
    return planes[0]


def di_of(root, element_id, kind="BPMNShape") -> list:
    return root.xpath(f"//bpmndi:{kind}[@bpmnElement=$id]", namespaces=NS, id=element_id)


def shapes_in(plane) -> dict:
    return {s.get("bpmnElement"): bounds(s) for s in plane.findall("bpmndi:BPMNShape", NS)}


def test_every_shipped_model_is_schema_valid_and_deploys(any_bpmn):
    etree.XMLSchema(etree.parse(XSD_PATH)).assertValid(any_bpmn)
    files = [(path.name, path.read_bytes()) for path in sorted(PROCESSES.iterdir()) if path.suffix in (".bpmn", ".dmn")]
    models = validate_models(files, DEFAULT_LANE_GROUPS)
    assert {"multi_agency_audit", "immediate_concern"} <= set(models.processes)


def test_schemas_and_deploy_time_validation_pass(bpmn, dmn):
    etree.XMLSchema(etree.parse(XSD_PATH)).assertValid(bpmn)
    etree.XMLSchema(etree.parse(DMN_SCHEMAS[DMN_NS])).assertValid(dmn)
    models = validate_models([(BPMN_FILE.name, BPMN_FILE.read_bytes()), (DMN_FILE.name, DMN_FILE.read_bytes())],
                             DEFAULT_LANE_GROUPS)
    assert "multi_agency_audit" in models.processes


def test_diagram_interchange_is_complete(any_bpmn):
    ids = Counter(e.get("id") for e in any_bpmn.iter() if isinstance(e.tag, str)
                  and etree.QName(e).namespace in OMG_NAMESPACES and e.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []
    semantic = {e.get("id") for e in any_bpmn.iter(f"{{{BPMN_NS}}}*") if e.get("id")}
    for di in any_bpmn.xpath("//*[@bpmnElement]"):
        assert di.get("bpmnElement") in semantic, f"{di.get('id')} draws a missing element"
    for ref in any_bpmn.xpath("//bpmn:*/@sourceRef | //bpmn:*/@targetRef | //bpmn:*/@attachedToRef | //bpmn:*/@default"
                          " | //bpmn:*/@processRef | //bpmn:flowNodeRef/text()", namespaces=NS):
        assert str(ref).strip() in semantic, f"reference to a missing element '{ref}'"
    main = plane_for(any_bpmn, any_bpmn.find("bpmn:process", NS))
    assert main.get("bpmnElement") == any_bpmn.find("bpmn:collaboration", NS).get("id")
    for element in any_bpmn.xpath("//bpmn:participant | //bpmn:lane", namespaces=NS):
        assert [s.getparent() for s in di_of(any_bpmn, element.get("id"))] == [main], element.get("id")
    for container in containers(any_bpmn):
        plane = plane_for(any_bpmn, container)
        for node in flow_nodes(container):
            shapes = di_of(any_bpmn, node.get("id"))
            assert len(shapes) == 1, f"'{node.get('id')}' has {len(shapes)} shapes"
            assert shapes[0].getparent() is plane, f"'{node.get('id')}' is drawn on the wrong plane"
        for flow in container.findall("bpmn:sequenceFlow", NS):
            edges = di_of(any_bpmn, flow.get("id"), "BPMNEdge")
            assert len(edges) == 1, f"'{flow.get('id')}' has {len(edges)} edges"
            assert edges[0].getparent() is plane, f"'{flow.get('id')}' is drawn on the wrong plane"
            assert len(edges[0].findall("di:waypoint", NS)) >= 2, f"'{flow.get('id')}' needs two waypoints"


def test_no_shapes_on_top_of_each_other_and_edges_touch_their_shapes(any_bpmn):
    for container in containers(any_bpmn):
        plane, nodes = plane_for(any_bpmn, container), {n.get("id"): n for n in flow_nodes(container)}
        drawn = {k: v for k, v in shapes_in(plane).items() if k in nodes}
        for a, b in combinations(sorted(drawn), 2):
            host = {nodes[a].get("attachedToRef"): a, nodes[b].get("attachedToRef"): b}
            if b in host or a in host:  # a boundary event sits on its host's border
                event, on = (host[b], b) if b in host else (host[a], a)
                assert overlap(drawn[event], drawn[on]) and not inside(drawn[event], drawn[on]), \
                    f"boundary event '{event}' {drawn[event]} is not on the border of '{on}' {drawn[on]}"
            else:
                assert not overlap(drawn[a], drawn[b]), f"'{a}' {drawn[a]} overlaps '{b}' {drawn[b]}"
        for flow in container.findall("bpmn:sequenceFlow", NS):
            points = di_of(any_bpmn, flow.get("id"), "BPMNEdge")[0].findall("di:waypoint", NS)
            for end, point in (("sourceRef", points[0]), ("targetRef", points[-1])):
                x, y, ref = float(point.get("x")), float(point.get("y")), flow.get(end)
                assert distance_to_border(x, y, drawn[ref]) <= 2, \
                    f"'{flow.get('id')}' ends at ({x:g}, {y:g}), off its {end[:6]} '{ref}' {drawn[ref]}"
    main = shapes_in(plane_for(any_bpmn, any_bpmn.find("bpmn:process", NS)))
    pool = main[any_bpmn.find("bpmn:collaboration/bpmn:participant", NS).get("id")]
    lanes = any_bpmn.findall(".//bpmn:lane", NS)
    for lane in lanes:
        assert inside(main[lane.get("id")], pool), f"lane '{lane.get('id')}' sticks out of the pool"
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            assert inside(main[ref.text], main[lane.get("id")]), \
                f"'{ref.text}' {main[ref.text]} is outside its lane '{lane.get('id')}' {main[lane.get('id')]}"
    for a, b in combinations(lanes, 2):
        assert not overlap(main[a.get("id")], main[b.get("id")]), f"lanes '{a.get('id')}' and '{b.get('id')}'"


def test_no_edge_runs_through_a_shape(any_bpmn):
    """Beyond docking on the border, an edge must not be drawn across any task, event or gateway (its own included)."""
    for container in containers(any_bpmn):
        plane, nodes = plane_for(any_bpmn, container), {n.get("id") for n in flow_nodes(container)}
        drawn = {k: v for k, v in shapes_in(plane).items() if k in nodes}
        for flow in container.findall("bpmn:sequenceFlow", NS):
            edge = di_of(any_bpmn, flow.get("id"), "BPMNEdge")[0].findall("di:waypoint", NS)
            points = [(float(p.get("x")), float(p.get("y"))) for p in edge]
            for (p, q), (element, b) in product(pairwise(points), drawn.items()):
                assert not runs_into(p, q, b), f"'{flow.get('id')}' segment {p}-{q} runs through '{element}' {b}"


def test_lanes_match_the_groups_and_every_user_task_has_its_groups(bpmn):
    lanes = bpmn.findall(".//bpmn:lane", NS)
    assert sorted(lane.get("name") for lane in lanes) == sorted(DEFAULT_LANE_GROUPS)
    refs = [(ref.text, DEFAULT_LANE_GROUPS[lane.get("name")]) for lane in lanes
            for ref in lane.findall("bpmn:flowNodeRef", NS)]
    lane_count, group_of = Counter(node for node, _ in refs), dict(refs)
    top_level = {n.get("id") for n in flow_nodes(bpmn.find("bpmn:process", NS))}
    assert set(lane_count) == top_level, f"in no lane: {top_level - set(lane_count)}"
    assert [n for n, count in lane_count.items() if count > 1] == [], "flow nodes in several lanes"
    for task in bpmn.iterfind(".//bpmn:userTask", NS):
        groups = [g.strip() for g in (task.get(f"{CAMUNDA}candidateGroups") or "").split(",") if g.strip()]
        assert groups and set(groups) <= LANE_GROUPS, f"'{task.get('id')}' has groups {groups}"
        if task.get("id") in group_of:
            lane_group = group_of[task.get("id")]
            assert groups[0] == lane_group if len(groups) == 1 else lane_group in groups, \
                f"'{task.get('id')}' is in the {lane_group} lane but offered to {groups}"


def _flows(root) -> list[tuple[str, str, etree._Element]]:
    return [(f.get("sourceRef"), f.get("targetRef"), f) for f in root.iterfind(".//bpmn:sequenceFlow", NS)]


def _reaches(root, start, goal, through_gateways_only=False) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for source, target, _ in _flows(root):
            if source == node and target not in seen:
                if target == goal:
                    return True
                seen.add(target)
                if not through_gateways_only or local(by_id(root, target)).endswith("Gateway"):
                    todo.append(target)
    return False


def _form_fields(root, task_id) -> dict:
    return {f.get("id"): f for f in by_id(root, task_id).iterfind(".//camunda:formField", NS)}


def _over_agencies(element) -> bool:
    loop = element.find("bpmn:multiInstanceLoopCharacteristics", NS)
    return loop is not None and (loop.get(f"{CAMUNDA}collection"), loop.get(f"{CAMUNDA}elementVariable")) == (
        "agencies", "agency")


def _timer_boundaries(root, host_id) -> dict:
    """{deadline key: boundary event} of the non-interrupting timer boundary events on a task."""
    events = root.xpath("//bpmn:boundaryEvent[@attachedToRef=$id]", namespaces=NS, id=host_id)
    assert all(e.get("cancelActivity") == "false" for e in events), f"'{host_id}' has an interrupting boundary"
    return {DEADLINE.fullmatch(e.findtext(".//bpmn:timeDate", "", NS)).group(1): e for e in events}


def _escalates_to(root, event) -> str:
    targets = [target for source, target, _ in _flows(root) if source == event.get("id")]
    assert len(targets) == 1, f"'{event.get('id')}' should lead to one task, not {targets}"
    return targets[0]


def test_the_seed_procedure_is_covered(bpmn):
    def is_(element_id, kind):
        assert local(by_id(bpmn, element_id)) == kind, f"'{element_id}' should be a {kind}"
    # steps 1, 2, 4: audit theme, chair, timeframe (with per-phase overrides)
    is_("set_up_audit", "userTask")
    assert {"title", "theme", "scope", "complexity", "chair", "independent_chair", "launch_date",
            "event_date", *(f"{p}_weeks_override" for p in ("notice", "audit", "review", "analysis", "qa"))} <= set(
        _form_fields(bpmn, "set_up_audit"))
    # step 2: the Business Unit sources an independent chair, when asked for
    is_("source_independent_chair", "userTask")
    (gateway, _, flow), = [f for f in _flows(bpmn) if f[1] == "source_independent_chair"]
    assert local(by_id(bpmn, gateway)) == "exclusiveGateway"
    assert "independent_chair" in flow.findtext("bpmn:conditionExpression", "", NS)
    # step 3 and 4a.i: the agencies are identified with the cases, during the notice period, not at set-up
    assert "agencies" not in _form_fields(bpmn, "set_up_audit") and "agencies" in _form_fields(bpmn, "nominate_cases")
    assert _reaches(bpmn, "nominate_cases", "lead_confirmation")
    # step 1: each agency confirms its lead; step 3: cases nominated, audit pack collated; step 5: leads briefed
    for task in ("confirm_audit_lead", "nominate_cases", "collate_audit_pack", "brief_audit_leads"):
        is_(task, "userTask")
    is_("lead_confirmation", "subProcess")
    assert _over_agencies(by_id(bpmn, "lead_confirmation"))
    assert by_id(bpmn, "confirm_audit_lead").getparent() is by_id(bpmn, "lead_confirmation")
    # step 4a: two weeks' notice
    is_("notice_period_ends", "intermediateCatchEvent")
    # steps 4b, 6: each agency audits and reports, with a reminder and an escalation to the Business Unit
    is_("agency_audit", "subProcess")
    assert _over_agencies(by_id(bpmn, "agency_audit"))
    assert by_id(bpmn, "submit_agency_report").getparent() is by_id(bpmn, "agency_audit")
    agency_timers = _timer_boundaries(bpmn, "submit_agency_report")
    assert sorted(agency_timers) == ["audit_due", "audit_reminder"]
    chase = by_id(bpmn, _escalates_to(bpmn, agency_timers["audit_due"]))
    assert chase.get("id") == "chase_agency_report" and chase.get(f"{CAMUNDA}candidateGroups") == "business_unit"
    # step 6: reports shared with the practitioners and the chair, who read them; step 7: the event, parts 1 and 2
    for task in ("share_reports", "read_reports", "chair_reads_reports", "record_event_part_1", "record_event_part_2"):
        is_(task, "userTask")
    assert _over_agencies(by_id(bpmn, "read_reports"))
    is_("practitioner_event_day", "intermediateCatchEvent")
    # step 8: the chair's analysis report, with a reminder and an escalation
    is_("write_analysis_report", "userTask")
    chair_timers = _timer_boundaries(bpmn, "write_analysis_report")
    assert sorted(chair_timers) == ["analysis_due", "analysis_reminder"]
    assert by_id(bpmn, _escalates_to(bpmn, chair_timers["analysis_due"])).get(f"{CAMUNDA}candidateGroups") == \
        "business_unit"
    # steps 9, 10: Business Unit QA and QiiP sign-off, either of which may return the report for revision
    # (through the script that gives each revision its deadline)
    for task in ("qa_analysis_report", "qiip_sign_off"):
        is_(task, "userTask")
        assert _reaches(bpmn, task, "set_revision_due", through_gateways_only=True), task
    assert ("set_revision_due", "revise_analysis_report") in {(s, t) for s, t, _ in _flows(bpmn)}
    assert ("revise_analysis_report", "qa_merge") in {(s, t) for s, t, _ in _flows(bpmn)}
    assert _reaches(bpmn, "qa_merge", "qa_analysis_report", through_gateways_only=True)
    # step 10: actions on the action tracker
    is_("record_actions", "userTask")
    assert ("record_actions", "build_action_tracker") in {(s, t) for s, t, _ in _flows(bpmn)}
    # the pack is collated once the cases are in, without waiting for every agency's lead; each lead is
    # briefed as soon as it confirms, inside its own agency's lead confirmation
    assert by_id(bpmn, "brief_audit_leads").getparent() is by_id(bpmn, "lead_confirmation")
    assert _reaches(bpmn, "confirm_audit_lead", "brief_audit_leads")
    # the notice deadline waits for the pack and the chair, not for every lead: a slow agency holds up nobody
    assert _reaches(bpmn, "nominate_cases", "lead_confirmation")
    assert not _reaches(bpmn, "lead_confirmation", "notice_period_ends")
    order = ["set_up_audit", "nominate_cases", "collate_audit_pack", "notice_period_ends",
             "wait_for_reports", "share_reports", "practitioner_event_day", "record_event_part_1",
             "record_event_part_2", "write_analysis_report", "qa_analysis_report", "qiip_sign_off", "record_actions"]
    for earlier, later in pairwise(order):
        assert _reaches(bpmn, earlier, later), f"'{later}' does not follow '{earlier}'"
    # the reports are shared when the last is in (the agency audits throw a signal that interrupts the wait)
    # or at the deadline (the wait ends), whichever comes first; a late report is announced when it arrives
    assert _reaches(bpmn, "notice_period_ends", "agency_audit") and _reaches(bpmn, "agency_audit", "all_reports_in")
    signal = by_id(bpmn, "all_reports_in").find("bpmn:signalEventDefinition", NS).get("signalRef")
    catch = by_id(bpmn, "b_all_reports_in")
    assert (catch.get("attachedToRef"), catch.get("cancelActivity")) == ("wait_for_reports", None)
    assert catch.find("bpmn:signalEventDefinition", NS).get("signalRef") == signal
    assert _reaches(bpmn, "b_all_reports_in", "share_reports", through_gateways_only=True)
    assert _reaches(bpmn, "submit_agency_report", "late_report_in", through_gateways_only=True)
    assert by_id(bpmn, "audit_closed").find("bpmn:terminateEventDefinition", NS) is not None


def test_the_agency_report_is_checked_per_case_and_hands_on_the_practitioner(bpmn):
    """The per-case findings live in the app's agency audit records (services/agency_audits.py): the task
    refuses to complete until they are whole, and hands the process only the nominated practitioner."""
    properties = {p.get("name"): p.get("value")
                  for p in by_id(bpmn, "submit_agency_report").iterfind(".//camunda:property", NS)}
    assert (properties["guard"], properties["provide"]) == ("agency_audit_complete", "agency_return")
    assert _form_fields(bpmn, "submit_agency_report") == {}  # nothing about a child in process data
    nominate = {p.get("name"): p.get("value") for p in by_id(bpmn, "nominate_cases").iterfind(".//camunda:property",
                                                                                              NS)}
    assert (nominate["guard"], nominate["provide"]) == ("cases_nominated", "case_list")
    assert by_id(bpmn, "agency_report_submitted").find("bpmn:terminateEventDefinition", NS) is not None


#: the timers that wait on a booked moment rather than a planned deadline: the practitioner event's day, and
#: the QiiP meeting the report is booked into
BOOKED_TIMERS = {"practitioner_event_day": "${event_at}",
                 "qiip_meeting_day": "${working_hours_after(qiip_meeting_on, 0)}"}
#: the due dates worked out when the task starts rather than planned: a revision, five working days from the
#: return; the reading week, five working days from when the reports are shared
WORKED_OUT_DUE_DATES = {"revise_analysis_report": "${revision_due}", "read_reports": "${reading_due}",
                       "chair_reads_reports": "${reading_due}",
                       "qiip_sign_off": "${working_days_after(qiip_meeting_on, 0)}"}


def test_timers_and_due_dates_read_the_planned_deadlines(bpmn):
    timers = bpmn.findall(".//bpmn:timerEventDefinition", NS)
    assert timers
    for timer in timers:
        owner = timer.getparent().get("id")
        assert [local(child) for child in timer] == ["timeDate"], f"'{owner}' must be a timeDate timer"
        if owner in BOOKED_TIMERS:
            assert timer[0].text == BOOKED_TIMERS[owner], owner
            continue
        match = DEADLINE.fullmatch(timer[0].text or "")
        assert match and match.group(1) in PLANNED, f"'{owner}' timer {timer[0].text!r} is not a planned deadline"
    for task in bpmn.xpath("//bpmn:userTask[@camunda:dueDate]", namespaces=NS):
        if task.get("id") in WORKED_OUT_DUE_DATES:
            assert task.get(f"{CAMUNDA}dueDate") == WORKED_OUT_DUE_DATES[task.get("id")]
            continue
        match = DEADLINE.fullmatch(task.get(f"{CAMUNDA}dueDate"))
        assert match and match.group(1) in PLANNED, f"'{task.get('id')}' due date is not a planned deadline"


def test_the_duration_table(bpmn, dmn):
    decision = dmn.find("dmn:decision[@id='audit_durations']", NS)
    assert by_id(bpmn, "decide_durations").get(f"{CAMUNDA}decisionRef") == "audit_durations"
    table = decision.find("dmn:decisionTable", NS)
    assert table.get("hitPolicy", "UNIQUE") == "UNIQUE"
    assert [o.get("name") for o in table.findall("dmn:output", NS)] == [
        "notice_weeks", "audit_weeks", "review_weeks", "analysis_weeks", "qa_weeks"]
    assert table.findtext("dmn:input/dmn:inputExpression/dmn:text", "", NS).strip() == "complexity"
    rows = {}
    for rule in table.findall("dmn:rule", NS):
        key = rule.findtext("dmn:inputEntry/dmn:text", "", NS).strip().strip('"')
        assert key not in rows, f"two rules for '{key}' under a UNIQUE hit policy"
        rows[key] = [int(e.findtext("dmn:text", "", NS)) for e in rule.findall("dmn:outputEntry", NS)]
    complexities = [v.get("id") for v in _form_fields(bpmn, "set_up_audit")["complexity"].findall("camunda:value", NS)]
    assert sorted(rows) == sorted(complexities)
    assert rows["standard"] == [2, 5, 2, 2, 1] and sum(rows["standard"]) == 12
    assert sum(rows["compressed"]) < 12 < sum(rows["extended"])
    assert all(len(r) == 5 and min(r) >= 1 for r in rows.values())


def test_the_partnership_runs_it_the_chair_reads_sourcing_runs_beside_the_notice_and_reminders(bpmn):
    """Issue 6: the named chair gets every chair task; the chair reads beside the practitioners before the
    event's day; sourcing an independent chair is a branch of the notice work; the notice work has reminders."""
    chair_tasks = [t for t in bpmn.iterfind(".//bpmn:userTask", NS) if t.get(f"{CAMUNDA}candidateGroups") == "chair"]
    assert {t.get("id") for t in chair_tasks} == {"chair_reads_reports", "record_event_part_1", "record_event_part_2",
                                                  "write_analysis_report", "revise_analysis_report"}
    assert {t.get(f"{CAMUNDA}assignee") for t in chair_tasks} == {"${chair}"}
    fields = _form_fields(bpmn, "set_up_audit")
    for task, field in (("set_up_audit", "chair"), ("source_independent_chair", "sourced_chair")):
        properties = {p.get("id"): p.get("value") for p in _form_fields(bpmn, task)[field].iterfind(
            ".//camunda:property", NS)}
        assert properties == {"format": "user", "group": "chair"}, task
    assert fields["event_date"].get("type") == "date"

    flows = {(s, t) for s, t, _ in _flows(bpmn)}
    # the chair's reading beside the practitioners', joined before the event's day
    (fork,) = {s for s, t in flows if t == "read_reports"}
    (join,) = {t for s, t in flows if s == "read_reports"}
    assert {(fork, "chair_reads_reports"), ("chair_reads_reports", join), (join, "practitioner_event_day")} <= flows
    assert local(by_id(bpmn, fork)) == local(by_id(bpmn, join)) == "parallelGateway"
    assert by_id(bpmn, "chair_reads_reports").get(f"{CAMUNDA}dueDate") == by_id(bpmn, "read_reports").get(
        f"{CAMUNDA}dueDate")
    assert _reaches(bpmn, "practitioner_event_day", "record_event_part_1")
    assert not bpmn.xpath("//bpmn:*[@id='schedule_event']", namespaces=NS)  # the date is booked at set-up
    # sourcing a chair: a branch of the notice fork beside the nomination (and, after it, the leads' confirmation)
    assert {target for source, target in flows if source == "notice_fork"} == {
        "nominate_cases", "independent_chair_gateway"}
    assert _reaches(bpmn, "source_independent_chair", "notice_join", through_gateways_only=True)
    assert {source for source, target in flows if target == "notice_join"} == {"chair_chosen", "collate_audit_pack"}
    # reminders three working days before the notice deadline: per agency for leads, and for the nomination
    for host, notify in (("confirm_audit_lead", "agency_lead"), ("nominate_cases", "nominating_partner")):
        (reminder,) = _timer_boundaries(bpmn, host).values()
        assert DEADLINE.fullmatch(reminder.findtext(".//bpmn:timeDate", "", NS)).group(1) == "notice_reminder"
        thrown = by_id(bpmn, _escalates_to(bpmn, reminder))
        assert local(thrown) == "intermediateThrowEvent"
        assert {p.get("name"): p.get("value") for p in thrown.iterfind(".//camunda:property", NS)}["notify"] == notify
        assert local(by_id(bpmn, _escalates_to(bpmn, thrown))) == "endEvent"
