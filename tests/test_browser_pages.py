"""The pages in a real browser: sign-in, the inbox and the account page, by mouse, by keyboard and without
JavaScript, each checked by axe-core for serious or critical accessibility problems (CSP stays on).

The site and the browser are the session's (``browsing``). Needs Debian's chromium and npm's axe-core
(``make test`` installs it where npm exists).
"""

from __future__ import annotations

import time

from playwright.sync_api import expect

from browsing import NEEDS_A_BROWSER, PASSWORD, another_page, open_audit, tab_to
from browsing import no_serious_violations as _no_serious_violations
from browsing import sign_in as _sign_in

pytestmark = NEEDS_A_BROWSER


def test_signing_in_wrongly_then_rightly_and_every_page_passes_axe(page, site):
    page.goto(f"{site}/")
    assert page.url.startswith(f"{site}/sign-in")
    _no_serious_violations(page)
    _sign_in(page, site, "lead.police", "not the password")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    assert "Enter a correct username and password" in summary.inner_text()
    assert page.get_by_label("Username").input_value() == "lead.police"
    assert page.title().startswith("Error: Sign in")
    _no_serious_violations(page)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your tasks"
    assert "Confirm the agency's audit lead" in page.locator("table").inner_text()
    _no_serious_violations(page)
    page.get_by_role("link", name="Your account").click()
    page.get_by_label("What the new token is for").fill("laptop script")
    page.get_by_role("button", name="Make a token").click()
    expect(page.locator("code.app-token")).to_contain_text("bpa_")
    _no_serious_violations(page)
    page.get_by_role("button", name="Revoke the token for laptop script").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The token is revoked")
    page.get_by_role("link", name="Notifications (0)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    _no_serious_violations(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site}/sign-in")


