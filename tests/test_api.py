"""The JSON API: bearer tokens, a person's tasks, a task's schema, completing, claiming and assigning."""

from __future__ import annotations

import re
from urllib.parse import quote

import jsonschema
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from sqlalchemy import select

from audit_driver import ANSWERS, SET_UP, AuditDriver
from bpmn_audit.cli import main
from bpmn_audit.models import HumanTask, ProcessInstance, db
from bpmn_audit.services import api_tokens, identity
from bpmn_audit.web.openapi import document
from conftest import LAUNCH, both_backends


@pytest.fixture
def audit(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        driver = AuditDriver(people)
        driver.complete("nominate_cases")
        driver.complete("collate_audit_pack")
        yield driver


@pytest.fixture
def token(app, people):
    """``token("lead.police")``: the Authorization header of a token of that person (a key of ``people``, or
    a username)."""
    made: dict[str, dict[str, str]] = {}

    def make(key: str) -> dict[str, str]:
        if key not in made:
            person = people[key] if key in people else identity.get_user(key)
            made[key] = {"Authorization": f"Bearer {api_tokens.issue_token(person, 'tests')}"}
        return made[key]
    return make


def _state(instance_id: int) -> tuple:
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance_id)
    rows = db.session.query(HumanTask.id, HumanTask.status, HumanTask.assignee).filter_by(instance_id=instance_id)
    return instance.version, instance.status, sorted(rows)


def test_a_token_from_the_cli_signs_in_and_a_revoked_one_does_not(client, runner, people):
    made = runner.invoke(main, ["users", "token", "lead.police", "--name", "laptop"])
    assert made.exit_code == 0, made.output
    header = {"Authorization": f"Bearer {made.output.strip()}"}
    answer = client.get("/api/v1/me", headers=header)
    assert answer.status_code == 200
    assert answer.json == {"username": "lead.police", "name": "police lead", "groups": ["agency_lead"],
                           "agency": "police", "email": None}
    assert answer.headers["Cache-Control"] == "no-store"
    [kept] = api_tokens.list_tokens(people["lead.police"])
    assert kept.name == "laptop" and made.output.strip() not in kept.digest  # only a digest is kept
    api_tokens.revoke_token(people["lead.police"], kept.id)
    refused = client.get("/api/v1/me", headers=header)
    assert refused.status_code == 401 and "bearer token" in refused.json["error"]
    assert refused.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic bGVhZDpwdw==", "Bearer bpa_" + "x" * 500])
def test_no_valid_token_is_a_json_401(client, people, header):
    answer = client.get("/api/v1/tasks", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401 and answer.is_json


def test_a_deactivated_user_s_token_no_longer_works(client, people, token):
    header = token("lead.csc")
    people["lead.csc"].active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=header).status_code == 401


def test_my_tasks_are_my_agency_s_only_and_other_agencies_tasks_are_404(client, audit, token):
    police = client.get("/api/v1/tasks", headers=token("lead.police")).json
    assert [(t["name"], t["agency"], t["audit_id"]) for t in police["tasks"]] == [
        ("Confirm the agency's audit lead", "police", audit.instance_id)]
    assert police["total"] == 1 and police["tasks"][0]["overdue"] is False
    csc_task = next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "csc")
    for method, path in [("get", ""), ("post", "/complete"), ("post", "/claim"), ("post", "/release")]:
        answer = getattr(client, method)(f"/api/v1/tasks/{csc_task.id}{path}", headers=token("lead.police"),
                                         json={"data": ANSWERS["confirm_audit_lead"]})
        assert answer.status_code == 404 and answer.json == {"error": f"there is no task {csc_task.id} for you"}
    assert audit.open_tasks("confirm_audit_lead")[0].status == "open"


def test_filters_and_paging(client, audit, token):
    lead = token("lead.icb")
    assert client.get(f"/api/v1/tasks?audit={audit.instance_id}", headers=lead).json["total"] == 1
    assert client.get(f"/api/v1/tasks?audit={audit.instance_id + 1}", headers=lead).json["total"] == 0
    assert client.get("/api/v1/tasks?assigned_to_me=true", headers=lead).json["total"] == 0
    [task] = client.get("/api/v1/tasks", headers=lead).json["tasks"]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=lead).json["assignee"] == "lead.icb"
    assert [t["id"] for t in client.get("/api/v1/tasks?assigned_to_me=true", headers=lead).json["tasks"]] == [
        task["id"]]
    assert client.get("/api/v1/tasks?my_groups=true", headers=lead).json["total"] == 0
    assert client.get("/api/v1/tasks?overdue=true", headers=lead).json["total"] == 0
    with time_machine.travel(LAUNCH.replace(year=2028), tick=False):
        overdue = client.get("/api/v1/tasks?overdue=true", headers=lead).json["tasks"]
        assert [(t["id"], t["overdue"]) for t in overdue] == [(task["id"], True)]
    two = token("practitioner.icb")
    assert client.get("/api/v1/tasks", headers=two).json == {"tasks": [], "page": 1, "per_page": 50, "total": 0}
    for query in ("page=0", "per_page=501", "page=x", "overdue=maybe", "audit=-1", "per_page=٣"):
        answer = client.get(f"/api/v1/tasks?{query}", headers=lead)
        assert answer.status_code == 400 and answer.is_json, query


