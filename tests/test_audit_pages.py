"""The audit page: what each person sees of an audit, and what they do not."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from werkzeug.security import generate_password_hash

from audit_driver import AuditDriver
from bpmn_audit.models import db
from bpmn_audit.services import identity
from conftest import LAUNCH

PASSWORD = "correct horse battery staple"


@pytest.fixture
def audit(app, client, people, deployed):  # client: its fixture gives the app its test client class
    for key in ("bu", "lead.police", "practitioner.police"):
        people[key].password_hash = generate_password_hash(PASSWORD)
    identity.create_user("lead.health", "Health lead", ["agency_lead"], agency="health", password=PASSWORD)
    db.session.commit()
    with time_machine.travel(LAUNCH, tick=False):
        driver = AuditDriver(people)
        driver.complete("nominate_cases")
        driver.complete("collate_audit_pack")
        driver.complete("confirm_audit_lead")  # every agency's lead confirms
    return driver


def _signed_in(app, username: str):
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                         "csrf_token": token}).status_code == 302
    return client


def test_the_business_unit_sees_every_agency_the_cases_by_pseudonym_and_the_history(app, audit):
    with time_machine.travel(LAUNCH + timedelta(days=1), tick=False):
        html = _signed_in(app, "bu.officer").get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert "<h1 class=\"govuk-heading-l\">Neglect in under-fives</h1>" in html
    for agency in ("police", "csc", "icb"):
        assert f'<td class="govuk-table__cell">{agency}</td>' in html
    assert "Child A" in html  # pseudonyms only: the register's names are never on this page
    assert "task completed: Confirm the agency&#39;s audit lead" in html
    assert html.index("Today,") > html.index("<h2 class=\"govuk-heading-m\">Deadlines</h2>")


def test_an_agency_lead_sees_its_own_agency_and_history_only(app, audit):
    with time_machine.travel(LAUNCH + timedelta(days=1), tick=False):
        html = _signed_in(app, "lead.police").get(f"/audits/{audit.instance_id}").get_data(as_text=True)
        listing = _signed_in(app, "lead.police").get("/audits").get_data(as_text=True)
    assert '<td class="govuk-table__cell">police</td>' in html
    assert '<td class="govuk-table__cell">csc</td>' not in html and "csc lead" not in html
    assert f'href="/audits/{audit.instance_id}"' in listing


def test_an_agency_taking_no_part_gets_404_and_an_empty_list(app, audit):
    client = _signed_in(app, "lead.health")
    assert client.get(f"/audits/{audit.instance_id}").status_code == 404
    assert "You take part in no audits yet" in client.get("/audits").get_data(as_text=True)


def test_the_diagram_marks_the_steps_done_and_under_way(app, audit):
    answer = _signed_in(app, "lead.police").get(f"/audits/{audit.instance_id}/diagram.json")
    assert answer.status_code == 200
    drawn = answer.json
    assert 'id="multi_agency_audit"' in drawn["xml"] and "<bpmndi:BPMNDiagram" in drawn["xml"]
    states = drawn["states"]
    assert states["set_up_audit"] == states["nominate_cases"] == states["confirm_audit_lead"] == "completed"
    assert states["brief_audit_leads"] == "active"  # open now
    assert states["notice_period_ends"] == "waiting"  # the timer waiting for the notice to end
    assert "share_reports" not in states  # not reached
    page = _signed_in(app, "lead.police").get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert f'data-src="/audits/{audit.instance_id}/diagram.json"' in page and "The diagram needs JavaScript" in page
    assert _signed_in(app, "lead.health").get(f"/audits/{audit.instance_id}/diagram.json").status_code == 404
