"""Who sees and completes which task, and what happens with wrong form values."""

from __future__ import annotations

import pytest
import time_machine

from audit_driver import ANSWERS, AuditDriver
from bpmn_audit.models import ProcessInstance, db
from bpmn_audit.services import runtime, tasks
from bpmn_audit.services.errors import Forbidden, FormInvalid, NotFound
from conftest import LAUNCH


@pytest.fixture
def audit(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        yield AuditDriver(people)


def test_each_agency_sees_only_its_own_tasks(audit, people):
    assert tasks.inbox(people["lead.police"]) == []  # the agencies are identified with the cases
    assert [t.bpmn_id for t in tasks.inbox(people["nominator"])] == ["nominate_cases"]
    audit.complete("nominate_cases")
    audit.complete("collate_audit_pack")
    police = tasks.inbox(people["lead.police"])
    assert [(t.bpmn_id, t.agency) for t in police] == [("confirm_audit_lead", "police")]
    csc_task = next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "csc")
    with pytest.raises(NotFound):
        tasks.get_task(csc_task.id, people["lead.police"])
    with pytest.raises(NotFound):  # not Forbidden: agency A does not learn that agency B's task exists
        tasks.complete_task(csc_task.id, people["lead.police"], ANSWERS["confirm_audit_lead"])
    assert db.session.get(type(csc_task), csc_task.id).status == "open"
    # other roles see nothing of the agencies' work
    assert tasks.inbox(people["practitioner.police"]) == []
    assert tasks.inbox(people["nominator"]) == []
    assert tasks.inbox(people["chair"]) == []


def test_only_the_business_unit_starts_audits(app, people, deployed):
    with pytest.raises(Forbidden):
        runtime.start_audit(people["lead.police"])


def test_wrong_form_values_get_a_message_per_field_and_nothing_is_saved(audit, people):
    task = audit.open_tasks("nominate_cases")[0]
    version = db.session.get(ProcessInstance, audit.instance_id).version
    with pytest.raises(FormInvalid) as caught:
        tasks.complete_task(task.id, people["nominator"], {"case_count": "four", "nominating_system": " ",
                                                           "agencies": "police, police"})
    assert caught.value.errors == {"case_count": "Number of cases nominated must be a whole number, like 4",
                                   "agencies": "police is listed twice",
                                   "nominating_system": "Enter system the identifiers come from"}
    assert caught.value.values["case_count"] == "four"  # the input comes back for the form to show
    db.session.expire_all()
    assert db.session.get(ProcessInstance, audit.instance_id).version == version
    assert audit.open_tasks("nominate_cases")[0].status == "open"