def test_paging_walks_every_task_once(client, audit, token):
    header = token("lead.police")
    seen = []
    for page in (1, 2):
        answer = client.get(f"/api/v1/tasks?per_page=1&page={page}", headers=header).json
        seen += [t["id"] for t in answer["tasks"]]
    assert seen == [t.id for t in audit.open_tasks("confirm_audit_lead") if t.agency == "police"]


def test_a_task_s_schema_is_valid_json_schema_and_takes_the_answers_the_form_takes(client, audit, token):
    header = token("lead.police")
    [task] = client.get("/api/v1/tasks", headers=header).json["tasks"]
    shown = client.get(f"/api/v1/tasks/{task['id']}", headers=header).json
    schema = shown["schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    assert validator.is_valid(ANSWERS["confirm_audit_lead"])
    assert not validator.is_valid({"lead_email": "x@y.example"})  # the name is required
    assert set(schema["properties"]) == {"lead_name", "lead_email", "lead_phone"}
    assert schema["required"] == ["lead_name", "lead_email"]
    assert schema["properties"]["lead_name"]["title"]


def test_the_set_up_schema_lists_the_chairs_and_checks_numbers_and_choices(client, app, people, deployed, token):
    with time_machine.travel(LAUNCH, tick=False):
        from bpmn_audit.services import runtime

        runtime.start_audit(people["bu"])
        header = token("bu")
        [task] = client.get("/api/v1/tasks", headers=header).json["tasks"]
        schema = client.get(f"/api/v1/tasks/{task['id']}", headers=header).json["schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    set_up = {key: value for key, value in SET_UP.items() if key in schema["properties"]}
    set_up["independent_chair"] = False
    assert validator.is_valid(set_up), list(validator.iter_errors(set_up))
    assert _given(schema, "chair")["enum"] == ["chair"]  # the chairs to choose from
    assert not validator.is_valid({**set_up, "chair": "lead.police"})
    assert not validator.is_valid({**set_up, "complexity": "enormous"})
    assert not validator.is_valid({**set_up, "launch_date": "4 January"})


def _given(schema: dict, name: str) -> dict:
    """A field's schema, without the "or null" of an optional one."""
    field = schema["properties"][name]
    return next((option for option in field.get("anyOf", []) if option.get("type") != "null"), field)


def test_complete_invalid_conflict_and_done(client, audit, token):
    header = token("lead.police")
    [task] = client.get("/api/v1/tasks", headers=header).json["tasks"]
    before = _state(audit.instance_id)
    wrong = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=header, json={"data": {"lead_name": ""}})
    assert wrong.status_code == 400
    assert set(wrong.json["fields"]) == {"lead_name", "lead_email"}
    assert _state(audit.instance_id) == before
    for body in ({"data": [1]}, [1], "x"):
        answer = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=header, json=body)
        assert answer.status_code == 400 and answer.is_json
    assert _state(audit.instance_id) == before
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=header,
                       json={"data": ANSWERS["confirm_audit_lead"]})
    assert done.status_code == 200 and done.json["status"] == "completed"
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=header,
                        json={"data": ANSWERS["confirm_audit_lead"]})
    assert again.status_code == 409 and "already completed" in again.json["error"]


def test_a_task_completed_meanwhile_by_a_colleague_is_a_409(client, app, people, audit, token):
    identity.create_user("lead2.police", "Second police lead", ["agency_lead"], agency="police")
    first, second = token("lead.police"), token("lead2.police")
    [task] = client.get("/api/v1/tasks", headers=first).json["tasks"]
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=second).status_code == 200
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", headers=first,
                       json={"data": ANSWERS["confirm_audit_lead"]}).status_code == 200
    late = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=second,
                       json={"data": ANSWERS["confirm_audit_lead"]})
    assert late.status_code == 409 and "already completed by lead.police" in late.json["error"]