def test_a_lead_signs_in_and_finds_their_task_by_keyboard_alone(page, site):
    page.goto(f"{site}/sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    tab_to(page, "username", presses=8)
    page.keyboard.type("lead.csc")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/")
    assert "csc" in page.locator("table").inner_text()
    assert "police" not in page.locator("table").inner_text()


def test_the_inbox_works_without_javascript(browser, site):
    with another_page(browser, javascript=False) as page:
        _sign_in(page, site, "lead.icb")
        page.wait_for_url(f"{site}/")
        assert "Confirm the agency's audit lead" in page.locator("table").inner_text()
        page.get_by_role("link", name="Overdue").click()
        expect(page.locator("main")).to_contain_text("You have no tasks here")


def test_no_page_is_slow_to_answer(site):
    """A smoke check that the server is up and answering (not a timing assertion: a generous hang guard)."""
    import urllib.request

    started = time.monotonic()
    with urllib.request.urlopen(f"{site}/healthz", timeout=10) as answer:
        assert answer.status == 200
    assert time.monotonic() - started < 10


def test_a_lead_completes_a_generated_form_without_javascript_after_an_error(browser, site):
    with another_page(browser, javascript=False) as page:
        _sign_in(page, site, "lead.police")
        page.get_by_role("link", name="Confirm the agency's audit lead").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the agency's audit lead")
        page.get_by_label("Email").fill("lead@police.example")
        page.get_by_role("button", name="Complete the task").click()
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert page.title().startswith("Error: ")
        assert page.get_by_label("Email").input_value() == "lead@police.example"  # kept
        page.get_by_label("Name").fill("Sam Lead")
        page.get_by_role("button", name="Complete the task").click()
        page.wait_for_url(f"{site}/")
        assert "Done: Confirm the agency's audit lead" in page.locator(".govuk-notification-banner").inner_text()
        assert "You have no tasks" in page.locator("main").inner_text()


def test_the_task_page_passes_axe(page, site):
    _sign_in(page, site, "lead.csc")
    page.get_by_role("link", name="Confirm the agency's audit lead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the agency's audit lead")
    page.get_by_role("button", name="Complete the task").click()  # with its error summary
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _no_serious_violations(page)


def test_the_audit_page_draws_its_diagram_and_passes_axe(page, site):
    console = open_audit(page, site, "bu.officer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neglect in under-fives")
    assert page.get_by_role("heading", name="Deadlines").is_visible()
    expect(page.locator("#diagram[data-ready=true]")).to_be_visible()  # drawn by bpmn-js, CSP on
    expect(page.locator('.djs-element.app-completed[data-element-id="set_up_audit"]')).to_have_count(1)
    # the leads confirm inside a collapsed subprocess: it is marked on the main diagram
    expect(page.locator('.djs-element.app-active[data-element-id="lead_confirmation"]')).to_have_count(1)
    assert not [text for text in console if "Content Security Policy" in text], console
    _no_serious_violations(page)


def test_the_deadline_extension_page_shows_its_errors_beside_the_fields_and_passes_axe(page, site):
    open_audit(page, site, "bu.officer")
    page.get_by_role("link", name="Extend a deadline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Extend a deadline")
    _no_serious_violations(page)
    page.get_by_role("button", name="Extend the deadline").click()  # nothing chosen: nothing changes
    expect(page.locator("#due_on-error")).to_contain_text("Enter the new deadline")
    expect(page.locator("#reason-error")).to_contain_text("Give a reason")
    _no_serious_violations(page)


def test_the_business_unit_adds_an_agency_and_the_page_passes_axe(page, site):
    _sign_in(page, site, "bu.officer")
    page.get_by_role("link", name="Agencies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The partnership's agencies")
    page.get_by_role("button", name="Add the agency").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the agency's name")
    _no_serious_violations(page)
    page.get_by_label("Name", exact=True).fill("Youth Justice Service")
    page.get_by_label("Code", exact=True).fill("yjs")
    page.get_by_role("button", name="Add the agency").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Added Youth Justice Service (yjs)")
    _no_serious_violations(page)


def test_the_process_owner_and_the_admin_reach_their_pages(browser, page, site):
    _sign_in(page, site, "process.owner")
    page.get_by_role("link", name="Processes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Processes")
    expect(page.get_by_role("link", name="multi_agency_audit.bpmn").first).to_be_visible()
    _no_serious_violations(page)
    with another_page(browser) as operator:
        _sign_in(operator, site, "admin")
        operator.get_by_role("link", name="Operations").click()
        expect(operator.get_by_role("heading", level=1)).to_have_text("Operations")
        expect(operator.get_by_role("link", name="Neglect in under-fives")).to_be_visible()
        _no_serious_violations(operator)
        operator.get_by_role("link", name="Incident (0)").click()
        expect(operator.locator("main")).to_contain_text("No audits here")
        operator.get_by_role("link", name="All").click()
        operator.get_by_role("link", name="Self-harm in teenagers").click()
        expect(operator.get_by_role("heading", level=1)).to_have_text("Self-harm in teenagers")
        expect(operator.locator("#diagram[data-ready=true]")).to_be_visible()
        operator.get_by_text("Suspend the audit").click()  # opened, not done: the shared site stays as it is
        _no_serious_violations(operator)
        operator.get_by_role("link", name="Operations").click()
        operator.get_by_role("link", name="System health").click()
        expect(operator.get_by_role("heading", level=1)).to_have_text("System health")
        _no_serious_violations(operator)


def test_a_lead_completes_a_task_by_keyboard_alone(page, site):
    _sign_in(page, site, "lead.school")
    page.wait_for_url(f"{site}/")
    tab_to(page, "Confirm the agency's audit lead", by="text")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the agency's audit lead")
    tab_to(page, "lead_name")
    page.keyboard.type("Robin Lead")
    page.keyboard.press("Tab")
    page.keyboard.type("robin@school.example")
    page.keyboard.press("Enter")  # submits with the form's first button: Complete the task
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Done: Confirm the agency's audit lead")


def test_the_qa_checklist_and_the_action_tracker_pages_pass_axe_and_the_tracker_completes(page, site):
    _sign_in(page, site, "bu.officer")
    page.get_by_role("link", name="Quality-assure the analysis report").click()
    expect(page.get_by_role("heading", name="The analysis report", exact=True)).to_be_visible()
    _no_serious_violations(page)
    page.goto(f"{site}/")
    page.get_by_role("link", name="Place the actions on the action tracker").click()
    expect(page.get_by_role("heading", name="Actions for the tracker")).to_be_visible()
    page.get_by_role("button", name="Complete the task").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Record at least one action")
    _no_serious_violations(page)
    first = page.get_by_role("group", name="Action 1")
    first.get_by_label("Action", exact=True).fill("Roll out the neglect toolkit")
    first.get_by_label("Review type").select_option("MACFA")
    first.get_by_label("Agency that owns it").fill("csc")
    first.get_by_label("Due date").fill("2027-09-30")
    page.get_by_role("button", name="Complete the task").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Done: Place the actions on the action tracker")
