"""The audit page's diagram (issue 9): each element marked completed, active, waiting on a timer or failed (an
open incident's), and the work done once per agency counted ("2 of 3"), in ``diagram.json`` and drawn by the
bpmn-js viewer as markers and overlays."""

from __future__ import annotations

import re

import time_machine
from playwright.sync_api import expect

from audit_driver import ANSWERS, AuditDriver
from bpmn_audit.models import Incident, db
from bpmn_audit.models.base import utcnow
from bpmn_audit.services import diagrams, tasks
from browsing import NEEDS_A_BROWSER, no_serious_violations, open_audit
from conftest import LAUNCH


def test_the_agency_audit_phase_shows_each_agencys_progress_and_the_timers_waiting(app, people, deployed, sign_in):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        [police] = [task for task in audit.open_tasks("submit_agency_report") if task.agency == "police"]
        audit.audit_cases("police")
        tasks.complete_task(police.id, people["lead.police"], ANSWERS["submit_agency_report"])

        drawn = sign_in("bu.officer").get(f"/audits/{audit.instance_id}/diagram.json").json
        assert drawn["xml"].startswith("<?xml") and 'id="submit_agency_report"' in drawn["xml"]
        states, counts = drawn["states"], drawn["counts"]
        assert states["set_up_audit"] == "completed"
        assert states["submit_agency_report"] == "active"  # done by the police, still to do by csc and icb
        assert counts["submit_agency_report"] == {"done": 1, "of": 3}
        assert states["agency_audit"] == "active" and counts["agency_audit"] == {"done": 1, "of": 3}
        # the reminders of csc's and icb's reports, and the deadline of the audit phase, wait on their timers
        assert states["b_remind_agency"] == "waiting" and states["agency_audit_deadline"] == "waiting"
        assert states["b_all_reports_in"] == "active"  # waits on the reports, not on a date
        # the leads' work is done: every agency's
        assert states["lead_confirmation"] == "completed" and counts["lead_confirmation"] == {"done": 3, "of": 3}
        assert counts["confirm_audit_lead"] == counts["brief_audit_leads"] == {"done": 3, "of": 3}
        # only work done once per agency is counted: not events (the reminders), gateways, or partnership work
        assert not {"b_remind_agency", "late_gateway", "agency_report_submitted", "set_up_audit",
                    "wait_for_reports", "collate_audit_pack"} & set(counts)
        assert set(states.values()) <= {"completed", "active", "waiting", "failed"}

        # the deadline passes: csc's and icb's reports are overdue, to be chased (of the agencies that got there)
        audit.pass_deadline(clock, "audit_due")
        drawn = diagrams.diagram(people["bu"], audit.instance_id)
        assert drawn.states["chase_agency_report"] == "active"
        assert drawn.counts["chase_agency_report"] == {"done": 0, "of": 2}
        assert drawn.states["agency_audit_deadline"] == "completed"
        assert drawn.counts["submit_agency_report"] == {"done": 1, "of": 3}

        # the last two reports: every agency done
        audit.complete("chase_agency_report")
        audit.complete("submit_agency_report")
        drawn = diagrams.diagram(people["bu"], audit.instance_id)
        assert drawn.states["submit_agency_report"] == "completed"
        assert drawn.counts["submit_agency_report"] == drawn.counts["agency_audit"] == {"done": 3, "of": 3}
        assert drawn.counts["chase_agency_report"] == {"done": 2, "of": 2}


def test_an_open_incidents_element_is_failed_until_it_is_resolved(app, people, deployed, sign_in):
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        other = AuditDriver(people, {"title": "Another audit"})
    before = diagrams.diagram(people["bu"], audit.instance_id).states
    assert before["b_remind_nominator"] == "waiting" and before["nominate_cases"] == "active"
    assert before["set_up_audit"] == "completed"

    incident = Incident(instance_id=audit.instance_id, kind="timer", bpmn_id="b_remind_nominator",
                        element_name="Nomination reminder", message="the reminder could not be sent", attempts=5)
    unnamed = Incident(instance_id=audit.instance_id, kind="timer", bpmn_id=None, message="no element", attempts=5)
    db.session.add_all([incident, unnamed,
                        Incident(instance_id=audit.instance_id, kind="timer", bpmn_id="set_up_audit",
                                 message="long since retried", attempts=5, resolved_at=utcnow(), resolved_by="admin")])
    db.session.commit()

    states = sign_in("bu.officer").get(f"/audits/{audit.instance_id}/diagram.json").json["states"]
    assert states["b_remind_nominator"] == "failed"  # failed before waiting
    assert states["set_up_audit"] == "completed"  # its incident is resolved
    assert [bpmn_id for bpmn_id, state in states.items() if state == "failed"] == ["b_remind_nominator"]
    assert diagrams.diagram(people["bu"], other.instance_id).states["b_remind_nominator"] == "waiting"

    incident.resolved_at, incident.resolved_by = utcnow(), "admin"
    db.session.commit()
    assert diagrams.diagram(people["bu"], audit.instance_id).states["b_remind_nominator"] == "waiting"


def needs_a_browser(test):
    """The browser tests' skips (no Chromium, no axe-core), for one test of the module."""
    for mark in NEEDS_A_BROWSER:
        test = mark(test)
    return test


@needs_a_browser
def test_the_audit_page_badges_the_per_agency_work_with_its_count_and_passes_axe(page, site):
    console = open_audit(page, site, "bu.officer")
    expect(page.locator("#diagram[data-ready=true]")).to_be_visible()
    # the key says what the markers mean
    key = page.locator("#diagram-heading + p")
    for words in ("done", "under way now", "waiting for a date", "failed"):
        expect(key).to_contain_text(words)
    expect(page.locator(".app-key-waiting")).to_have_count(1)
    expect(page.locator(".app-key-failed")).to_have_count(1)

    # four agencies confirm their leads inside the collapsed subprocess: its badge counts them, in words too
    badge = page.locator('.djs-overlay-app-count .app-count[data-element-id="lead_confirmation"]')
    expect(badge).to_be_visible()
    expect(badge.locator("[aria-hidden=true]")).to_have_text(re.compile(r"^[0-4] of 4$"))
    expect(badge.locator(".govuk-visually-hidden")).to_have_text(
        re.compile(r"^Confirm the audit lead \(each agency\): [0-4] of 4 agencies done$"))
    expect(page.locator('.djs-element.app-active[data-element-id="lead_confirmation"]')).to_have_count(1)
    # the end of the notice period waits on its timer
    expect(page.locator('.djs-element.app-waiting[data-element-id="notice_period_ends"]')).to_have_count(1)
    # the per-agency task inside is badged too, shown when one drills down into the subprocess
    inside = page.locator('.app-count[data-element-id="confirm_audit_lead"]')
    expect(inside).to_have_count(1)
    expect(inside).to_be_hidden()
    page.locator('.djs-overlay-drilldown button[title*="Confirm the audit lead"]').click()
    expect(inside).to_be_visible()
    expect(badge).to_be_hidden()
    expect(page.locator('.djs-element.app-active[data-element-id="confirm_audit_lead"]')).to_have_count(1)
    expect(page.locator('.djs-element.app-waiting[data-element-id="b_remind_lead"]')).to_have_count(1)
    assert not [text for text in console if "Content Security Policy" in text], console
    no_serious_violations(page)