def test_the_business_unit_assigns_and_nobody_else_does(client, audit, token):
    police_task = next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "police")
    path = f"/api/v1/tasks/{police_task.id}/assign"
    refused = client.post(path, headers=token("lead.police"), json={"assignee": "lead.police"})
    assert refused.status_code == 403
    bu = token("bu")
    assert client.post(path, headers=bu, json={"assignee": "lead.csc"}).status_code == 409  # not offered to csc
    assert client.post(path, headers=bu, json={"assignee": 7}).status_code == 400
    assert client.post(path, headers=bu, json={"assignee": "lead.police"}).json["assignee"] == "lead.police"
    lead = token("lead.police")
    assert client.post(f"/api/v1/tasks/{police_task.id}/release", headers=lead).json["assignee"] is None
    assert client.post(path, headers=bu, json={"assignee": None}).json["assignee"] is None


def test_the_openapi_document_is_valid_and_covers_every_api_route(client, app):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document = answer.json
    validate(document)
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:int|string)(\([^)]*\))?:(\w+)>", r"{\2}", rule.rule.removeprefix("/api/v1"))
            routed |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == described


def test_unknown_api_paths_and_methods_are_json_errors(client, token, people):
    header = token("bu")
    assert client.get("/api/v1/nothing", headers=header).status_code == 404
    answer = client.get("/api/v1/tasks/1/complete", headers=header)
    assert answer.status_code == 405 and answer.is_json


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=3), max_leaves=8)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.dictionaries(st.sampled_from(["lead_name", "lead_email", "other"]), _JSON, max_size=3))
def test_random_data_never_breaks_a_completion(client, audit, token, data):
    header = token("lead.police")
    task = db.session.scalars(select(HumanTask).filter_by(instance_id=audit.instance_id, agency="police",
                                                          bpmn_id="confirm_audit_lead")).one()
    before = _state(audit.instance_id)
    answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=header, json={"data": data})
    assert answer.status_code in (200, 400, 409), answer.json
    if answer.status_code == 400:
        assert _state(audit.instance_id) == before
        assert set(answer.json.get("fields") or {}) <= {"lead_name", "lead_email"}  # none: the whole body is refused
    else:  # valid data completes the task (the fixture lives across examples: then it is gone for the next)
        db.session.expire_all()
        assert db.session.get(HumanTask, task.id).completed_by == "lead.police"


def test_one_person_holds_a_bounded_number_of_tokens(app, people):
    from bpmn_audit.services.errors import Conflict

    lead = people["lead.police"]
    for _ in range(api_tokens.MAX_TOKENS):
        api_tokens.issue_token(lead, "script")
    with pytest.raises(Conflict):
        api_tokens.issue_token(lead, "one too many")
    api_tokens.revoke_token(lead, api_tokens.list_tokens(lead)[0].id)
    assert api_tokens.issue_token(lead, "after revoking").startswith(api_tokens.PREFIX)
    with pytest.raises(api_tokens.NotFound):  # nobody revokes another person's token
        api_tokens.revoke_token(people["lead.csc"], api_tokens.list_tokens(lead)[0].id)


def test_audits_are_seen_by_those_taking_part_only(client, app, people, deployed, token):
    identity.create_user("lead.health", "Health lead", ["agency_lead"], agency="health")
    with time_machine.travel(LAUNCH, tick=False):
        started = client.post("/api/v1/audits", headers=token("bu"))
        assert started.status_code == 201 and started.json["status"] == "running"
        audit_id = started.json["id"]
        assert started.headers["Location"] == f"/api/v1/audits/{audit_id}"
        assert client.post("/api/v1/audits", headers=token("lead.police")).status_code == 403
        assert client.post("/api/v1/audits", headers=token("bu"), data="not json",
                           content_type="text/plain").status_code == 400
        assert client.get("/api/v1/audits", headers=token("nominator")).json["total"] == 0  # nothing for them yet
        driver = AuditDriver.__new__(AuditDriver)
        driver.people, driver.instance_id, driver.agencies = people, audit_id, "police, csc, icb"
        driver.complete("set_up_audit", {k: v for k, v in SET_UP.items() if k != "agencies"})
        # before the nomination names the agencies, no agency lead sees the audit; the nominating partner does
        assert client.get("/api/v1/audits", headers=token("lead.police")).json["total"] == 0
        assert [a["id"] for a in client.get("/api/v1/audits", headers=token("nominator")).json["audits"]] == [
            audit_id]
        driver.complete("nominate_cases")
        driver.complete("collate_audit_pack")
        police = client.get(f"/api/v1/audits/{audit_id}", headers=token("lead.police")).json
        everyone = client.get(f"/api/v1/audits/{audit_id}", headers=token("bu")).json
    assert [a["agency"] for a in police["agencies"]] == ["police"]  # its own progress only
    assert [a["agency"] for a in everyone["agencies"]] == ["csc", "icb", "police"]
    assert police["agencies"][0]["open"] == ["Confirm the agency's audit lead"]
    assert everyone["phase"] and everyone["deadlines"]
    assert all(d["due"] for d in everyone["deadlines"])
    health = token("lead.health")
    assert client.get("/api/v1/audits", headers=health).json == {"audits": [], "page": 1, "per_page": 50, "total": 0}
    answer = client.get(f"/api/v1/audits/{audit_id}", headers=health)
    assert answer.status_code == 404 and answer.json == {"error": f"there is no audit {audit_id} for you"}
    assert client.get(f"/api/v1/audits/{audit_id + 1}", headers=token("bu")).status_code == 404
    with time_machine.travel(LAUNCH.replace(year=2028), tick=False):
        late = client.get(f"/api/v1/audits/{audit_id}", headers=token("lead.police")).json
    assert late["agencies"][0]["overdue"] is True


