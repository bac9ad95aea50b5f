"""Who gets what from every route: each page and API endpoint, for each role and for an anonymous visitor.

The table is walked against ``app.url_map``: a new route without its row fails the test. Agency A's lead
gets 404 for agency B's task (pages and API alike) and for an audit A takes no part in.
"""

from __future__ import annotations

import re

import pytest
import time_machine

from audit_driver import AuditDriver
from bpmn_audit.services import agencies, api_tokens, cases, identity
from conftest import LAUNCH

PASSWORD = "correct horse battery staple"
ROLES = ("anonymous", "lead.police", "lead.health", "bu")
# endpoint -> (method, path, JSON body, {role: status}); {csc_task} is agency csc's task, {audit} the audit,
# {token} a token of someone else, {case} a case of the audit
TABLE = {
    "health.healthz": ("GET", "/healthz", None, {"anonymous": 200, "lead.police": 200, "lead.health": 200, "bu": 200}),
    "auth.sign_in": ("GET", "/sign-in", None, {"anonymous": 200, "lead.police": 302, "lead.health": 302, "bu": 302}),
    "auth.sign_out": ("POST", "/sign-out", None, {"anonymous": 302, "lead.police": 302, "lead.health": 302,
                                                  "bu": 302}),
    "inbox.inbox": ("GET", "/", None, {"anonymous": 302, "lead.police": 200, "lead.health": 200, "bu": 200}),
    "task_pages.task": ("GET", "/tasks/{csc_task}", None,  # the Business Unit sees it to give it to someone
                        {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 200}),
    "task_pages.claim": ("POST", "/tasks/{csc_task}/claim", None,
                         {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "task_pages.release": ("POST", "/tasks/{csc_task}/release", None,
                           {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "task_pages.assign": ("POST", "/tasks/{csc_task}/assign", None,
                          {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 302}),
    "case_pages.add_case": ("POST", "/tasks/{csc_task}/cases", None,
                            {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "case_pages.case": ("GET", "/cases/{case}", None,  # the leads of agencies taking part read the details
                        {"anonymous": 302, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "agency_audit_pages.finding": ("GET", "/tasks/{csc_task}/cases/{case}", None,
                                   {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "agency_audit_pages.agency_return": ("POST", "/tasks/{csc_task}/return", None,
                                         {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "concern_pages.raise_concern": ("GET", "/audits/{audit}/concerns/new", None,
                                    {"anonymous": 302, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "agency_pages.agency_list": ("GET", "/agencies", None,
                                 {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 200}),
    "agency_pages.update": ("POST", "/agencies/{agency}", None,
                            {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 302}),
    "api.list_agencies": ("GET", "/api/v1/agencies", None,
                          {"anonymous": 401, "lead.police": 200, "lead.health": 200, "bu": 200}),
    "audit_pages.diagram": ("GET", "/audits/{audit}/diagram.json", None,
                            {"anonymous": 302, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "process_pages.process_list": ("GET", "/processes", None,
                                   {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "process_pages.download": ("GET", "/processes/1/files/1", None,
                               {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.audit_list": ("GET", "/operations", None,
                                 {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "audit_pages.report": ("GET", "/audits/{audit}/reports/csc", None,  # not shared yet: csc's own and the BU
                           {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 200}),
    "api.show_report": ("GET", "/api/v1/audits/{audit}/reports/csc", None,
                        {"anonymous": 401, "lead.police": 404, "lead.health": 404, "bu": 200}),
    "notification_pages.notification_list": ("GET", "/notifications", None,
                                             {"anonymous": 302, "lead.police": 200, "lead.health": 200, "bu": 200}),
    "notification_pages.mark_all_read": ("POST", "/notifications/read", None,
                                         {"anonymous": 302, "lead.police": 302, "lead.health": 302, "bu": 302}),
    "calendar_pages.feed": ("GET", "/calendar/bpc_not-a-real-link.ics", None,
                            {"anonymous": 404, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "calendar_pages.audit_calendar": ("GET", "/audits/{audit}/calendar.ics", None,
                                      {"anonymous": 302, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "calendar_pages.new_feed_link": ("POST", "/account/calendar", None,
                                     {"anonymous": 302, "lead.police": 200, "lead.health": 200, "bu": 200}),
    "calendar_pages.stop_feed_link": ("POST", "/account/calendar/stop", None,
                                      {"anonymous": 302, "lead.police": 302, "lead.health": 302, "bu": 302}),
    "audit_pages.audit_list": ("GET", "/audits", None, {"anonymous": 302, "lead.police": 200, "lead.health": 200,
                                                        "bu": 200}),
    "audit_pages.audit": ("GET", "/audits/{audit}", None,
                          {"anonymous": 302, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "account.account": ("GET", "/account", None, {"anonymous": 302, "lead.police": 200, "lead.health": 200,
                                                  "bu": 200}),
    "account.email_preference": ("POST", "/account/email", None,  # no choice sent: a 400 for the signed in
                                 {"anonymous": 302, "lead.police": 400, "lead.health": 400, "bu": 400}),
    "account.revoke": ("POST", "/account/tokens/{token}/revoke", None,
                       {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.openapi": ("GET", "/api/v1/openapi.json", None, {"anonymous": 200, "lead.police": 200, "lead.health": 200,
                                                          "bu": 200}),
    "api.me": ("GET", "/api/v1/me", None, {"anonymous": 401, "lead.police": 200, "lead.health": 200, "bu": 200}),
    "api.list_tasks": ("GET", "/api/v1/tasks", None, {"anonymous": 401, "lead.police": 200, "lead.health": 200,
                                                      "bu": 200}),
    "api.show_task": ("GET", "/api/v1/tasks/{csc_task}", None,
                      {"anonymous": 401, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.complete": ("POST", "/api/v1/tasks/{csc_task}/complete", {"data": {}},
                     {"anonymous": 401, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.claim": ("POST", "/api/v1/tasks/{csc_task}/claim", None,
                  {"anonymous": 401, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.release": ("POST", "/api/v1/tasks/{csc_task}/release", None,
                    {"anonymous": 401, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.assign": ("POST", "/api/v1/tasks/{csc_task}/assign", {"assignee": None},
                   {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 200}),
    "api.list_audits": ("GET", "/api/v1/audits", None, {"anonymous": 401, "lead.police": 200, "lead.health": 200,
                                                        "bu": 200}),
    "api.show_audit": ("GET", "/api/v1/audits/{audit}", None,
                       {"anonymous": 401, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "api.list_cases": ("GET", "/api/v1/audits/{audit}/cases", None,
                       {"anonymous": 401, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "api.list_concerns": ("GET", "/api/v1/audits/{audit}/concerns", None,
                          {"anonymous": 401, "lead.police": 200, "lead.health": 404, "bu": 200}),
    "api.raise_concern": ("POST", "/api/v1/audits/{audit}/concerns", {"summary": "Bruising seen"},
                          {"anonymous": 401, "lead.police": 201, "lead.health": 404, "bu": 201}),
    "extension_pages.extend": ("GET", "/audits/{audit}/deadlines", None,
                               {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 200}),
    "api.list_deadlines": ("GET", "/api/v1/audits/{audit}/deadlines", None,
                           {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 200}),
    "api.extend_deadline": ("POST", "/api/v1/audits/{audit}/deadlines",  # a date before the deadline: refused
                            {"deadline": "notice_due", "due_on": "2027-01-05", "reason": "More time"},
                            {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 400}),
    "modeller_pages.version_list": ("GET", "/processes/multi_agency_audit/versions", None,
                                    {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "modeller_pages.deploy_upload": ("POST", "/processes/deploy", None,
                                     {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "modeller_pages.modeller": ("GET", "/processes/multi_agency_audit/modeller", None,
                                {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "modeller_pages.model": ("GET", "/processes/multi_agency_audit/model", None,
                             {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "modeller_pages.save_draft": ("POST", "/processes/multi_agency_audit/draft", None,
                                  {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "modeller_pages.validate": ("POST", "/processes/multi_agency_audit/validate", None,
                                {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "modeller_pages.deploy_model": ("POST", "/processes/multi_agency_audit/deploy", None,
                                    {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.list_versions": ("GET", "/api/v1/processes/multi_agency_audit/versions", None,
                          {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.validate_model": ("POST", "/api/v1/processes/validate", {"files": []},
                           {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.deploy_model": ("POST", "/api/v1/processes/deploy", {"files": []},
                         {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "migration_pages.migrate": ("GET", "/processes/multi_agency_audit/versions/1/migrate", None,
                                {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.migrate_audit": ("POST", "/api/v1/audits/{audit}/migration", {"to_version": 1},
                          {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "health.readyz": ("GET", "/readyz", None, {"anonymous": 200, "lead.police": 200, "lead.health": 200, "bu": 200}),
    "operation_pages.inspect": ("GET", "/operations/audits/{audit}", None,
                                {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.operate": ("POST", "/operations/audits/{audit}/suspend", None,
                                {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.edit_data": ("POST", "/operations/audits/{audit}/data", None,
                                  {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.move_back": ("POST", "/operations/audits/{audit}/back", None,
                                  {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.move_forward": ("POST", "/operations/audits/{audit}/forward", None,
                                     {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.skip": ("POST", "/operations/tasks/{csc_task}/skip", None,
                             {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.reassign": ("POST", "/operations/tasks/{csc_task}/assign", None,
                                 {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.delete": ("POST", "/operations/audits/{audit}/delete", None,
                               {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "operation_pages.health": ("GET", "/operations/health", None,
                               {"anonymous": 302, "lead.police": 404, "lead.health": 404, "bu": 404}),
    "api.operate": ("POST", "/api/v1/audits/{audit}/suspend", {"reason": "Checking"},
                    {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.edit_data": ("POST", "/api/v1/audits/{audit}/data", {"values": {"x": 1}, "reason": "Mend"},
                      {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.move_back": ("POST", "/api/v1/audits/{audit}/back", {"bpmn_id": "set_up_audit", "reason": "Again"},
                      {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.move_forward": ("POST", "/api/v1/audits/{audit}/forward", {"bpmn_id": "qiip_sign_off", "reason": "Go"},
                         {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.skip_task": ("POST", "/api/v1/tasks/{csc_task}/skip", {"reason": "Not needed"},
                      {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.delete_audit": ("DELETE", "/api/v1/audits/{audit}", {"confirm": 0, "reason": "A test"},
                         {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.system_health": ("GET", "/api/v1/health", None,
                          {"anonymous": 401, "lead.police": 403, "lead.health": 403, "bu": 403}),
    "api.start_audit": ("POST", "/api/v1/audits", None, {"anonymous": 401, "lead.police": 403, "lead.health": 403,
                                                         "bu": 201}),
}


@pytest.fixture
def world(app, people, deployed):
    """An audit at the leads' confirmations; the people of the table with passwords; a token of lead.csc."""
    from werkzeug.security import generate_password_hash

    from bpmn_audit.models import db

    identity.create_user("lead.health", "Health lead", ["agency_lead"], agency="health", password=PASSWORD)
    for username in ("lead.police", "bu.officer"):
        identity.get_user(username).password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        audit.complete("collate_audit_pack")
    api_tokens.issue_token(people["lead.csc"], "theirs")
    return {"csc_task": next(t.id for t in audit.open_tasks("confirm_audit_lead") if t.agency == "csc"),
            "audit": audit.instance_id, "token": api_tokens.list_tokens(people["lead.csc"])[0].id,
            "case": cases.list_cases(audit.instance_id, people["bu"])[0].id,
            "agency": agencies.add_agency(people["bu"], {"code": "youth", "name": "Youth Justice"}).id}


def _username(role: str) -> str:
    return "bu.officer" if role == "bu" else role


def _signed_in_client(app, role: str):
    client = app.test_client()
    if role != "anonymous":
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = client.post("/sign-in", data={"username": _username(role), "password": PASSWORD,
                                               "csrf_token": token})
        assert answer.status_code == 302, role
    return client


def test_the_table_covers_every_route(app):
    routed = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert routed == set(TABLE), {"without a row": routed - set(TABLE), "no longer routed": set(TABLE) - routed}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_answer_in_the_table(app, client, world, role):
    headers = {}
    if role != "anonymous":
        headers = {"Authorization": f"Bearer {api_tokens.issue_token(identity.get_user(_username(role)), 't')}"}
    with time_machine.travel(LAUNCH, tick=False):
        for endpoint, (method, path, body, answers) in TABLE.items():
            url = path.format(**world)
            if endpoint.startswith("api."):
                answer = client.open(url, method=method, headers=headers, json=body)
            else:
                browser = _signed_in_client(app, role)
                data = None
                if method == "POST":
                    page = browser.get("/sign-in" if role == "anonymous" else "/account").get_data(as_text=True)
                    data = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)}
                answer = browser.open(url, method=method, data=data)
            assert answer.status_code == answers[role], (endpoint, role, answer.get_data(as_text=True)[:300])
