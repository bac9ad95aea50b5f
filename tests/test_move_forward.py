"""An admin moves an audit forward to a later task: every open task on the way is skipped, round by round, the
timers it waits on fire, and each step is in its history; a move that cannot get there changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from bpmn_audit.models import HistoryEvent, HumanTask, ProcessInstance, db
from bpmn_audit.models.task import COMPLETED, OPEN
from bpmn_audit.services import runtime, tasks
from conftest import LAUNCH, csrf_token_in
from operating import admin, deploy, kinds, token
from test_operations import BEFORE, DUE


def _events(instance_id: int, kind: str) -> list[HistoryEvent]:
    return list(db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                              HistoryEvent.kind == kind).order_by(HistoryEvent.id)))


def test_the_pages_move_an_audit_waiting_for_its_event_forward_to_the_analysis_report(
        app, people, deployed, sign_in):
    from audit_driver import AuditDriver

    admin(people)
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_reading(clock)  # every report read; the audit waits for the practitioner event's day
        assert audit.open_tasks() == []
        browser = sign_in("admin")
        page = browser.get(f"/operations/audits/{audit.instance_id}").get_data(as_text=True)
        assert "Move forward to a later task" in page and '<option value="write_analysis_report">' in page
        forward_list = page[page.index('id="to-forward"'):]
        offered = re.findall(r'<option value="(\w+)">', forward_list[:forward_list.index("</select>")])
        assert offered[0] == "set_up_audit"  # in the diagram's order, left to right, as the process runs
        assert offered.index("record_event_part_2") < offered.index("write_analysis_report") \
            < offered.index("qiip_sign_off") < offered.index("record_actions")

        unsure = browser.post(f"/operations/audits/{audit.instance_id}/forward", data={
            "csrf_token": csrf_token_in(page), "bpmn_id": "write_analysis_report", "reason": "Event cancelled"})
        assert unsure.status_code == 400 and "Tick to say you are sure" in unsure.get_data(as_text=True)
        moved = browser.post(f"/operations/audits/{audit.instance_id}/forward", data={
            "csrf_token": csrf_token_in(page), "bpmn_id": "write_analysis_report", "reason": "Event cancelled",
            "confirm": "y"})
        assert moved.status_code == 302
        assert "moved forward to write_analysis_report" in browser.get(moved.location).get_data(as_text=True)

        assert [task.bpmn_id for task in audit.open_tasks()] == ["write_analysis_report"]
        skipped = _events(audit.instance_id, "task_skipped")
        assert [event.bpmn_id for event in skipped] == ["record_event_part_1", "record_event_part_2"]
        assert all(event.actor == "admin" and event.detail["reason"] == "Event cancelled"
                   and event.detail["moving_to"] == "write_analysis_report" for event in skipped)
        assert "practitioner_event_day" in [event.bpmn_id for event in _events(audit.instance_id, "timer_fired")]
        [forward] = _events(audit.instance_id, "moved_forward")
        assert forward.detail == {"reason": "Event cancelled", "skipped": 2}

        audit.to_the_end(clock)  # and the audit runs on from there to the end
    db.session.expire_all()
    assert db.session.get(ProcessInstance, audit.instance_id).status == "completed"


def test_a_move_forward_that_needs_answers_or_goes_nowhere_is_refused_and_changes_nothing(
        app, people, deployed, client):
    from audit_driver import AuditDriver

    headers = token(admin(people))
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_analysis(clock)
        [qa] = audit.open_tasks("qa_analysis_report")
        path = f"/api/v1/audits/{audit.instance_id}/forward"
        before = kinds(audit.instance_id)

        needs_answers = client.post(path, headers=headers, json={"bpmn_id": "qiip_sign_off", "reason": "Hurry"})
        assert needs_answers.status_code == 422, needs_answers.json
        assert "qa_decision" in needs_answers.json["error"]  # the QA gateway needs the decision nobody gave
        nowhere = client.post(path, headers=headers, json={"bpmn_id": "no_such_task", "reason": "Hurry"})
        assert nowhere.status_code == 400 and "no user task 'no_such_task'" in nowhere.json["fields"]["bpmn_id"]
        already = client.post(path, headers=headers, json={"bpmn_id": "qa_analysis_report", "reason": "Hurry"})
        assert already.status_code == 400 and "open already" in already.json["fields"]["bpmn_id"]
        assert client.post(path, headers=headers, json={"bpmn_id": "qiip_sign_off"}).status_code == 400  # why?
        assert client.post(path, headers=headers, json={"bpmn_id": 7, "reason": "x"}).status_code == 400
        assert client.post(path, headers=token(people["bu"]),
                           json={"bpmn_id": "qiip_sign_off", "reason": "x"}).status_code == 403

        assert [task.id for task in audit.open_tasks()] == [qa.id]
        assert kinds(audit.instance_id) == before


def test_the_api_moves_forward_over_a_timer_and_refuses_when_a_script_on_the_way_fails(app, people, client):
    deploy("timer_then_script")
    headers = token(admin(people))
    with time_machine.travel(BEFORE, tick=False):
        poisoned = runtime.start_audit(people["bu"], "timer_then_script", {"poison": True}).id
        failed = client.post(f"/api/v1/audits/{poisoned}/forward", headers=headers,
                             json={"bpmn_id": "report", "reason": "The day came early"})
        assert failed.status_code == 422 and "prepare" in failed.json["error"]
        assert "timer_fired" not in kinds(poisoned)

        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        moved = client.post(f"/api/v1/audits/{audit}/forward", headers=headers,
                            json={"bpmn_id": "report", "reason": "The day came early"})
        assert moved.json == {"audit_id": audit, "status": "running", "skipped": 0}
    assert kinds(audit).count("timer_fired") == 1 and kinds(audit).count("moved_forward") == 1
    reports = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit)).all()
    assert len(reports) == 5 and {task.status for task in reports} == {OPEN}

    with time_machine.travel(DUE + timedelta(minutes=5), tick=False):  # the timer, due now, fires no second time
        from bpmn_audit.services.timers import fire_due_timers

        assert fire_due_timers("w") == 0
        police = next(task for task in reports if task.agency == "police")
        tasks.complete_task(police.id, people["lead.police"], {})
    assert kinds(audit).count("timer_fired") == 1
    assert db.session.get(HumanTask, police.id).status == COMPLETED
