"""A task's page: the generated form, its messages with the values kept, drafts, and safe instructions."""

from __future__ import annotations

import re

import pytest
import time_machine

from audit_driver import AuditDriver
from bpmn_audit.models import HumanTask, ProcessInstance, db
from bpmn_audit.services import cases, identity
from conftest import LAUNCH

PASSWORD = "correct horse battery staple"


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def lead_page(app, client, people, deployed):
    """An audit at the leads' confirmations, and the police lead signed in; yields (client, audit)."""
    from werkzeug.security import generate_password_hash

    people["lead.police"].password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        audit.complete("collate_audit_pack")
        page = client.get("/sign-in").get_data(as_text=True)
        assert client.post("/sign-in", data={"username": "lead.police", "password": PASSWORD,
                                             "csrf_token": _token(page)}).status_code == 302
        yield client, audit


def _police_task(audit) -> HumanTask:
    return next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "police")


def test_the_inbox_links_to_the_task_page_with_its_form(lead_page):
    client, audit = lead_page
    task = _police_task(audit)
    assert f'href="/tasks/{task.id}"' in client.get("/").get_data(as_text=True)
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "<h1 class=\"govuk-heading-l\">Confirm the agency&#39;s audit lead</h1>" in html
    for field in ("lead_name", "lead_email", "lead_phone"):
        assert f'name="{field}"' in html


