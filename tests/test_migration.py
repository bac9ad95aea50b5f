"""Moving running audits to a newer version: an audit in its agency-audit phase moved to a version with one
more QA step finishes on the new path with its deadlines unchanged and its open tasks' ids kept; a move that
would strand an audit is refused with the reason; the preview says what carries over, what is new, what is
cancelled and which timers restart; only admins move audits, and each move is in the audit's history."""

from __future__ import annotations

import time_machine
from lxml import etree
from sqlalchemy import select

from audit_driver import ANSWERS, QA_APPROVED, AuditDriver
from bpmn_audit.models import HistoryEvent, HumanTask, ProcessInstance, TimerJob, db
from bpmn_audit.models.task import OPEN
from bpmn_audit.services import api_tokens, deployments, identity, tasks
from conftest import LAUNCH, PROCESSES, csrf_token_in

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ANSWERS_NOMINATE = ANSWERS["nominate_cases"]


def _shipped() -> etree._Element:
    return etree.fromstring((PROCESSES / "multi_agency_audit.bpmn").read_bytes())


def _deploy(root: etree._Element, note: str):
    files = [("multi_agency_audit.bpmn", etree.tostring(root, xml_declaration=True, encoding="UTF-8")),
             ("audit_durations.dmn", (PROCESSES / "audit_durations.dmn").read_bytes())]
    [deployment] = deployments.deploy(files, "tests", note)
    return deployment


def with_one_more_qa_step():
    """The shipped process with a Business Unit check between QA's approval and booking QiiP, deployed."""
    root = _shipped()
    process = root.find(f"{{{BPMN}}}process")
    approved = process.find(f"{{{BPMN}}}sequenceFlow[@id='flow_qa_approved']")
    target = approved.get("targetRef")
    approved.set("targetRef", "check_plain_english")
    task = etree.SubElement(process, f"{{{BPMN}}}userTask", id="check_plain_english",
                            name="Check the report reads plainly for partners")
    task.set(f"{{{CAMUNDA}}}candidateGroups", "business_unit")
    task.set(f"{{{CAMUNDA}}}dueDate", "${deadlines['signoff_due']}")
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id="flow_checked", sourceRef="check_plain_english",
                     targetRef=target)
    lane = process.find(f".//{{{BPMN}}}lane[@id='lane_business_unit']")
    etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = "check_plain_english"
    return _deploy(root, "One more QA step")


def without_the_lead_confirmation_reminder_task():
    """A version in which the leads' confirmation task is renamed to a new id: audits waiting on it strand."""
    root = _shipped()
    text = etree.tostring(root).decode().replace('"confirm_audit_lead"', '"confirm_lead_v2"').replace(
        ">confirm_audit_lead<", ">confirm_lead_v2<")
    return _deploy(etree.fromstring(text.encode()), "Renamed a step")


def _open(instance_id: int) -> dict[str, tuple[str, str | None]]:
    db.session.expire_all()
    return {task.engine_task_id: (task.bpmn_id, task.assignee) for task in db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == OPEN))}


def _timers(instance_id: int) -> dict[str, object]:
    return {t.engine_task_id: t.due_at for t in db.session.scalars(select(TimerJob).where(
        TimerJob.instance_id == instance_id))}