# every documented call (the OpenAPI test above checks the document covers every route)
_ROUTES = sorted((method, path) for path, calls in document()["paths"].items() for method in calls)


@both_backends
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(_ROUTES), who=st.sampled_from(["bu", "lead.police", "lead.csc", "chair"]),
       the_id=st.one_of(st.just(None), st.integers(min_value=-5, max_value=2**40)),
       query=st.dictionaries(st.sampled_from(["page", "per_page", "overdue", "audit", "my_groups", "x"]),
                             st.text(max_size=12), max_size=3),
       agency=st.sampled_from(["csc", "police", "nobody"]) | st.text(max_size=12),
       body=st.one_of(st.none(), _JSON, st.dictionaries(st.sampled_from(["data", "assignee", "summary", "case_id"]),
                                                        _JSON, max_size=2)))
def test_random_requests_to_every_endpoint_get_json_and_never_a_500(client, audit, token, route, who, the_id,
                                                                    agency, query, body):
    method, path = route
    task_id = next(t.id for t in audit.open_tasks("confirm_audit_lead") if t.agency == "police")
    url = "/api/v1" + path.replace("{task_id}", str(task_id if the_id is None else the_id)).replace(
        "{audit_id}", str(audit.instance_id if the_id is None else the_id)).replace("{agency}", quote(agency, safe=""))
    answer = getattr(client, method)(url, headers=token(who), query_string=query,
                                     **({} if body is None else {"json": body}))
    assert answer.status_code < 500 and answer.is_json, (url, answer.status_code, answer.data[:300])


@pytest.mark.parametrize("body", ['{"data": {"lead_name": "Sam\\u0000"}}', '{"data": {"lead_name": "\\ud800"}}',
                                  '{"data": {"\\u0000": 1}}', "[" * 100_000 + "]" * 100_000])
def test_text_no_database_stores_and_json_nested_past_the_parser_are_a_400(client, audit, token, body):
    task = db.session.scalars(select(HumanTask).filter_by(instance_id=audit.instance_id, agency="police",
                                                          bpmn_id="confirm_audit_lead")).one()
    before = _state(audit.instance_id)
    answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=token("lead.police"), data=body,
                         content_type="application/json")
    assert answer.status_code == 400 and answer.is_json
    assert "NUL" in answer.json["error"] or "nested too deeply" in answer.json["error"]
    assert _state(audit.instance_id) == before


def test_a_lead_raises_a_concern_through_the_api_and_the_business_unit_closes_it(client, audit, token):
    lead, bu = token("lead.police"), token("bu")
    listed = client.get(f"/api/v1/audits/{audit.instance_id}/cases", headers=lead).json["cases"]
    assert [case["pseudonym"] for case in listed][:2] == ["Child A", "Child B"] and "name" not in listed[0]
    url = f"/api/v1/audits/{audit.instance_id}/concerns"
    blank = client.post(url, headers=lead, json={"summary": " ", "case_id": listed[1]["id"]})
    assert blank.status_code == 400 and "summary" in blank.json["fields"]
    assert client.post(url, headers=lead, json={"summary": "Bruising", "case_id": 999999}).status_code == 404
    assert client.post(url, headers=lead, json={"summary": "Bruising", "case_id": "2"}).status_code == 400
    raised = client.post(url, headers=lead, json={"summary": "Bruising, no referral", "case_id": listed[1]["id"]})
    assert raised.status_code == 201 and raised.json["pseudonym"] == "Child B" and raised.json["open"]
    response = next(task for task in client.get("/api/v1/tasks", headers=bu).json["tasks"]
                    if task["name"] == "Respond to the immediate concern")
    done = client.post(f"/api/v1/tasks/{response['id']}/complete", headers=bu, json={"data": {
        "outcome": "referral_made", "referral_reference": "MASH-1", "action_taken": "Referred"}})
    assert done.status_code == 200
    shown = client.get(url, headers=lead).json["concerns"]
    assert shown[0]["open"] is False and shown[0]["outcome"]["outcome"] == "referral_made"
