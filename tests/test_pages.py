"""Sign-in, sign-out, the inbox page and the account page, in the test client with CSRF on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from audit_driver import AuditDriver
from bpmn_audit.services import identity
from conftest import LAUNCH

PASSWORD = "correct horse battery staple"



def _token_of(client, path: str) -> str:
    page = client.get(path).data
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.decode())
    assert found, page[:500]
    return found.group(1)


def _sign_in(client, username: str, password: str = PASSWORD, next_path: str = ""):
    token = _token_of(client, "/sign-in")
    return client.post(f"/sign-in{next_path}", data={"username": username, "password": password, "csrf_token": token})


def _check_page(html: str) -> None:
    """One h1, and the title starts with it; no duplicate ids."""
    headings = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert len(headings) == 1, headings
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    assert title.removeprefix("Error: ").startswith(headings[0].strip()), (title, headings)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.fixture
def lead(app):
    return identity.create_user("lead.police", "Police lead", ["agency_lead"], agency="police", password=PASSWORD)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    answer = client.get("/")
    assert answer.status_code == 302 and answer.location.startswith("/sign-in?next=")
    assert client.get("/account").status_code == 302
    page = client.get("/sign-in")
    assert page.status_code == 200
    _check_page(page.data.decode())


def test_a_wrong_password_shows_the_error_summary_and_keeps_the_username(client, lead):
    answer = _sign_in(client, "lead.police", "wrong")
    html = answer.data.decode()
    assert answer.status_code == 400
    assert "There is a problem" in html and "Enter a correct username and password" in html
    assert 'value="lead.police"' in html and "wrong" not in html.split("<main")[1]  # the password is not echoed
    assert re.search(r"<title>\s*Error: Sign in", html)
    _check_page(html)
    blank = client.post("/sign-in", data={"username": "", "password": "", "csrf_token": _token_of(client, "/sign-in")})
    assert "Enter your username" in blank.data.decode() and "Enter your password" in blank.data.decode()


def test_sign_in_shows_my_tasks_and_sign_out_ends_the_session(client, app, people, deployed):
    identity.create_user("lead.csc2", "CSC lead", ["agency_lead"], agency="csc", password=PASSWORD)
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        audit.complete("collate_audit_pack")
        answer = _sign_in(client, "lead.csc2", next_path="?next=/")
        assert answer.status_code == 302 and answer.location == "/"
        inbox = client.get("/")
        html = inbox.data.decode()
        _check_page(html)
        assert "Confirm the agency&#39;s audit lead" in html and "Tasks (1)" in html
        assert "govuk-tag--red" not in html
        assert inbox.headers["Cache-Control"] == "no-store"
        assert "nonce-" in inbox.headers["Content-Security-Policy"]
        nonce = re.search(r"nonce-([^']+)'", inbox.headers["Content-Security-Policy"]).group(1)
        assert f'<script nonce="{nonce}">' in html
        assert client.get("/?show=overdue").data.decode().count("Confirm the agency") == 0
    with time_machine.travel(LAUNCH + timedelta(days=30), tick=False):
        _sign_in(client, "lead.csc2")
        assert "govuk-tag--red" in client.get("/?show=overdue").data.decode()
        assert client.post("/sign-out", data={"csrf_token": _token_of(client, "/")}).status_code == 302
        assert client.get("/").status_code == 302


def test_a_post_without_its_csrf_token_is_refused(client, lead):
    assert client.post("/sign-in", data={"username": "lead.police", "password": PASSWORD}).status_code == 400
    _sign_in(client, "lead.police")
    refused = client.post("/sign-out")
    assert refused.status_code == 400 and "CSRF" in refused.data.decode()
    assert client.get("/").status_code == 200  # still signed in
    assert client.post("/account", data={"name": "script"}).status_code == 400


def test_repeated_failures_are_slowed_then_locked(client, lead):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        for _ in range(3):
            assert "Enter a correct username" in _sign_in(client, "lead.police", "wrong").data.decode()
        slowed = _sign_in(client, "lead.police")  # even the right password waits
        assert "wait 30 seconds" in slowed.data.decode() and slowed.status_code == 400
        for _ in range(3):
            clock.shift(31)
            _sign_in(client, "lead.police", "wrong")
        clock.shift(31)
        locked = _sign_in(client, "lead.police")
        assert "this account is locked" in locked.data.decode()
        clock.shift(14 * 60)
        assert "locked" in _sign_in(client, "lead.police").data.decode()
        clock.shift(2 * 60)
        assert _sign_in(client, "lead.police").status_code == 302


def test_unknown_users_read_like_wrong_passwords(client, lead):
    assert "Enter a correct username and password" in _sign_in(client, "nobody").data.decode()


def test_an_idle_session_is_signed_out(client, lead, app):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        _sign_in(client, "lead.police")
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200
        clock.shift(29 * 60)  # active 29 minutes ago: still in
        assert client.get("/").status_code == 200
        clock.shift(31 * 60)
        answer = client.get("/account")
        assert answer.status_code == 302 and answer.location.startswith("/sign-in")
        assert "signed out after a while" in client.get("/sign-in").data.decode()
        assert client.get("/").status_code == 302


def test_next_never_leaves_the_site(client, lead):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        answer = _sign_in(client, "lead.police", next_path=f"?next={target}")
        assert answer.location == "/", target
        client.post("/sign-out", data={"csrf_token": _token_of(client, "/")})


def test_tokens_made_on_the_account_page_work_once_shown_and_stop_when_revoked(client, lead):
    _sign_in(client, "lead.police")
    page = client.get("/account")
    _check_page(page.data.decode())
    made = client.post("/account", data={"name": "reporting script", "csrf_token": _token_of(client, "/account")})
    html = made.data.decode()
    token = re.search(r'<code class="app-token">([^<]+)</code>', html).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["username"] == "lead.police"
    again = client.get("/account").data.decode()
    assert "reporting script" in again and token not in again  # shown once
    revoke = re.search(r'action="(/account/tokens/\d+/revoke)"', again).group(1)
    assert client.post(revoke, data={"csrf_token": _token_of(client, "/account")}).status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    too_long = client.post("/account", data={"name": "x" * 101, "csrf_token": _token_of(client, "/account")})
    assert too_long.status_code == 400 and "100 characters or fewer" in too_long.data.decode()


def test_every_page_route_declares_its_guard(app):
    """A new page without @requires or @public fails here (the API guards itself with bearer tokens)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "required_groups"), f"{rule.rule} ({rule.endpoint}) declares no guard"


def test_page_errors_are_pages_and_api_errors_are_json(client, lead):
    _sign_in(client, "lead.police")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.data.decode()
    _check_page(missing.data.decode())
    assert client.get("/api/v1/nothing").is_json


def test_the_stylesheet_is_served_with_a_system_font_and_no_gov_uk_font(client):
    from pathlib import Path

    built = Path(client.application.static_folder) / "app.css"
    if not built.exists():
        pytest.skip("the stylesheet is built by make (npm's sass); run make install")
    with client.get("/static/app.css") as css:
        assert css.status_code == 200
        text = css.get_data(as_text=True)
    assert "system-ui" in text and "GDS Transport" not in text and "govuk-header" in text