def test_a_missing_required_value_shows_the_summary_and_keeps_what_was_typed(lead_page):
    client, audit = lead_page
    task = _police_task(audit)
    version = db.session.get(ProcessInstance, audit.instance_id).version
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    answer = client.post(f"/tasks/{task.id}", data={"csrf_token": _token(page), "lead_name": "",
                                                    "lead_email": "lead@police.example", "complete": "y"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "There is a problem" in html and 'href="#lead_name"' in html
    assert 'value="lead@police.example"' in html
    assert re.search(r"<title>\s*Error: Confirm the agency", html)
    db.session.expire_all()
    assert db.session.get(ProcessInstance, audit.instance_id).version == version
    done = client.post(f"/tasks/{task.id}", data={"csrf_token": _token(html), "lead_name": "Sam Lead",
                                                  "lead_email": "lead@police.example", "complete": "y"})
    assert done.status_code == 302 and done.location == "/"
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).completed_by == "lead.police"
    assert "Done: Confirm the agency" in client.get("/").get_data(as_text=True)


def test_a_draft_is_saved_and_restored_without_completing(lead_page):
    client, audit = lead_page
    task = _police_task(audit)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    saved = client.post(f"/tasks/{task.id}", data={"csrf_token": _token(page), "lead_name": "Half typed",
                                                   "secret": "not a field", "save_draft": "y"})
    assert saved.status_code == 302
    db.session.expire_all()
    row = db.session.get(HumanTask, task.id)
    assert row.status == "open" and row.draft["lead_name"] == "Half typed" and "secret" not in row.draft
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'value="Half typed"' in html and "saved as a draft" in html


def test_instructions_are_markdown_and_a_script_in_them_is_inert(lead_page):
    client, audit = lead_page
    task = _police_task(audit)
    deployment = db.session.get(ProcessInstance, audit.instance_id).deployment
    forms = dict(deployment.forms)
    forms["confirm_audit_lead"] = {**forms["confirm_audit_lead"],
                                   "documentation": "**Name** your lead. <script>alert('x')</script>"}
    deployment.forms = forms
    db.session.commit()
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "<strong>Name</strong> your lead." in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_another_agency_s_task_page_is_404_and_a_post_without_csrf_is_refused(lead_page, people):
    client, audit = lead_page
    csc = next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "csc")
    assert client.get(f"/tasks/{csc.id}").status_code == 404
    task = _police_task(audit)
    refused = client.post(f"/tasks/{task.id}", data={"lead_name": "X", "lead_email": "x@y.example", "complete": "y"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).status == "open"
    assert identity.get_user("lead.police").active


def test_the_set_up_page_has_radios_a_checkbox_a_chair_select_and_completes(app, client, people, deployed):
    from werkzeug.security import generate_password_hash

    from audit_driver import SET_UP
    from bpmn_audit.services import runtime

    people["bu"].password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    with time_machine.travel(LAUNCH, tick=False):
        instance = runtime.start_audit(people["bu"])
        page = client.get("/sign-in").get_data(as_text=True)
        client.post("/sign-in", data={"username": "bu.officer", "password": PASSWORD, "csrf_token": _token(page)})
        task = db.session.query(HumanTask).filter_by(instance_id=instance.id).one()
        html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert 'type="radio"' in html and 'name="complexity"' in html
        assert 'type="checkbox"' in html and 'name="independent_chair"' in html
        assert re.search(r'<select[^>]*name="chair"', html) and '<option value="chair">chair</option>' in html
        answers = {key: value for key, value in SET_UP.items() if key not in ("agencies", "independent_chair")}
        done = client.post(f"/tasks/{task.id}", data={**answers, "csrf_token": _token(html), "complete": "y"})
        assert done.status_code == 302, done.get_data(as_text=True)[:2000]
        db.session.expire_all()
        assert db.session.get(HumanTask, task.id).status == "completed"


def test_take_give_back_and_the_business_unit_giving_a_task_to_someone(app, lead_page, people):
    client, audit = lead_page
    task = _police_task(audit)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Nobody has taken this task yet" in page
    assert client.post(f"/tasks/{task.id}/claim", data={"csrf_token": _token(page)}).status_code == 302
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "This task is yours" in page and "Give it back" in page
    assert client.post(f"/tasks/{task.id}/release", data={"csrf_token": _token(page)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee is None
    # the Business Unit opens the agency's task from the audit page and gives it to the police lead
    from werkzeug.security import generate_password_hash

    people["bu"].password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    bu = app.test_client()
    sign_in = bu.get("/sign-in").get_data(as_text=True)
    bu.post("/sign-in", data={"username": "bu.officer", "password": PASSWORD, "csrf_token": _token(sign_in)})
    audit_page = bu.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert f'href="/tasks/{task.id}"' in audit_page
    view = bu.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'name="lead_name"' not in view  # the Business Unit sees whom to give it to, not the lead's form
    assert '<option value="lead.police">' in view and '<option value="lead.csc">' not in view
    given = bu.post(f"/tasks/{task.id}/assign", data={"assignee": "lead.police", "csrf_token": _token(view)})
    assert given.status_code == 302
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee == "lead.police"
    refused = bu.post(f"/tasks/{task.id}/assign", data={"assignee": "lead.csc", "csrf_token": _token(view)})
    assert refused.status_code == 409 and "is not offered to" in refused.get_data(as_text=True)


def test_the_business_unit_cannot_complete_an_agency_s_task_from_its_page(app, lead_page, people):
    _client, audit = lead_page
    from werkzeug.security import generate_password_hash

    people["bu"].password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    task = _police_task(audit)
    bu = app.test_client()
    sign_in = bu.get("/sign-in").get_data(as_text=True)
    bu.post("/sign-in", data={"username": "bu.officer", "password": PASSWORD, "csrf_token": _token(sign_in)})
    view = bu.get(f"/tasks/{task.id}").get_data(as_text=True)
    answer = bu.post(f"/tasks/{task.id}", data={"lead_name": "BU", "lead_email": "bu@x.example", "complete": "y",
                                                "csrf_token": _token(view)})
    assert answer.status_code == 404
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).status == "open"


EXTRA_FIELDS = """<camunda:formField id="lead_phone" label="Audit lead's phone" type="string"/>
            <camunda:formField id="procedure" label="Procedure version" type="string" defaultValue="2021">
              <camunda:validation><camunda:constraint name="readonly"/></camunda:validation>
            </camunda:formField>
            <camunda:formField id="first_case" label="Case your lead starts with" type="string">
              <camunda:properties>
                <camunda:property id="format" value="case"/>
                <camunda:property id="hint" value="Any case will do.&#10;Your lead reads them all in the end."/>
              </camunda:properties>
            </camunda:formField>"""


def test_read_only_fields_multi_line_hints_and_a_case_of_this_audit(app, client, people, deployed):
    from bpmn_audit.services import deployments
    from conftest import PROCESSES

    model, replaced = re.subn(r'<camunda:formField id="lead_phone".*?</camunda:formField>', EXTRA_FIELDS,
                              (PROCESSES / "multi_agency_audit.bpmn").read_text(), count=1, flags=re.DOTALL)
    assert replaced == 1
    deployments.deploy([("multi_agency_audit.bpmn", model.encode()),
                        ("audit_durations.dmn", (PROCESSES / "audit_durations.dmn").read_bytes())], "tests")
    from werkzeug.security import generate_password_hash

    people["lead.police"].password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        page = client.get("/sign-in").get_data(as_text=True)
        client.post("/sign-in", data={"username": "lead.police", "password": PASSWORD, "csrf_token": _token(page)})
        task = _police_task(audit)
        html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert re.search(r'<input[^>]*name="procedure"[^>]*value="2021"[^>]*readonly|'
                         r'<input[^>]*readonly[^>]*name="procedure"', html), html
        assert "Any case will do.<br>Your lead reads them all in the end." in html
        assert '<option value="' in html and ">Child A</option>" in html
        first = cases.list_cases(audit.instance_id, people["bu"])[0]
        wrong = client.post(f"/tasks/{task.id}", data={"csrf_token": _token(html), "lead_name": "Sam",
                                                       "lead_email": "sam@police.example", "first_case": "999999",
                                                       "complete": "y"})
        assert wrong.status_code == 400 and "Choose one of the audit&#39;s cases" in wrong.get_data(as_text=True)
        done = client.post(f"/tasks/{task.id}", data={"csrf_token": _token(html), "lead_name": "Sam",
                                                      "lead_email": "sam@police.example", "procedure": "1999",
                                                      "first_case": str(first.id), "complete": "y"})
        assert done.status_code == 302
        db.session.expire_all()
        kept = db.session.get(HumanTask, task.id).form_data
        assert kept["procedure"] == "2021" and kept["first_case"] == first.id  # the read-only value stands
