"""The modeller in a real browser: a process owner changes a timer's duration and a form field's label in the
Camunda 7 properties panel and deploys; the next audit uses both, an audit already running does not change;
saving with no edits keeps every element and extension attribute; a broken model comes back as markers."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from browsing import NEEDS_A_BROWSER, PASSWORD, PROCESSES, no_serious_violations, sign_in

pytestmark = NEEDS_A_BROWSER
DEMO = Path(__file__).parent / "data" / "modeller_demo.bpmn"
DOCS_IMAGES = Path(__file__).parent.parent / "docs" / "images"


@pytest.fixture(scope="module")
def modeller_site(tmp_path_factory):
    """A served app of its own (deploys here change nothing for the other browser tests): the small process
    deployed, a process owner and a Business Unit officer; yields (address, app)."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from bpmn_audit import MIGRATIONS_DIR, create_app
    from bpmn_audit.models import db
    from bpmn_audit.services import deployments, identity

    folder = tmp_path_factory.mktemp("modeller")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'modeller.sqlite3'}",
                      "SECRET_KEY": "browser-tests"})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        deployments.deploy([(DEMO.name, DEMO.read_bytes())], deployed_by="tests", note="The first version")
        deployments.deploy_directory(PROCESSES, deployed_by="tests")
        identity.create_user("process.owner", "Process owner", ["process_owner"], password=PASSWORD)
        identity.create_user("bu.officer", "Business Unit officer", ["business_unit"], password=PASSWORD)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def _in(app, work):
    with app.app_context():
        try:
            return work()
        finally:
            from bpmn_audit.models import db

            db.session.remove()


def _start(app) -> tuple[int, int, datetime]:
    """Start an audit of the small process now: its id, version and timer's due time."""
    from bpmn_audit.models import TimerJob, db
    from bpmn_audit.services import identity, runtime

    def start():
        instance = runtime.start_audit(identity.get_user("bu.officer"), "modeller_demo")
        due = db.session.scalar(select(TimerJob.due_at).where(TimerJob.instance_id == instance.id))
        return instance.id, instance.deployment.version, due
    return _in(app, start)


def _open_modeller(page, site: str) -> None:
    sign_in(page, site, "process.owner")
    page.goto(f"{site}/processes/modeller_demo/modeller")
    expect(page.locator("#modeller[data-ready=true]")).to_be_visible()


def _screenshot(page, name: str, tmp_path: Path) -> None:
    """A picture of the page for the process owner's guide: into docs/images with
    BPMN_AUDIT_SCREENSHOTS=docs (``make screenshots``), else a throwaway folder."""
    folder = DOCS_IMAGES if os.environ.get("BPMN_AUDIT_SCREENSHOTS") == "docs" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)
    assert (folder / name).stat().st_size > 10_000


def _group(page, title: str) -> None:
    page.locator("#modeller-properties .bio-properties-panel-group-header", has_text=title).click()


def test_a_process_owner_changes_a_timer_and_a_label_and_deploys_and_only_new_audits_use_them(page, modeller_site,
                                                                                             tmp_path):
    site, app = modeller_site
    running_id, running_version, running_due = _start(app)
    _open_modeller(page, site)
    no_serious_violations(page)

    page.locator('.djs-element[data-element-id="wait"]').click()
    _group(page, "Timer")
    timer = page.locator("#bio-properties-panel-timerEventDefinitionValue")
    expect(timer).to_have_value("P5D")
    timer.fill("P10D")
    timer.press("Tab")
    page.locator('.djs-element[data-element-id="record"]').click()
    _group(page, "Form fields")
    page.locator("#modeller-properties .bio-properties-panel-collapsible-entry-header", has_text="notes").click()
    label = page.locator("#bio-properties-panel-record-formField-0-formFieldLabel")
    expect(label).to_have_value("Notes")
    label.fill("What happened")
    label.press("Tab")
    page.get_by_label("What changed, and why").fill("Wait ten days; a clearer label")
    page.get_by_role("button", name="Deploy as a new version").click()
    expect(page.locator("#modeller-status")).to_contain_text("A small process to change in the modeller version 2")

    started_id, started_version, started_due = _start(app)
    assert started_version == 2 and running_version == 1
    assert abs(started_due - running_due - timedelta(days=5)) < timedelta(minutes=5)  # ten days' wait, not five

    def check():
        from bpmn_audit.models import Deployment, ProcessInstance, TimerJob, db

        running = db.session.get(ProcessInstance, running_id)
        started = db.session.get(ProcessInstance, started_id)
        assert running.deployment.version == 1  # an audit already running does not change
        assert db.session.scalar(select(TimerJob.due_at).where(TimerJob.instance_id == running_id)) == running_due
        [field] = started.deployment.forms["record"]["fields"]
        assert field["label"] == "What happened"
        assert db.session.scalar(select(Deployment.note).where(Deployment.version == 2)) == \
            "Wait ten days; a clearer label"
        [old_field] = running.deployment.forms["record"]["fields"]
        assert old_field["label"] == "Notes"
    _in(app, check)

    page.goto(f"{site}/processes/modeller_demo/versions")
    changes = page.locator("#version-2 + p + .govuk-inset-text + table")
    expect(changes).to_contain_text("timer: 'P5D' → 'P10D'")
    expect(changes).to_contain_text("form field 'notes': label 'Notes' → 'What happened'")
    expect(page.locator(".govuk-inset-text").first).to_have_text("Wait ten days; a clearer label")
    no_serious_violations(page)
    _screenshot(page, "versions.png", tmp_path)


