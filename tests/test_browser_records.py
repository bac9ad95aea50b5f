"""Each role with work in the demo partnership (``bpmn-audit demo``, as ``make run`` serves it) signs in and
does their next task through the pages, in a real browser: the nominating partner enters a child in the
case register and completes the nomination; the late agency's lead audits each case, saves the return and
submits the report; a lead raises an immediate concern and the Business Unit answers one. Each page is
checked by axe-core, with its error summary showing where it has one."""

from __future__ import annotations

from playwright.sync_api import expect

from browsing import NEEDS_A_BROWSER, another_page
from browsing import no_serious_violations as _no_serious_violations
from browsing import sign_in as _sign_in

pytestmark = NEEDS_A_BROWSER
IN_PROGRESS = "Neglect in families with children under five"  # the demo's audit in its agency audit


def test_the_nominating_partner_enters_a_child_and_completes_the_nomination(page, demo_site):
    _sign_in(page, demo_site.url, "csc.nominator", demo_site.password)
    page.get_by_role("link", name="Nominate the cases").click()
    expect(page.get_by_role("heading", name="Case register")).to_be_visible()
    page.get_by_label("Child's full name").fill("Grace Hopper-Murray")
    page.get_by_label("Date of birth").fill("2019-02-30")
    page.get_by_role("button", name="Add the child to the case register").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the identifier in the nominating system")
    assert page.get_by_label("Child's full name").input_value() == "Grace Hopper-Murray"
    _no_serious_violations(page)
    page.get_by_label("Date of birth").fill("2019-02-27")
    page.get_by_label("Identifier in the nominating system").fill("CSC-77")
    page.get_by_role("button", name="Add the child to the case register").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Added to the case register as Child A")
    expect(page.get_by_role("list", name="Cases entered")).to_contain_text("Child A")
    assert "Grace Hopper-Murray" not in page.content()
    page.get_by_label("Number of cases nominated").fill("1")
    page.get_by_label("Police (police)").check()  # the partnership's agencies, as the Business Unit lists them
    page.get_by_label("Children's Social Care (csc)").check()
    page.get_by_label("System the identifiers come from").fill("CSC record")
    page.get_by_role("button", name="Complete the task").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Done: Nominate the cases")


def test_the_late_agency_s_lead_audits_each_case_and_submits_the_report(page, demo_site):
    _sign_in(page, demo_site.url, "lead.community_health", demo_site.password)
    page.get_by_role("link", name="Audit the cases and submit the agency report").click()
    expect(page.get_by_role("heading", name="The cases", exact=True)).to_be_visible()
    _no_serious_violations(page)
    children = [f"Child {letter}" for letter in "ABCD"]
    expect(page.get_by_role("link", name="Record the finding on")).to_have_count(len(children))
    page.get_by_role("link", name="Record the finding on Child A").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Finding on Child A")
    page.get_by_label("Yes").check()
    page.get_by_label("Good", exact=True).check()
    page.get_by_label("Summary of involvement").fill("Two health visits")
    page.get_by_role("button", name="Save the finding").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Saved the finding on Child A")
    expect(page.get_by_text("Child A: what worked well")).to_be_visible()  # part-done: the gaps show
    page.get_by_role("link", name="Record the finding on Child A").click()
    for label in ("What worked well", "Areas for development", "The voice of the child", "Recommendations"):
        page.get_by_label(label).fill(f"{label}: noted")
    page.get_by_role("button", name="Save the finding").click()
    for child in children[1:]:
        page.get_by_role("link", name=f"Record the finding on {child}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Finding on {child}")  # arrived: then axe
        _no_serious_violations(page)
        page.get_by_label("No involvement").check()
        page.get_by_role("button", name="Save the finding").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Saved the finding on {child}")
    page.get_by_label("Agency summary").fill("Community health knew one of the children")
    page.get_by_label("Practitioner to attend the practitioner event").select_option("practitioner.community_health")
    page.get_by_label("Senior manager who signed off the report").fill("Dr Patel")
    page.get_by_label("Their role", exact=True).fill("Designated nurse")
    page.get_by_role("button", name="Save the agency return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Saved the agency return")
    expect(page.get_by_text("you can submit the report")).to_be_visible()
    page.get_by_role("button", name="Complete the task").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Done: Audit the cases and submit the agency report")


def test_a_lead_raises_a_concern_and_the_business_unit_answers_one(browser, page, demo_site):
    _sign_in(page, demo_site.url, "lead.police", demo_site.password)
    page.get_by_role("link", name="Audits").click()
    page.get_by_role("link", name=IN_PROGRESS).click()
    page.get_by_role("link", name="Raise an immediate concern").click()
    page.get_by_role("button", name="Raise the concern now").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Describe the concern")
    _no_serious_violations(page)
    page.get_by_label("Which child is it about?").select_option(label="Child B")
    page.get_by_label("What is the concern?").fill("Missing from school for a week, no referral")
    page.get_by_role("button", name="Raise the concern now").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The concern about Child B is with the "
                                                                       "Business Unit now")
    expect(page.locator("#concerns + ul")).to_contain_text("Open")
    _no_serious_violations(page)

    with another_page(browser) as office:
        _sign_in(office, demo_site.url, "bu.officer", demo_site.password)
        office.get_by_role("link", name="Respond to the immediate concern").first.click()
        expect(office.get_by_role("heading", name="The concern")).to_be_visible()
        _no_serious_violations(office)
        office.get_by_label("Referral made").check()
        office.get_by_label("Referral reference").fill("MASH-2027-0113")
        office.get_by_label("What was done").fill("Referred to the MASH the same day")
        office.get_by_role("button", name="Complete the task").click()
        expect(office.locator(".govuk-notification-banner")).to_contain_text(
            "Done: Respond to the immediate concern")
