"""A whole audit driven through the JSON API alone, travelling in time for its timers.

Each person asks for their tasks; each task's data is generated from the JSON Schema the API gives for it
(Hypothesis, through ``schema_data``), except for a small table of answers that are decisions rather than
data: the audit's plan at set-up, the agencies nominated, the day QiiP meets, and QA's and QiiP's verdicts
(each returns the report once and approves it the second time round). The data is checked against its
schema with ``jsonschema`` before it is sent; every completion must be accepted.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import jsonschema
import pytest
import time_machine
from hypothesis import Phase, find, settings
from sqlalchemy import func, select

from audit_driver import SET_UP
from bpmn_audit.engine.calendar import LONDON, add_working_days
from bpmn_audit.models import Case, TimerJob, TrackerAction, db
from bpmn_audit.services import api_tokens
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH
from schema_data import from_schema

AGENCIES = ["police", "csc", "icb"]
ROUNDS = 400  # completions and timer moves together; the audit needs about 60


def _decisions(name: str, done: dict[str, int]) -> dict:
    """The answers a schema cannot choose: the plan, the agencies, the meeting day, the verdicts."""
    if name == "set_up_audit":
        return {key: value for key, value in SET_UP.items() if key != "agencies"} | {
            f"{phase}_weeks_override": None for phase in ("notice", "audit", "review", "analysis", "qa")} | {
            "event_date": None, "independent_chair": False}
    if name == "nominate_cases":
        return {"agencies": AGENCIES}
    if name == "book_qiip_meeting":
        return {"qiip_meeting_on": add_working_days(datetime.now(LONDON).date(), 1).isoformat()}
    if name == "qa_analysis_report":
        return {"qa_decision": "approve" if done.get(name) else "return"}
    if name == "qiip_sign_off":
        return {"qiip_decision": "approve" if done.get(name) else "return", "qiip_quorate": True}
    return {}


def _generated(schema: dict, seed: int) -> dict:
    return find(from_schema(schema), lambda _: True, random=random.Random(seed),
                settings=settings(database=None, phases=[Phase.generate], max_examples=50))


@pytest.mark.timeout(600)
def test_a_whole_audit_through_the_api_alone(client, people, deployed):
    tokens = {person.username: {"Authorization": f"Bearer {api_tokens.issue_token(person, 'whole audit')}"}
              for person in people.values()}
    bu = tokens["bu.officer"]
    done: dict[str, int] = {}
    with time_machine.travel(LAUNCH, tick=False) as clock:
        started = client.post("/api/v1/audits", headers=bu)
        assert started.status_code == 201
        audit_id = started.json["id"]
        for round_number in range(ROUNDS):
            task, headers = _next_task(client, tokens, audit_id)
            if task is None:
                if client.get(f"/api/v1/audits/{audit_id}", headers=bu).json["status"] != "running":
                    break
                _to_next_timer(clock, audit_id)
                continue
            shown = client.get(f"/api/v1/tasks/{task['id']}", headers=headers).json
            bpmn_id = _bpmn_id(task["id"])
            data = _generated(shown["schema"], round_number) | _decisions(bpmn_id, done)
            jsonschema.validate(data, shown["schema"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            answer = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json={"data": data})
            assert answer.status_code == 200, (bpmn_id, data, answer.json)
            done[bpmn_id] = done.get(bpmn_id, 0) + 1
        else:
            pytest.fail(f"the audit did not finish in {ROUNDS} rounds; done: {done}")
    audit = client.get(f"/api/v1/audits/{audit_id}", headers=bu).json
    assert audit["status"] == "completed"
    assert done["qiip_sign_off"] == 2, done  # returned once, then signed off
    assert done["qa_analysis_report"] == 3, done  # returned, approved; approved again after QiiP returned it
    assert done["submit_agency_report"] == 3 and done["record_actions"] >= 1
    cases_entered = db.session.scalar(select(func.count()).select_from(Case).where(Case.instance_id == audit_id))
    assert cases_entered >= 1
    assert db.session.scalar(select(func.count()).select_from(TrackerAction)
                             .where(TrackerAction.instance_id == audit_id)) >= 1


def _next_task(client, tokens: dict, audit_id: int) -> tuple[dict | None, dict]:
    """The first open task of the audit in anyone's inbox, and that person's headers."""
    for headers in tokens.values():
        listed = client.get(f"/api/v1/tasks?audit={audit_id}&per_page=500", headers=headers).json["tasks"]
        if listed:
            return listed[0], headers
    return None, {}


def _bpmn_id(task_id: int) -> str:
    from bpmn_audit.models import HumanTask

    return db.session.get(HumanTask, task_id).bpmn_id


def _to_next_timer(clock, audit_id: int) -> None:
    """Travel a minute past the audit's next waiting timer and fire what is due."""
    db.session.expire_all()
    due = db.session.scalar(select(func.min(TimerJob.due_at)).where(TimerJob.instance_id == audit_id))
    assert due is not None, "nothing to do and nothing waiting: the audit is stuck"
    clock.move_to(max(due, datetime.now(LONDON)) + timedelta(minutes=1))
    fire_due_timers("tests")