def _tree(xml: bytes) -> dict[str, tuple]:
    """Each identified element: its tag, its attributes, and everything inside it that has no id of its own
    (extension elements, expressions, scripts) as (tag, attributes, text)."""
    from lxml import etree

    root = etree.fromstring(xml)
    found = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        inside = []
        for child in element.iterdescendants():
            if isinstance(child.tag, str) and not child.get("id"):
                parent = child.getparent()
                while parent is not element and not parent.get("id"):
                    parent = parent.getparent()
                if parent is element:
                    inside.append((child.tag, dict(child.attrib), (child.text or "").strip()))
        found[element.get("id")] = (element.tag, dict(element.attrib), sorted(inside, key=repr))
    return found


def test_saving_with_no_edits_keeps_every_element_and_extension_attribute(page, modeller_site):
    site, app = modeller_site
    sign_in(page, site, "process.owner")
    page.goto(f"{site}/processes/multi_agency_audit/modeller")
    expect(page.locator("#modeller[data-ready=true]")).to_be_visible()
    page.get_by_role("button", name="Save a draft").click()
    expect(page.locator("#modeller-status")).to_contain_text("The draft is saved")

    def saved():
        from bpmn_audit.models import ProcessDraft, db

        return {draft.file_name: draft.content for draft in db.session.scalars(select(ProcessDraft))}
    drafts = _in(app, saved)
    original = (PROCESSES / "multi_agency_audit.bpmn").read_bytes()
    before, after = _tree(original), _tree(drafts["multi_agency_audit.bpmn"])
    before.pop("multi_agency_audit_definitions", None)  # the root: bpmn-js writes its exporter's name
    after.pop("multi_agency_audit_definitions", None)
    assert sorted(before) == sorted(after)
    changed = [key for key in before if before[key] != after[key]]
    assert changed == [], [(key, before[key], after[key]) for key in changed[:3]]
    table_before = _tree((PROCESSES / "audit_durations.dmn").read_bytes())
    table_after = _tree(drafts["audit_durations.dmn"])
    # the decision table too, through dmn-js, which leaves out a hit policy that is the default (UNIQUE)
    assert table_after["audit_durations_table"][1].get("hitPolicy", "UNIQUE") == "UNIQUE"
    table_after["audit_durations_table"][1].setdefault("hitPolicy", "UNIQUE")
    assert table_before == table_after
    page.reload()
    expect(page.locator("#modeller-status")).to_contain_text("Opened the draft saved by process.owner")


def test_a_broken_model_is_marked_at_its_element_and_not_deployed(page, modeller_site, tmp_path):
    site, app = modeller_site
    _open_modeller(page, site)
    page.locator('.djs-element[data-element-id="wait"]').click()
    _group(page, "Timer")
    timer = page.locator("#bio-properties-panel-timerEventDefinitionValue")
    timer.fill("ten days")
    timer.press("Tab")
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#modeller-status")).to_contain_text("It cannot be deployed: 1 error(s)")
    expect(page.locator('.djs-element.app-marker-error[data-element-id="wait"]')).to_have_count(1)
    problem = page.locator('#modeller-problems li[data-element-id="wait"]')
    expect(problem).to_contain_text("Error at Wait a while (wait)")
    no_serious_violations(page)
    _screenshot(page, "modeller-problems.png", tmp_path)

    def versions():
        from bpmn_audit.models import Deployment, db

        return db.session.scalar(select(func.max(Deployment.version)).where(Deployment.process_key == "modeller_demo"))
    before = _in(app, versions)
    page.get_by_role("button", name="Deploy as a new version").click()
    expect(page.locator("#modeller-status")).to_contain_text("Not deployed: the model cannot be deployed")
    expect(page.locator('.djs-element.app-marker-error[data-element-id="wait"]')).to_have_count(1)
    assert _in(app, versions) == before


def test_the_durations_table_is_edited_in_the_page_and_deployed_with_the_process(page, modeller_site):
    site, app = modeller_site
    sign_in(page, site, "process.owner")
    page.goto(f"{site}/processes/multi_agency_audit/modeller")
    expect(page.locator("#modeller[data-ready=true]")).to_be_visible()
    table = page.locator("#modeller-dmn")
    expect(table).to_contain_text("Agency audit (weeks)")
    cell = table.locator('td[data-element-id="rule_standard_audit"] [contenteditable]')
    expect(cell).to_have_text("5")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("6")
    page.locator("#modeller-note").click()  # leave the cell
    no_serious_violations(page)
    page.get_by_label("What changed, and why").fill("Standard audits get six weeks")
    page.get_by_role("button", name="Deploy as a new version").click()
    expect(page.locator("#modeller-status")).to_contain_text("Deployed")

    def deployed_table():
        from bpmn_audit.models import Deployment, db

        latest = db.session.scalar(select(Deployment).where(Deployment.process_key == "multi_agency_audit")
                                   .order_by(Deployment.version.desc()).limit(1))
        [dmn] = [file.content for file in latest.files if file.file_name == "audit_durations.dmn"]
        return latest.version, latest.note, dmn
    version, note, dmn = _in(app, deployed_table)
    assert version == 2 and note == "Standard audits get six weeks"
    from lxml import etree

    entries = etree.fromstring(dmn).xpath("//*[local-name()='outputEntry'][@id='rule_standard_audit']/*/text()")
    assert entries == ["6"]
