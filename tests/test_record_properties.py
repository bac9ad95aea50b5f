"""Property-based tests (Hypothesis, the CI profile's few dozen examples each) of what people send:

- data valid against a task's JSON Schema is accepted by the form checks, for every user task of the
  shipped model (the schema never promises what the checks refuse);
- action-tracker rows either become lines the model's ``parse_actions`` reads, or a FormInvalid naming
  the row: nothing else;
- random data sent to a purpose-built completion through the API, and random forms posted to the
  purpose-built pages, never get a 500, and when refused leave the audit's version, state and task rows
  as they were.
"""

from __future__ import annotations

import re

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from audit_driver import AuditDriver
from bpmn_audit.engine.script_functions import parse_actions
from bpmn_audit.engine.task_forms import TaskForm
from bpmn_audit.models import Deployment, HumanTask, ProcessInstance, db
from bpmn_audit.services import api_tokens, cases, identity, task_records, tasks
from bpmn_audit.services.errors import FormInvalid
from bpmn_audit.services.forms import clean_form, json_schema
from conftest import LAUNCH
from schema_data import from_schema

PASSWORD = "correct horse battery staple"
FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_TEXT = st.text(max_size=30)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
                     max_leaves=10)


def _forms(deployed) -> list[tuple[str, TaskForm]]:
    return [(bpmn_id, TaskForm.from_json(stored)) for deployment in deployed
            for bpmn_id, stored in sorted((db.session.get(Deployment, deployment.id).forms or {}).items())]


@FIXTURES
@given(data=st.data())
def test_data_valid_against_a_task_s_schema_is_accepted(app, people, deployed, data):
    bpmn_id, form = data.draw(st.sampled_from(_forms(deployed)), label="task")
    schema = json_schema(form.fields, identity.usernames_in)
    answers = data.draw(from_schema(schema), label=bpmn_id)
    clean_form(form.fields, answers, find_user=tasks._find_user)  # raises FormInvalid if the schema lied


@given(rows=st.lists(st.dictionaries(st.sampled_from([*task_records.ROW_PARTS, "other"]),
                                     st.none() | _TEXT | st.sampled_from(["MACFA", "scr", "2027-03-31"]),
                                     max_size=7) | _JSON, max_size=4) | _JSON)
def test_action_rows_become_lines_the_model_reads_or_say_which_row_is_wrong(rows):
    try:
        text = task_records.action_lines(rows)
    except FormInvalid as error:
        assert all(key == "rows" or re.fullmatch(r"rows\.\d+\.[a-z_]+", key) for key in error.errors)
        return
    assert parse_actions(text)


@pytest.fixture
def two_audits(app, client, people, deployed):
    """One audit waiting for its cases, one in its agency audit; everyone with a password and a token."""
    for person in people.values():
        person.password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    with time_machine.travel(LAUNCH, tick=False) as clock:
        auditing = AuditDriver(people)
        auditing.through_notice(clock)
        nominating = AuditDriver(people)
    headers = {key: {"Authorization": f"Bearer {api_tokens.issue_token(person, 'tests')}"}
               for key, person in people.items()}
    return nominating, auditing, headers


def _state(instance_id: int) -> tuple:
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance_id)
    rows = db.session.query(HumanTask.id, HumanTask.status, HumanTask.assignee).filter_by(instance_id=instance_id)
    return instance.version, instance.status, sorted(rows)


@FIXTURES
@given(which=st.sampled_from(["nominate_cases", "submit_agency_report", "record_actions"]),
       data=st.dictionaries(st.sampled_from(["cases", "findings", "return", "rows", "case_count", "agencies",
                                             "nominating_system", "other"]), _JSON, max_size=4))
def test_random_data_to_a_purpose_built_completion_is_never_a_500(client, two_audits, which, data):
    nominating, auditing, headers = two_audits
    audit = nominating if which == "nominate_cases" else auditing
    found = audit.open_tasks("nominate_cases" if which == "nominate_cases" else "submit_agency_report")
    task = next((t for t in found if t.agency in (None, "police")), None)
    if task is None:
        return  # completed by an earlier example
    who = "nominator" if which == "nominate_cases" else "lead.police"
    before = _state(audit.instance_id)
    answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers[who], json={"data": data})
    assert answer.status_code in (200, 400, 409), answer.json
    if answer.status_code == 400:
        assert _state(audit.instance_id) == before


def _token(html: str) -> str:
    return re.search(r'name="[a-z-]*csrf_token"[^>]*value="([^"]+)"', html).group(1)


@FIXTURES
@given(route=st.sampled_from(["case", "finding", "return", "concern"]),
       form=st.dictionaries(st.sampled_from(["case-name", "case-date_of_birth", "case-system_id",
                                             "case-other_id_value", "involved", "grading", "worked_well",
                                             "return-practitioner", "return-summary", "case_id", "summary"]),
                            st.text(max_size=40), max_size=5))
def test_random_forms_posted_to_the_purpose_built_pages_are_never_a_500(app, client, two_audits, route, form):
    nominating, auditing, _ = two_audits
    person = {"case": "nominator", "concern": "lead.police"}.get(route, "lead.police")
    browser = app.test_client()
    page = browser.get("/sign-in").get_data(as_text=True)
    browser.post("/sign-in", data={"username": person, "password": PASSWORD, "csrf_token": _token(page)})
    report = next(t for t in auditing.open_tasks("submit_agency_report") if t.agency == "police")
    case_id = cases.list_cases(auditing.instance_id, identity.get_user("bu.officer"))[0].id
    nomination = nominating.open_tasks("nominate_cases")
    path = {"case": f"/tasks/{nomination[0].id if nomination else 0}/cases",
            "finding": f"/tasks/{report.id}/cases/{case_id}", "return": f"/tasks/{report.id}/return",
            "concern": f"/audits/{auditing.instance_id}/concerns/new"}[route]
    token = _token(browser.get(f"/audits/{auditing.instance_id}").get_data(as_text=True))
    before = _state(auditing.instance_id), _state(nominating.instance_id)
    answer = browser.post(path, data={**form, "csrf_token": token, "case-csrf_token": token,
                                      "return-csrf_token": token})
    assert answer.status_code in (200, 302, 400, 404), answer.get_data(as_text=True)[:500]
    if answer.status_code == 400:
        assert (_state(auditing.instance_id), _state(nominating.instance_id)) == before