def test_enum_and_date_fields_are_checked(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        instance = runtime.start_audit(people["bu"])
        audit_tasks = tasks.inbox(people["bu"])
        bad = {"title": "T", "theme": "T", "scope": "S", "complexity": "huge", "agencies": "police",
               "launch_date": "2027-02-30", "chair_name": "C"}
        with pytest.raises(FormInvalid) as caught:
            tasks.complete_task(audit_tasks[0].id, people["bu"], bad)
    assert caught.value.errors == {
        "complexity": "Choose one of: Standard (12 weeks), Compressed, Extended",
        "launch_date": "Launch date must be a real date, like 2027-03-31"}
    assert instance.status == "running"


def test_a_bad_action_line_is_reported_and_the_task_stays_open(audit, people):
    instance = db.session.get(ProcessInstance, audit.instance_id)
    record = _open_record_actions(audit, people)
    with pytest.raises(FormInvalid) as caught:
        tasks.complete_task(record.id, people["qiip"], {"actions": "Toolkit | Serious review | csc | 2027-09-30"})
    assert "review type 'Serious review' is not one of" in caught.value.errors["_process"]
    db.session.expire_all()
    assert audit.open_tasks("record_actions")[0].status == "open"
    assert db.session.get(ProcessInstance, instance.id).status == "running"


def _open_record_actions(audit, people):
    """Walk the audit to its last task."""
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit.through_analysis(clock)
        audit.complete("qa_analysis_report", {"qa_decision": "approve"})
        audit.meet_qiip(clock)
        audit.complete("qiip_sign_off", {"qiip_quorate": "true", "qiip_decision": "approve"})
    return audit.open_tasks("record_actions")[0]


def test_a_task_without_candidate_groups_goes_to_its_lanes_group(app, people):
    from bpmn_audit.services import deployments
    from conftest import DATA

    deployments.deploy([("engine_probe.bpmn", (DATA / "engine_probe.bpmn").read_bytes())])
    with time_machine.travel(LAUNCH, tick=False):
        runtime.start_audit(people["bu"], process_key="engine_probe")
    [task] = tasks.inbox(people["chair"])
    assert (task.bpmn_id, task.lane, task.candidate_groups) == ("by_lane", "Chair", ["chair"])
    assert tasks.inbox(people["bu"]) == []


def test_routing_belongs_to_the_deployed_version_and_a_new_setting_reroutes_no_running_audit(app, people):
    from bpmn_audit.services import deployments
    from conftest import DATA

    probe = [("engine_probe.bpmn", (DATA / "engine_probe.bpmn").read_bytes())]
    [v1] = deployments.deploy(probe)
    app.config["LANE_GROUPS"] = {**app.config["LANE_GROUPS"], "Chair": "qiip"}  # the setting changes
    with time_machine.travel(LAUNCH, tick=False):
        runtime.start_audit(people["bu"], process_key="engine_probe")  # still on version 1
    assert [t.bpmn_id for t in tasks.inbox(people["chair"])] == ["by_lane"] and tasks.inbox(people["qiip"]) == []
    [v2] = deployments.deploy(probe)  # the same model under the new routing is a new version
    assert (v2.version, v2.unchanged, v2.lane_groups["Chair"]) == (2, False, "qiip")
    assert v1.lane_groups["Chair"] == "chair"
    with time_machine.travel(LAUNCH, tick=False):
        runtime.start_audit(people["bu"], process_key="engine_probe")
    assert [t.bpmn_id for t in tasks.inbox(people["qiip"])] == ["by_lane"]
    assert [t.bpmn_id for t in tasks.inbox(people["chair"])] == ["by_lane"]  # the first audit's task is unchanged


def test_a_tasks_form_comes_from_its_deployment_without_loading_the_workflow(audit, people, monkeypatch):
    from bpmn_audit.services import persistence

    task = audit.open_tasks("nominate_cases")[0]
    loads = []
    real = persistence.load_audit
    monkeypatch.setattr(tasks, "load_audit", lambda *args: loads.append(args) or real(*args))
    form = tasks.task_form(task.id, people["nominator"])
    assert form.name == "Nominate the cases" and form.documentation.startswith("Seed steps 3 and 4a.i")
    assert [f.id for f in form.fields][:2] == ["case_count", "agencies"]
    assert form.fields[0].constraints == {"required": None, "min": "1", "max": "12"}
    assert (form.guards, form.providers) == (["cases_nominated"], ["case_list"])
    # a wrong value is refused before the workflow is loaded; the workflow is loaded only to complete
    with pytest.raises(FormInvalid):
        tasks.complete_task(task.id, people["nominator"], {"case_count": "four"})
    assert loads == []
    with pytest.raises(NotFound):
        tasks.task_form(task.id, people["lead.police"])


def test_a_version_deployed_before_forms_were_kept_still_reads_them_from_the_workflow(audit, people):
    task = audit.open_tasks("nominate_cases")[0]
    task.instance.deployment.forms = None  # as migrated from before forms were stored
    db.session.commit()
    form = tasks.task_form(task.id, people["nominator"])
    assert [f.id for f in form.fields][:2] == ["case_count", "agencies"]
    with pytest.raises(FormInvalid) as refused:
        tasks.complete_task(task.id, people["nominator"], {"case_count": "four"})
    assert refused.value.errors["case_count"] == "Number of cases nominated must be a whole number, like 4"
