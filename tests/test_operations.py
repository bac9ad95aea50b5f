"""Admins see and mend running audits: the list with filters and counts, the instance page, suspend and resume
(a timer due while suspended does not fire; on resume it fires, once), terminate, retry an incident after
correcting the data, and the system's health; pages and API alike, each operation in the audit's history and
refused to anyone but an admin."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from bpmn_audit.models import HistoryEvent, HumanTask, Incident, ProcessInstance, TimerJob, db
from bpmn_audit.models.task import CANCELLED, OPEN
from bpmn_audit.services import identity, runtime, sweep, tasks
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH, csrf_token_in
from operating import admin as _admin
from operating import deploy as _deploy
from operating import kinds as _kinds
from operating import token as _token

BEFORE = datetime.fromisoformat("2027-01-11T08:00:00+00:00")
DUE = datetime.fromisoformat("2027-01-11T09:00:00+00:00")


def _operate(browser, audit_id: int, operation: str, **fields: str):
    shown = browser.get(f"/operations/audits/{audit_id}")
    assert shown.status_code == 200, shown.get_data(as_text=True)[-3000:]
    page = shown.get_data(as_text=True)
    return browser.post(f"/operations/audits/{audit_id}/{operation}",
                        data={"csrf_token": csrf_token_in(page), "reason": "Checking the data", "confirm": "y",
                              **fields})


def test_a_timer_due_while_suspended_does_not_fire_and_fires_once_on_resume(app, people, sign_in):
    _deploy("timer_then_script")
    _admin(people)
    with time_machine.travel(BEFORE, tick=False) as clock:
        admin = sign_in("admin")
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        unsure = _operate(admin, audit, "suspend", confirm="")
        assert unsure.status_code == 400 and "Tick to say you are sure" in unsure.get_data(as_text=True)
        assert _operate(admin, audit, "suspend").status_code == 302
        db.session.expire_all()
        assert db.session.get(ProcessInstance, audit).status == "suspended"
        clock.move_to(DUE + timedelta(minutes=5))
        assert fire_due_timers("w") == 0 and sweep.run_round(app, "worker@test:1") == 0
        assert "timer_fired" not in _kinds(audit)
        assert _operate(admin, audit, "suspend").status_code == 400  # suspended already: a clear conflict
        assert _operate(admin, audit, "resume").status_code == 302
        assert fire_due_timers("w") == 0  # it fired on resume, once
    assert _kinds(audit).count("timer_fired") == 1
    assert [kind for kind in _kinds(audit) if kind in ("suspended", "resumed")] == ["suspended", "resumed"]
    [suspended] = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == audit,
                                                                HistoryEvent.kind == "suspended"))
    assert suspended.actor == "admin" and suspended.detail == {"reason": "Checking the data"}
    assert len(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit,
                                                          HumanTask.status == OPEN)).all()) == 5


def test_a_suspended_audit_s_task_cannot_be_completed_and_terminate_ends_it_through_the_api(app, people, client):
    _deploy("timer_then_script")
    admin = _token(_admin(people))
    with time_machine.travel(DUE + timedelta(minutes=5), tick=False):
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id  # fired at once
        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit)).first()
        assert tasks.count_inbox(people["lead.police"]) == 1
        assert client.post(f"/api/v1/audits/{audit}/suspend", headers=admin, json={"reason": "Hold"}).json[
            "status"] == "suspended"
        assert tasks.count_inbox(people["lead.police"]) == 0  # out of the inbox while nobody can do it
        done = client.post(f"/api/v1/tasks/{task.id}/complete", headers=_token(people["bu"]), json={"data": {}})
        assert done.status_code in (404, 409)
        for who in (people["bu"], people["lead.police"]):
            for operation in ("resume", "terminate", "retry"):
                assert client.post(f"/api/v1/audits/{audit}/{operation}", headers=_token(who),
                                   json={"reason": "x"}).status_code == 403
        assert client.post(f"/api/v1/audits/{audit}/terminate", headers=admin, json={}).status_code == 400
        ended = client.post(f"/api/v1/audits/{audit}/terminate", headers=admin, json={"reason": "A test audit"})
        assert ended.json["status"] == "terminated"
        assert client.post(f"/api/v1/audits/{audit}/resume", headers=admin,
                           json={"reason": "Oops"}).status_code == 409
    db.session.expire_all()
    assert {row.status for row in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit))} \
        == {CANCELLED}
    assert db.session.scalars(select(TimerJob).where(TimerJob.instance_id == audit)).all() == []
    assert [kind for kind in _kinds(audit) if kind in ("suspended", "terminated")] == ["suspended", "terminated"]


def test_an_incident_is_shown_with_its_element_and_after_the_data_is_corrected_retry_completes_it(
        app, people, sign_in, client):
    _deploy("timer_then_script")
    _admin(people)
    with time_machine.travel(BEFORE, tick=False) as clock:
        admin = sign_in("admin")
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": True}).id
        clock.move_to(DUE + timedelta(minutes=1))
        for _ in range(3):
            fire_due_timers("w")
            clock.shift(timedelta(minutes=5))
        page = admin.get(f"/operations/audits/{audit}").get_data(as_text=True)
        assert "Prepare the agencies</strong> (<code>prepare</code>)" in page and "the variable &#39;pairs&#39;" in page
        assert "Traceback" in page  # the stack, for admins
        listed = admin.get("/operations?status=incident").get_data(as_text=True)
        assert "Timer then script" in listed or f"Audit {audit}" in listed

        token = csrf_token_in(page)
        wrong = admin.post(f"/operations/audits/{audit}/data", data={
            "csrf_token": token, "values": "[1, 2]", "reason": "Fix", "confirm": "y"})
        assert wrong.status_code == 400 and "JSON object" in wrong.get_data(as_text=True)
        fixed = admin.post(f"/operations/audits/{audit}/data", data={
            "csrf_token": token, "values": '{"poison": false}', "reason": "The poison flag was wrong", "confirm": "y"})
        assert fixed.status_code == 302
        assert db.session.scalars(select(Incident).where(Incident.instance_id == audit,
                                                         Incident.resolved_at.is_(None))).all()  # still open
        assert _operate(admin, audit, "retry").status_code == 302
    assert db.session.scalars(select(Incident).where(Incident.instance_id == audit,
                                                     Incident.resolved_at.is_(None))).all() == []
    assert len(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit,
                                                          HumanTask.status == OPEN)).all()) == 5
    assert "variables_changed" in _kinds(audit) and "incident_retried" in _kinds(audit)


def test_the_list_filters_and_counts_and_the_health_page_shows_workers_and_backlogs(app, people, sign_in):
    _deploy("timer_then_script")
    _admin(people)
    with time_machine.travel(BEFORE, tick=False):
        first = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        runtime.start_audit(people["bu"], "timer_then_script", {"poison": False})
        sweep.beat("worker@host:7")
    admin = sign_in("admin")
    page = admin.get("/operations?status=running&process=timer_then_script").get_data(as_text=True)
    assert "2 audits." in page and "Running (2)" in page and "Suspended (0)" in page
    assert "2 audits." in admin.get("/operations?started_from=2027-01-11&started_to=2027-01-11&version=1"
                                    "&process=timer_then_script&status=running").get_data(as_text=True)
    assert "0 audits." in admin.get("/operations?version=2").get_data(as_text=True)
    assert "0 audits." in admin.get("/operations?agency=police").get_data(as_text=True)
    assert "0 audits." in admin.get("/operations?started_from=2027-02-01").get_data(as_text=True)
    assert admin.get("/operations?started_from=tomorrow").status_code == 404
    assert admin.get("/operations?status=sleeping").status_code == 404
    health = admin.get("/operations/health").get_data(as_text=True)
    assert "worker@host:7" in health and "Timers due and not yet fired" in health
    assert f"/operations/audits/{first}" in admin.get("/operations").get_data(as_text=True)
    assert app.test_client().get("/readyz").json == {"status": "ready"}
    with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
        api = app.test_client().get("/api/v1/health", headers=_token(identity.get_user("admin"))).json
    assert api["timers_due"] == 2 and api["workers"][0]["name"] == "worker@host:7"
    assert api["audits"] == {"running": 2}


def test_moving_back_from_qa_reopens_the_chair_s_report_with_its_earlier_data_and_the_audit_runs_on(
        app, people, deployed, sign_in):
    from audit_driver import ANSWERS, AuditDriver

    _admin(people)
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_analysis(clock)
        admin = sign_in("admin")
        [qa] = audit.open_tasks("qa_analysis_report")
        [written] = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                               HumanTask.bpmn_id == "write_analysis_report"))
        page = admin.get(f"/operations/audits/{audit.instance_id}").get_data(as_text=True)
        assert '<option value="write_analysis_report">' in page
        moved = admin.post(f"/operations/audits/{audit.instance_id}/back", data={
            "csrf_token": csrf_token_in(page), "bpmn_id": "write_analysis_report", "reason": "Findings missing",
            "confirm": "y"})
        assert moved.status_code == 302
        db.session.expire_all()
        assert [t.bpmn_id for t in audit.open_tasks()] == ["write_analysis_report"]
        reopened = db.session.get(HumanTask, written.id)  # the same task, open again, its answers kept
        assert reopened.status == OPEN and reopened.completed_by is None
        first_field = next(iter(ANSWERS["write_analysis_report"]))
        assert reopened.draft[first_field] == str(reopened.form_data[first_field])
        assert db.session.get(HumanTask, qa.id).status == CANCELLED
        chair_page = sign_in("chair").get(f"/tasks/{written.id}").get_data(as_text=True)
        assert str(reopened.form_data[first_field])[:40] in chair_page
        [event] = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == audit.instance_id,
                                                                HistoryEvent.kind == "moved_back"))
        assert event.actor == "admin" and event.detail["reason"] == "Findings missing"

        audit.to_the_end(clock)
    db.session.expire_all()
    assert db.session.get(ProcessInstance, audit.instance_id).status == "completed"


def test_an_admin_skips_and_gives_tasks_and_each_is_in_the_history(app, people, deployed, client):
    from audit_driver import AuditDriver

    _deploy("timer_then_script")
    admin = _token(_admin(people))
    with time_machine.travel(DUE + timedelta(minutes=5), tick=False):
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        police, *_ = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit,
                                                                HumanTask.agency == "police"))
        assert client.post(f"/api/v1/tasks/{police.id}/skip", headers=_token(people["bu"]),
                           json={"reason": "x"}).status_code == 403
        assert client.post(f"/api/v1/tasks/{police.id}/skip", headers=admin, json={}).status_code == 400
        given = client.post(f"/api/v1/tasks/{police.id}/assign", headers=admin, json={"assignee": "lead.police"})
        assert given.status_code == 200 and given.json["assignee"] == "lead.police"
        skipped = client.post(f"/api/v1/tasks/{police.id}/skip", headers=admin, json={"reason": "Police left"})
        assert skipped.json == {"task_id": police.id, "status": "completed"}
        assert client.post(f"/api/v1/tasks/{police.id}/skip", headers=admin,
                           json={"reason": "Again"}).status_code == 409
        db.session.expire_all()
        assert db.session.get(HumanTask, police.id).completed_by == "admin"
        [event] = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == audit,
                                                                HistoryEvent.kind == "task_skipped"))
        assert (event.actor, event.agency, event.detail["reason"]) == ("admin", "police", "Police left")
        assert "task_assigned" in _kinds(audit)

        main = AuditDriver(people)  # a skip the process cannot go on from is refused, and nothing changes
        [nominate] = main.open_tasks("nominate_cases")
        refused = client.post(f"/api/v1/tasks/{nominate.id}/skip", headers=admin, json={"reason": "Try"})
        assert refused.status_code == 422 and "assign_pseudonyms" in refused.json["error"]
        db.session.expire_all()
        assert db.session.get(HumanTask, nominate.id).status == OPEN


def test_the_api_moves_an_audit_back_and_refuses_a_task_never_done(app, people, client):
    _deploy("timer_then_script")
    admin = _token(_admin(people))
    with time_machine.travel(DUE + timedelta(minutes=5), tick=False):
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        police = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit,
                                                            HumanTask.agency == "police")).one()
        tasks.complete_task(police.id, people["lead.police"], {})
        never = client.post(f"/api/v1/audits/{audit}/back", headers=admin, json={"bpmn_id": "nope", "reason": "x"})
        assert never.status_code == 400 and "none to go back to" in never.json["fields"]["bpmn_id"]
        assert client.post(f"/api/v1/audits/{audit}/back", headers=_token(people["bu"]),
                           json={"bpmn_id": "report", "reason": "x"}).status_code == 403
        back = client.post(f"/api/v1/audits/{audit}/back", headers=admin,
                           json={"bpmn_id": "report", "reason": "Police asked"})
        assert back.json == {"audit_id": audit, "status": "running"}
    db.session.expire_all()
    assert db.session.get(HumanTask, police.id).status == OPEN
    assert "moved_back" in _kinds(audit)


def test_a_terminated_test_audit_is_deleted_with_everything_of_it_once_its_number_is_typed(
        app, people, deployed, sign_in, client):
    from audit_driver import AuditDriver
    from bpmn_audit.models import Case, Concern, HistoryEvent, Notification
    from bpmn_audit.services import cases, concerns

    _admin(people)
    admin = _token(identity.get_user("admin"))
    with time_machine.travel(LAUNCH, tick=False):
        test_run = AuditDriver(people, {"title": "Trying the service"})
        test_run.complete("nominate_cases")  # cases entered, never read
        concerns.raise_concern(test_run.instance_id, people["lead.police"], "A practice concern")
        kept = AuditDriver(people, {"title": "A real audit"})
        kept.complete("nominate_cases")
        path = f"/api/v1/audits/{test_run.instance_id}"
        body = {"confirm": test_run.instance_id, "reason": "It was a rehearsal"}
        assert client.delete(path, headers=admin, json=body).status_code == 409  # terminate it first
        assert client.post(f"{path}/terminate", headers=admin, json={"reason": "A rehearsal"}).status_code == 200
        assert client.delete(path, headers=_token(people["bu"]), json=body).status_code == 403
        wrong = client.delete(path, headers=admin, json={**body, "confirm": 999})
        assert wrong.status_code == 400 and "Type the audit's number" in wrong.json["fields"]["confirm"]
        assert client.delete(path, headers=admin, json=body).status_code == 204

        db.session.expire_all()
        assert db.session.get(ProcessInstance, test_run.instance_id) is None
        assert db.session.scalars(select(Concern)).all() == []  # and its concern's own process
        assert db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key
                                                                  == "immediate_concern")) is None
        for model in (Case, HistoryEvent, HumanTask, Notification):
            assert {row.instance_id for row in db.session.scalars(select(model))} <= {kept.instance_id}, model
        assert client.get(f"/api/v1/audits/{kept.instance_id}", headers=admin).status_code == 200

        # an audit whose children's details someone read keeps its access log, so it cannot be deleted
        case = cases.list_cases(kept.instance_id, people["bu"])[0]
        cases.read_case(case.id, people["bu"], "checking the spelling")
        assert client.post(f"/api/v1/audits/{kept.instance_id}/terminate", headers=admin,
                           json={"reason": "Stopped"}).status_code == 200
        refused = client.delete(f"/api/v1/audits/{kept.instance_id}", headers=admin,
                                json={"confirm": kept.instance_id, "reason": "Tidy"})
        assert refused.status_code == 409 and "access log is kept" in refused.json["error"]


def test_the_pages_terminate_then_delete_a_test_audit(app, people, sign_in):
    _deploy("timer_then_script")
    _admin(people)
    admin = sign_in("admin")
    audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
    assert _operate(admin, audit, "terminate").status_code == 302
    page = admin.get(f"/operations/audits/{audit}").get_data(as_text=True)
    assert "Delete this test audit" in page
    token = csrf_token_in(page)
    wrong = admin.post(f"/operations/audits/{audit}/delete", data={"csrf_token": token, "confirm_number": "0",
                                                                  "reason": "Rehearsal"})
    assert wrong.status_code == 400 and "Type the audit&#39;s number" in wrong.get_data(as_text=True)
    done = admin.post(f"/operations/audits/{audit}/delete", data={"csrf_token": token, "confirm_number": str(audit),
                                                                 "reason": "Rehearsal"})
    assert done.status_code == 302 and done.headers["Location"] == "/operations"
    db.session.expire_all()
    assert db.session.get(ProcessInstance, audit) is None
    assert admin.get(f"/operations/audits/{audit}").status_code == 404


def test_the_remaining_operations_through_the_other_door_each_in_the_history(app, people, sign_in, client):
    """Skip and give through the pages; change the data, retry and resume through the API."""
    _deploy("timer_then_script")
    _admin(people)
    admin = _token(identity.get_user("admin"))
    with time_machine.travel(DUE + timedelta(minutes=5), tick=False):
        admin_pages = sign_in("admin")
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        police, csc = (db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit,
                                                                  HumanTask.agency == agency)).one()
                       for agency in ("police", "csc"))
        page = admin_pages.get(f"/operations/audits/{audit}").get_data(as_text=True)
        token = csrf_token_in(page)
        given = admin_pages.post(f"/operations/tasks/{csc.id}/assign", data={
            "csrf_token": token, "assignee": "lead.csc", "reason": "Back from leave", "confirm": "y"})
        assert given.status_code == 302
        skipped = admin_pages.post(f"/operations/tasks/{police.id}/skip", data={
            "csrf_token": token, "reason": "Police withdrew", "confirm": "y"})
        assert skipped.status_code == 302
        db.session.expire_all()
        assert db.session.get(HumanTask, csc.id).assignee == "lead.csc"
        assert db.session.get(HumanTask, police.id).completed_by == "admin"

        changed = client.post(f"/api/v1/audits/{audit}/data", headers=admin,
                              json={"values": {"note": "checked"}, "reason": "A note for the file"})
        assert changed.json == {"audit_id": audit, "status": "running", "changed": ["note"]}
        assert client.post(f"/api/v1/audits/{audit}/data", headers=admin,
                           json={"values": [1], "reason": "x"}).status_code == 400
        retried = client.post(f"/api/v1/audits/{audit}/retry", headers=admin, json={"reason": "Run on"})
        assert retried.status_code == 200 and retried.json["incident"] is None
        assert client.post(f"/api/v1/audits/{audit}/suspend", headers=admin, json={"reason": "Hold"}).status_code == 200
        assert client.post(f"/api/v1/audits/{audit}/resume", headers=admin,
                           json={"reason": "Go on"}).json["status"] == "running"
    kinds = _kinds(audit)
    for kind in ("task_assigned", "task_skipped", "variables_changed", "incident_retried", "suspended", "resumed"):
        assert kind in kinds, kind