def test_an_audit_in_its_agency_phase_moves_keeps_its_tasks_and_deadlines_and_ends_on_the_new_path(
        app, people, deployed, sign_in):
    identity.create_user("admin", "Admin", ["admin"], password="correct horse battery staple")
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        v2 = with_one_more_qa_step()  # after the audit started: it runs on version 1
        police = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "police")
        tasks.claim_task(police.id, people["lead.police"])
        before_tasks, before_timers = _open(audit.instance_id), _timers(audit.instance_id)
        deadlines = audit.data()["deadlines"]

        admin = sign_in("admin")
        path = f"/processes/multi_agency_audit/versions/{v2.version}/migrate"
        page = admin.get(path).get_data(as_text=True)
        assert f'value="{audit.instance_id}"' in page
        token = csrf_token_in(page)
        previewed = admin.post(path, data={"csrf_token": token, "audits": str(audit.instance_id), "reason": "QA step",
                                           "preview": "Preview the move"}).get_data(as_text=True)
        assert "Audit the cases and submit the agency report" in previewed and "Refused" not in previewed
        assert _open(audit.instance_id) == before_tasks  # a preview changes nothing
        assert db.session.get(ProcessInstance, audit.instance_id).deployment.version == 1
        moved = admin.post(path, data={"csrf_token": token, "audits": str(audit.instance_id), "reason": "QA step",
                                       "move": "Move them now"})
        assert moved.status_code == 302

        db.session.expire_all()
        assert db.session.get(ProcessInstance, audit.instance_id).deployment.version == v2.version
        assert _open(audit.instance_id) == before_tasks  # same ids, same claim (lead.police's)
        assert _timers(audit.instance_id) == before_timers
        assert audit.data()["deadlines"] == deadlines
        [event] = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == audit.instance_id,
                                                                HistoryEvent.kind == "migrated"))
        assert event.actor == "admin" and event.detail["from_version"] == 1 and event.detail["reason"] == "QA step"

        for bpmn_id in ("submit_agency_report", "share_reports", "read_reports", "chair_reads_reports"):
            audit.complete(bpmn_id)
        audit.pass_moment(clock, audit.data()["event_at"])
        for bpmn_id in ("record_event_part_1", "record_event_part_2", "write_analysis_report"):
            audit.complete(bpmn_id)
        audit.complete("qa_analysis_report", QA_APPROVED)
        assert [t.bpmn_id for t in audit.open_tasks()] == ["check_plain_english"]  # the new path
        audit.complete("check_plain_english", {})
        audit.meet_qiip(clock)
        audit.complete("qiip_sign_off", {"qiip_quorate": "true", "qiip_decision": "approve"})
        audit.complete("record_actions")
    db.session.expire_all()
    assert db.session.get(ProcessInstance, audit.instance_id).status == "completed"


def test_a_move_that_would_strand_an_audit_is_refused_with_the_reason_and_changes_nothing(app, people, deployed):
    admin = identity.create_user("admin", "Admin", ["admin"])
    token = {"Authorization": f"Bearer {api_tokens.issue_token(admin, 'tests')}"}
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")  # the leads' confirmations are open
        renamed = without_the_lead_confirmation_reminder_task()
        before = _open(audit.instance_id)
        client = app.test_client()
        path = f"/api/v1/audits/{audit.instance_id}/migration"
        for apply in (False, True):
            answer = client.post(path, headers=token, json={"to_version": renamed.version, "apply": apply,
                                                            "reason": "Rename"})
            assert answer.status_code == 409 and "Confirm the agency's audit lead" in answer.json["refused"]
            assert "nowhere to go" in answer.json["refused"]
        assert _open(audit.instance_id) == before
        assert db.session.get(ProcessInstance, audit.instance_id).deployment.version == 1
        bu = {"Authorization": f"Bearer {api_tokens.issue_token(people['bu'], 'tests')}"}
        assert client.post(path, headers=bu, json={"to_version": renamed.version}).status_code == 403
        assert client.post(path, headers=token, json={"to_version": 99}).status_code == 404
        assert client.post(path, headers=token, json={"to_version": "2"}).status_code == 400


def test_a_task_renamed_and_given_to_another_group_in_the_new_version_shows_so_in_the_inboxes(app, people, deployed):
    admin = identity.create_user("admin", "Admin", ["admin"])
    token = {"Authorization": f"Bearer {api_tokens.issue_token(admin, 'tests')}"}
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        [nominate] = audit.open_tasks("nominate_cases")
        assert nominate in tasks.inbox(people["nominator"]) and nominate not in tasks.inbox(people["bu"])
        root = _shipped()
        task = root.find(f".//{{{BPMN}}}userTask[@id='nominate_cases']")
        task.set("name", "Nominate the cases for the audit")
        task.set(f"{{{CAMUNDA}}}candidateGroups", "business_unit")
        v2 = _deploy(root, "The Business Unit nominates")
        moved = app.test_client().post(f"/api/v1/audits/{audit.instance_id}/migration", headers=token,
                                       json={"to_version": v2.version, "apply": True, "reason": "New routing"})
        assert moved.status_code == 200, moved.json

        [renamed] = audit.open_tasks("nominate_cases")
        assert renamed.id == nominate.id and renamed.name == "Nominate the cases for the audit"
        assert renamed.candidate_groups == ["business_unit"]
        assert renamed in tasks.inbox(people["bu"]) and renamed not in tasks.inbox(people["nominator"])
        audit.nominate(4)
        tasks.complete_task(renamed.id, people["bu"], {**ANSWERS_NOMINATE, "agencies": audit.agencies})
    assert audit.open_tasks("nominate_cases") == []
