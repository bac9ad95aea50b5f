"""The purpose-built parts of task pages (``camunda:formKey="app:NAME"``): the case register entry, an
agency's audit of each case and its return, raising and handling an immediate concern, and reading a
child's details with a reason."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit.models import Case, CaseAccess, CaseFinding, HumanTask, ProcessInstance, TrackerAction, db
from bpmn_audit.services import api_tokens, cases, identity
from conftest import LAUNCH, PASSWORD
from conftest import csrf_token_in as _token

CHILD = "Ada Lovelace-Byron"


@pytest.fixture
def clock():
    with time_machine.travel(LAUNCH, tick=False) as traveller:
        yield traveller


def _version(audit) -> int:
    db.session.expire_all()
    return db.session.get(ProcessInstance, audit.instance_id).version


def test_the_nominating_partner_enters_each_child_then_completes_the_nomination(deployed, people, sign_in, clock):
    audit = AuditDriver(people)
    task = audit.open_tasks("nominate_cases")[0]
    browser = sign_in("nominator")
    html = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Case register" in html and "No child has been entered yet" in html

    wrong = browser.post(f"/tasks/{task.id}/cases", data={
        "case-csrf_token": _token(html), "case-name": CHILD, "case-date_of_birth": "2031-02-30",
        "case-system_id": ""})
    shown = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert "There is a problem" in shown and 'href="#case-system_id"' in shown
    assert "Enter the identifier in the nominating system" in shown
    assert f'value="{CHILD}"' in shown  # what was typed is kept for the person typing it
    assert db.session.scalar(select(Case.id).where(Case.instance_id == audit.instance_id)) is None

    added = browser.post(f"/tasks/{task.id}/cases", data={
        "case-csrf_token": _token(shown), "case-name": CHILD, "case-date_of_birth": "2019-03-27",
        "case-system_id": "CSC-1", "case-other_id_label": "NHS number", "case-other_id_value": "943 476 5919"})
    assert added.status_code == 302
    listed = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    pseudonym = cases.list_cases(audit.instance_id, people["bu"])[0].pseudonym
    assert f"Added to the case register as {pseudonym}" in listed and pseudonym in listed
    assert CHILD not in listed  # the page never shows a name back once it is in the register

    too_many = browser.post(f"/tasks/{task.id}", data={"csrf_token": _token(listed), "case_count": "2",
                                                       "agencies": "police, csc", "nominating_system": "CSC record",
                                                       "complete": "y"})
    assert too_many.status_code == 400
    assert "The case register holds 1 case(s), not 2" in too_many.get_data(as_text=True)
    done = browser.post(f"/tasks/{task.id}", data={"csrf_token": _token(listed), "case_count": "1",
                                                   "agencies": "police, csc", "nominating_system": "CSC record",
                                                       "complete": "y"})
    assert done.status_code == 302
    assert audit.open_tasks("collate_audit_pack")


def test_only_the_nomination_task_takes_cases(deployed, people, sign_in, clock):
    audit = AuditDriver(people)
    audit.complete("nominate_cases")
    task = next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "police")
    browser = sign_in("lead.police")
    page = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    answer = browser.post(f"/tasks/{task.id}/cases", data={"case-csrf_token": _token(page), "case-name": CHILD})
    assert answer.status_code == 404


@pytest.fixture
def at_agency_audit(deployed, people, clock):
    """An audit in its agency-audit phase, with four cases."""
    audit = AuditDriver(people)
    audit.through_notice(clock)
    return audit


def test_a_lead_audits_each_case_saves_the_return_and_submits(at_agency_audit, people, sign_in):
    audit = at_agency_audit
    task = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "police")
    browser = sign_in("lead.police")
    html = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    listed = cases.list_cases(audit.instance_id, people["bu"])
    assert all(case.pseudonym in html for case in listed) and "Not started" in html
    version = _version(audit)

    early = browser.post(f"/tasks/{task.id}", data={"csrf_token": _token(html), "complete": "y"})
    assert early.status_code == 400 and "The agency audit is not finished" in early.get_data(as_text=True)
    assert _version(audit) == version

    first, *others = listed
    form = browser.get(f"/tasks/{task.id}/cases/{first.id}").get_data(as_text=True)
    assert f"Finding on {first.pseudonym}" in form
    wrong = browser.post(f"/tasks/{task.id}/cases/{first.id}", data={
        "csrf_token": _token(form), "involved": "yes", "grading": "brilliant", "worked_well": "Quick strategy"})
    assert wrong.status_code == 400 and "Choose a grading" in wrong.get_data(as_text=True)
    assert 'Quick strategy' in wrong.get_data(as_text=True)
    saved = browser.post(f"/tasks/{task.id}/cases/{first.id}", data={
        "csrf_token": _token(form), "involved": "yes", "involvement_summary": "Two call-outs",
        "worked_well": "Quick strategy", "areas_for_development": "Recording", "voice_of_child": "Heard",
        "grading": "good", "recommendations": "Training"})
    assert saved.status_code == 302
    assert db.session.scalar(select(CaseFinding.grading).where(CaseFinding.case_id == first.id,
                                                               CaseFinding.agency == "police")) == "good"
    for case in others:
        assert browser.post(f"/tasks/{task.id}/cases/{case.id}", data={
            "csrf_token": _token(form), "involved": "no"}).status_code == 302

    page = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Graded" in page and "No involvement" in page
    wrong_return = browser.post(f"/tasks/{task.id}/return", data={
        "return-csrf_token": _token(page), "return-summary": "Mostly good", "return-practitioner": "practitioner.csc"})
    shown = wrong_return.get_data(as_text=True)
    assert wrong_return.status_code == 400 and "Choose a practitioner of police" in shown and "Mostly good" in shown
    assert browser.post(f"/tasks/{task.id}/return", data={
        "return-csrf_token": _token(page), "return-summary": "Mostly good",
        "return-practitioner": "practitioner.police", "return-senior_name": "Chief Inspector Gray",
        "return-senior_role": "Head of safeguarding"}).status_code == 302

    done = browser.post(f"/tasks/{task.id}", data={"csrf_token": _token(page), "complete": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).form_data["practitioner"] == "practitioner.police"


def test_another_agency_cannot_reach_the_report_or_its_findings(at_agency_audit, people, sign_in):
    audit = at_agency_audit
    task = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "police")
    case = cases.list_cases(audit.instance_id, people["bu"])[0]
    browser = sign_in("lead.csc")
    assert browser.get(f"/tasks/{task.id}").status_code == 404
    assert browser.get(f"/tasks/{task.id}/cases/{case.id}").status_code == 404
    own = next(t for t in audit.open_tasks("submit_agency_report") if t.agency == "csc")
    assert browser.get(f"/tasks/{own.id}/cases/999999").status_code == 404


def test_a_lead_raises_a_concern_and_the_business_unit_sees_it_to_handle(at_agency_audit, people, sign_in):
    audit = at_agency_audit
    case = cases.list_cases(audit.instance_id, people["bu"])[1]
    browser = sign_in("lead.police")
    page = browser.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert "No concern has been raised" in page and "Raise an immediate concern" in page
    form = browser.get(f"/audits/{audit.instance_id}/concerns/new").get_data(as_text=True)
    blank = browser.post(f"/audits/{audit.instance_id}/concerns/new", data={
        "csrf_token": _token(form), "case_id": str(case.id), "summary": "  "})
    assert blank.status_code == 400 and "Describe the concern" in blank.get_data(as_text=True)
    raised = browser.post(f"/audits/{audit.instance_id}/concerns/new", data={
        "csrf_token": _token(form), "case_id": str(case.id), "summary": "Bruising noted, no referral made"})
    assert raised.status_code == 302
    shown = browser.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert f"The concern about {case.pseudonym} is with the Business Unit now" in shown
    assert "Open" in shown and case.pseudonym in shown

    office = sign_in("bu.officer")
    inbox = office.get("/").get_data(as_text=True)
    response = re.search(r'href="/tasks/(\d+)">Respond to the immediate concern', inbox)
    assert response, inbox
    handling = office.get(f"/tasks/{response.group(1)}").get_data(as_text=True)
    assert "Bruising noted, no referral made" in handling and case.pseudonym in handling
    assert "lead.police (police)" in handling


def test_a_concern_about_a_case_of_another_audit_is_refused(at_agency_audit, people, sign_in):
    audit = at_agency_audit
    browser = sign_in("lead.police")
    form = browser.get(f"/audits/{audit.instance_id}/concerns/new").get_data(as_text=True)
    answer = browser.post(f"/audits/{audit.instance_id}/concerns/new", data={
        "csrf_token": _token(form), "case_id": "424242", "summary": "Worried"})
    assert answer.status_code == 400 and "Choose one of the audit" in answer.get_data(as_text=True)


def test_a_child_s_details_are_shown_with_a_reason_and_each_read_is_logged(at_agency_audit, people, sign_in):
    audit = at_agency_audit
    case = cases.list_cases(audit.instance_id, people["bu"])[0]
    office = sign_in("bu.officer")
    page = office.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}"' in page
    form = office.get(f"/cases/{case.id}").get_data(as_text=True)
    details = cases.read_case(case.id, people["bu"], "the test's own look")
    assert details.name not in form
    no_reason = office.post(f"/cases/{case.id}", data={"csrf_token": _token(form), "purpose": ""})
    assert no_reason.status_code == 400 and details.name not in no_reason.get_data(as_text=True)
    shown = office.post(f"/cases/{case.id}", data={"csrf_token": _token(form), "purpose": "Checking a concern"})
    assert shown.status_code == 200 and details.name in shown.get_data(as_text=True)
    assert "NHS number" in shown.get_data(as_text=True) and "Mother; one older sibling" in shown.get_data(as_text=True)
    logged = db.session.scalars(select(CaseAccess.purpose).where(CaseAccess.case_id == case.id,
                                                                 CaseAccess.actor == "bu.officer")).all()
    assert "Checking a concern" in logged

    practitioner = sign_in("practitioner.police")  # sees pseudonyms, never details
    assert f'href="/cases/{case.id}"' not in practitioner.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert practitioner.get(f"/cases/{case.id}").status_code == 404


def test_a_form_holding_a_nul_character_is_refused_and_nothing_is_stored(deployed, people, sign_in, clock):
    audit = AuditDriver(people)
    task = audit.open_tasks("nominate_cases")[0]
    browser = sign_in("nominator")
    html = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    answer = browser.post(f"/tasks/{task.id}/cases", data={
        "case-csrf_token": _token(html), "case-name": "Ada\x00", "case-date_of_birth": "2019-03-27",
        "case-system_id": "CSC-1"})
    assert answer.status_code == 400 and "NUL" in answer.get_data(as_text=True)
    assert db.session.scalar(select(Case.id).where(Case.instance_id == audit.instance_id)) is None


def test_the_action_tracker_rows_are_checked_kept_in_a_draft_and_placed_on_the_tracker(deployed, people, sign_in,
                                                                                      clock):
    audit = AuditDriver(people)
    audit.through_sign_off(clock)
    task = audit.open_tasks("record_actions")[0]
    office = sign_in("bu.officer")
    html = office.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Action 5" in html and 'name="actions"' not in html  # rows in place of the one-line text
    version = _version(audit)
    wrong = office.post(f"/tasks/{task.id}", data={
        "csrf_token": _token(html), "complete": "y",
        "rows-0-action": "Roll out the neglect toolkit", "rows-0-owner_agency": "csc", "rows-0-due_date": "2027-09-30",
        "rows-1-action": "Audit chronologies", "rows-1-review_type": "LCSPR", "rows-1-owner_agency": "icb",
        "rows-1-due_date": "2027-02-30"})
    shown = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and _version(audit) == version
    assert "Action 1: enter the review type" in shown and "Action 2: the due date must be a real date" in shown
    assert 'value="Roll out the neglect toolkit"' in shown
    drafted = office.post(f"/tasks/{task.id}", data={
        "csrf_token": _token(shown), "save_draft": "y", "rows-0-action": "Roll out the neglect toolkit",
        "rows-0-review_type": "MACFA", "rows-0-owner_agency": "csc", "rows-0-due_date": "2027-09-30"})
    assert drafted.status_code == 302
    again = office.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'value="Roll out the neglect toolkit"' in again and "Action 4" in again
    done = office.post(f"/tasks/{task.id}", data={
        "csrf_token": _token(again), "complete": "y", "rows-0-action": "Roll out the neglect toolkit",
        "rows-0-review_type": "MACFA", "rows-0-owner_agency": "csc", "rows-0-due_date": "2027-09-30",
        "rows-2-action": "Audit chronologies", "rows-2-review_type": "LCSPR", "rows-2-owner_agency": "icb",
        "rows-2-owner_person": "Head of ICB safeguarding", "rows-2-due_date": "2027-10-31"})
    assert done.status_code == 302, done.get_data(as_text=True)[-3000:]
    placed = db.session.scalars(select(TrackerAction).where(TrackerAction.instance_id == audit.instance_id)
                                .order_by(TrackerAction.id)).all()
    assert [(a.action, a.review_type, a.owner_agency, a.owner_person) for a in placed] == [
        ("Roll out the neglect toolkit", "MACFA", "csc", None),
        ("Audit chronologies", "LCSPR", "icb", "Head of ICB safeguarding")]


def test_another_agency_s_report_is_read_only_once_the_business_unit_has_shared_them(deployed, people, sign_in,
                                                                                      clock):
    audit = AuditDriver(people)
    audit.through_notice(clock)
    audit.complete("submit_agency_report")
    url = f"/audits/{audit.instance_id}/reports/csc"
    lead, practitioner = sign_in("lead.police"), sign_in("practitioner.police")
    assert lead.get(url).status_code == practitioner.get(url).status_code == 404
    assert "The csc report" not in lead.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert sign_in("lead.csc").get(url).status_code == 200  # their own
    token = {"Authorization": f"Bearer {api_tokens.issue_token(people['lead.police'], 't')}"}
    assert lead.get(f"/api/v1{url}", headers=token).status_code == 404

    audit.complete("share_reports")
    page = lead.get(url)
    assert page.status_code == 200 and "Grading" in page.get_data(as_text=True)
    assert "What worked well" in page.get_data(as_text=True)  # each finding's texts, row by row
    assert "The csc report" in lead.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
    assert practitioner.get(url).status_code == 200
    shown = lead.get(f"/api/v1{url}", headers=token).json
    assert shown["agency"] == "csc" and len(shown["findings"]) == 4 and shown["missing"] == []
    identity.create_user("lead.health", "Health lead", ["agency_lead"], agency="health", password=PASSWORD)
    assert sign_in("lead.health").get(url).status_code == 404  # health takes no part


def test_the_event_analysis_and_checks_each_show_the_record_they_work_from(deployed, people, sign_in, clock):
    audit = AuditDriver(people)
    audit.through_reading(clock)
    audit.pass_moment(clock, audit.data()["event_at"])
    office, chair = sign_in("bu.officer"), sign_in("chair")
    part_1 = audit.open_tasks("record_event_part_1")[0]
    html = chair.get(f"/tasks/{part_1.id}").get_data(as_text=True)
    assert "Practitioners nominated" in html and "police: practitioner.police" in html
    audit.complete("record_event_part_1")
    part_2 = audit.open_tasks("record_event_part_2")[0]
    html = chair.get(f"/tasks/{part_2.id}").get_data(as_text=True)
    assert "Part 1" in html and "REC-1" in html  # the recording reference given in part 1
    audit.complete("record_event_part_2")

    writing = audit.open_tasks("write_analysis_report")[0]
    html = chair.get(f"/tasks/{writing.id}").get_data(as_text=True)
    assert "The agencies' gradings" in html and "Good" in html and "From the practitioner event" in html
    audit.complete("write_analysis_report")
    checking = audit.open_tasks("qa_analysis_report")[0]
    html = office.get(f"/tasks/{checking.id}").get_data(as_text=True)
    assert "The analysis report" in html and "R1" in html and "Written by chair" in html
    audit.complete("qa_analysis_report", {
        "qa_findings_evidenced": "true", "qa_factual_accuracy": "true", "qa_no_identifying_detail": "true",
        "qa_recommendations_owned": "false", "qa_concerns_closed": "true", "qa_decision": "return",
        "qa_comments": "Give R1 an owner"})
    revising = audit.open_tasks("revise_analysis_report")[0]
    html = chair.get(f"/tasks/{revising.id}").get_data(as_text=True)
    assert "Give R1 an owner" in html and "The analysis report" in html
