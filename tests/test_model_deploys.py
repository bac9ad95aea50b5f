"""Validating and deploying models from the API and the upload page: each broken or hostile model is refused
with a clear message at its element (never a 500), warnings are told apart from errors, only process owners
deploy, and each version says who deployed it, why, and what changed."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from sqlalchemy import func, select

from bpmn_audit.models import Deployment, db
from bpmn_audit.services import api_tokens, deployments, identity
from conftest import DATA, csrf_token_in

DEMO = (DATA / "modeller_demo.bpmn").read_text()
GOOD_DUE = 'camunda:dueDate="${working_days_from_now(5)}"'


def _with(old: str, new: str) -> str:
    assert old in DEMO
    return DEMO.replace(old, new)


BROKEN = [  # (what, file name, xml, the element at fault or None, words the message holds)
    ("a user task outside any lane", "m.bpmn", _with(' camunda:candidateGroups="business_unit"', ""), "record",
     "nobody can do this user task"),
    ("an expression that does not compile", "m.bpmn", _with(GOOD_DUE, 'camunda:dueDate="${working_days_from_now(}"'),
     "record", "dueDate"),
    ("a sandbox escape", "m.bpmn", _with(GOOD_DUE, 'camunda:dueDate="${().__class__.__bases__[0].__subclasses__()}"'),
     "record", "__class__"),
    ("an external entity", "m.bpmn", DEMO.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                                 '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                                                 '"file:///etc/passwd">]>'), None, "DOCTYPE"),
    ("a file that is not BPMN", "m.bpmn", "<html><body>Not a model</body></html>", None, "m.bpmn"),
    ("a file that is not XML", "m.bpmn", "PK\x03\x04 a zip file", None, "not well-formed XML"),
    ("a file of the wrong kind", "notes.txt", DEMO, None, "only .bpmn and .dmn files"),
    ("a model the engine cannot run", "g.bpmn", (DATA / "deploy_complex_gateway.bpmn").read_text(), "merge",
     "complex gateways are not supported"),
]


@pytest.fixture
def owner(app, people):
    person = identity.create_user("process.owner", "Process owner", ["process_owner"], password="x" * 12)
    return {"Authorization": f"Bearer {api_tokens.issue_token(person, 'tests')}"}


@pytest.fixture
def demo_deployed(app):
    deployments.deploy([("modeller_demo.bpmn", DEMO.encode())], "tests", "The first version")


@pytest.mark.parametrize(("what", "name", "xml", "element", "says"), BROKEN, ids=[case[0] for case in BROKEN])
def test_each_broken_model_is_refused_at_its_element_never_a_500(client, owner, demo_deployed, what, name, xml,
                                                                  element, says):
    body = {"files": [{"name": name, "xml": xml}], "note": "broken"}
    checked = client.post("/api/v1/processes/validate", headers=owner, json=body)
    assert checked.status_code == 200 and checked.json["ok"] is False, checked.json
    [error, *_] = checked.json["errors"]
    assert error["severity"] == "error" and says in error["message"] + str(error["file"]), error
    if element:
        assert error["element_id"] == element
    deployed = client.post("/api/v1/processes/deploy", headers=owner, json=body)
    assert deployed.status_code == 400 and deployed.json["problems"], deployed.json
    assert db.session.scalar(select(func.count()).select_from(Deployment)) == 1


def test_a_20_mb_upload_is_refused_before_it_is_read(client, owner, demo_deployed):
    huge = {"files": [{"name": "m.bpmn", "xml": DEMO + "<!--" + "x" * 20_000_000 + "-->"}]}
    answer = client.post("/api/v1/processes/validate", headers=owner, json=huge)
    assert answer.status_code == 413 and "error" in answer.json


def test_warnings_are_told_apart_from_errors_and_do_not_stop_a_deploy(client, owner, demo_deployed):
    unlabelled = _with(GOOD_DUE, "")
    checked = client.post("/api/v1/processes/validate", headers=owner,
                          json={"files": [{"name": "m.bpmn", "xml": unlabelled}]}).json
    assert checked["ok"] is True and checked["errors"] == []
    assert [(w["element_id"], w["severity"]) for w in checked["warnings"]] == [("record", "warning")]
    assert "no due date" in checked["warnings"][0]["message"]
    deployed = client.post("/api/v1/processes/deploy", headers=owner,
                           json={"files": [{"name": "m.bpmn", "xml": unlabelled}], "note": "No due date"})
    assert deployed.status_code == 201 and deployed.json["deployed"][0]["version"] == 2


def test_the_versions_say_who_deployed_each_why_and_what_changed(client, owner, demo_deployed):
    longer = DEMO.replace("P5D", "P10D").replace('label="Notes"', 'label="What happened"')
    assert client.post("/api/v1/processes/deploy", headers=owner, json={
        "files": [{"name": "m.bpmn", "xml": longer}], "note": "Wait longer"}).status_code == 201
    again = client.post("/api/v1/processes/deploy", headers=owner, json={"files": [{"name": "m.bpmn", "xml": longer}]})
    assert again.json["deployed"][0] == {"process_key": "modeller_demo", "version": 2, "unchanged": True}
    [second, first] = client.get("/api/v1/processes/modeller_demo/versions", headers=owner).json["versions"]
    assert (second["version"], second["deployed_by"], second["note"]) == (2, "process.owner", "Wait longer")
    assert first["changes"] is None
    details = {change["element_id"]: change["details"] for change in second["changes"]}
    assert details == {"wait": ["timer: 'P5D' → 'P10D'"],
                       "record": ["form field 'notes': label 'Notes' → 'What happened'"]}


def test_the_upload_page_deploys_or_lists_each_problem_and_only_for_process_owners(client, app, people,
                                                                                     demo_deployed, sign_in):
    identity.create_user("process.owner", "Process owner", ["process_owner"], password="correct horse battery staple")
    owner_pages = sign_in("process.owner")
    page = owner_pages.get("/processes/modeller_demo/versions").get_data(as_text=True)
    token = csrf_token_in(page)
    broken = _with(' camunda:candidateGroups="business_unit"', "").encode()
    refused = owner_pages.post("/processes/deploy", content_type="multipart/form-data", data={
        "csrf_token": token, "note": "Try", "files": [(BytesIO(broken), "m.bpmn")]})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "The files were not deployed" in text
    assert re.search(r"element <code>record</code> \(Record what happened\): nobody can do this user task", text)
    done = owner_pages.post("/processes/deploy", content_type="multipart/form-data", data={
        "csrf_token": token, "note": "Longer wait", "files": [(BytesIO(DEMO.replace("P5D", "P7D").encode()),
                                                                "m.bpmn")]})
    assert done.status_code == 302 and done.headers["Location"] == "/processes/modeller_demo/versions"
    page = owner_pages.get("/processes/modeller_demo/versions").get_data(as_text=True)
    assert "Longer wait" in page and "timer: &#39;P5D&#39; → &#39;P7D&#39;" in page
    bu = sign_in("bu.officer")
    theirs = csrf_token_in(bu.get("/account").get_data(as_text=True))
    assert bu.post("/processes/deploy", data={"csrf_token": theirs}).status_code == 404


def test_a_reminder_about_a_task_the_model_lacks_is_a_warning_at_its_event(client, owner, demo_deployed):
    from conftest import PROCESSES

    shipped = (PROCESSES / "multi_agency_audit.bpmn").read_text()
    dmn = {"name": "audit_durations.dmn", "xml": (PROCESSES / "audit_durations.dmn").read_text()}

    def about_warnings(xml: str) -> list[tuple[str, str]]:
        checked = client.post("/api/v1/processes/validate", headers=owner,
                              json={"files": [{"name": "multi_agency_audit.bpmn", "xml": xml}, dmn]}).json
        assert checked["ok"] is True, checked
        return [(w["element_id"], w["message"]) for w in checked["warnings"] if "property about" in w["message"]]

    assert about_warnings(shipped) == []  # each reminder names the task it is about
    typo = shipped.replace('name="about" value="nominate_cases"', 'name="about" value="nominate_case"')
    [(element, message)] = about_warnings(typo)
    assert element == "nominator_reminded" and "'nominate_case', which is no user task" in message
