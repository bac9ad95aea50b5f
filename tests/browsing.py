"""Test helper: one running app and one Chromium per test session (per xdist worker), for the browser tests.

``site`` runs on 127.0.0.1 on its own SQLite database with a partnership (its agencies listed) and three
audits: "Neglect in under-fives" at the leads' confirmations (police, csc, icb, school), "Self-harm in
teenagers" at QA's checklist and "Exploitation outside the home" at the action tracker; ``demo_site`` serves
the demo partnership (``bpmn-audit demo``) in the same way. axe-core is
injected through the browser's own tooling, so each page's CSP stays on.
``conftest`` imports the fixtures, so every test module may ask for them.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import time_machine

from conftest import LAUNCH, PROCESSES, ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple"
NEEDS_A_BROWSER = [
    pytest.mark.skipif(not CHROMIUM, reason="no Chromium here: apt-get install chromium (CI does)"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: run `make install` (needs npm)"),
]
AGENCIES = ("police", "csc", "icb", "health", "school")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The running app's address."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from audit_driver import AuditDriver
    from bpmn_audit import MIGRATIONS_DIR, create_app
    from bpmn_audit.models import db
    from bpmn_audit.services import agencies, deployments, identity

    folder = tmp_path_factory.mktemp("site")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'site.sqlite3'}",
                      "SECRET_KEY": "browser-tests", "PROCESSES_DIR": str(PROCESSES)})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        deployments.deploy_directory(PROCESSES, deployed_by="tests")
        people = {
            "bu": identity.create_user("bu.officer", "Business Unit officer", ["business_unit"], password=PASSWORD),
            "chair": identity.create_user("chair", "Chair", ["chair"], password=PASSWORD),
            "qiip": identity.create_user("qiip", "QiiP member", ["qiip"], password=PASSWORD),
            "nominator": identity.create_user("nominator", "Nominator", ["nominating_partner"], agency="csc",
                                              password=PASSWORD),
            "owner": identity.create_user("process.owner", "Process owner", ["process_owner"], password=PASSWORD),
            "admin": identity.create_user("admin", "Admin", ["admin"], password=PASSWORD)}
        for agency in AGENCIES:
            agencies.add_agency(people["bu"], {"code": agency, "name": f"The {agency} agency"})
            people[f"lead.{agency}"] = identity.create_user(f"lead.{agency}", f"{agency} lead", ["agency_lead"],
                                                            agency=agency, password=PASSWORD)
            people[f"practitioner.{agency}"] = identity.create_user(
                f"practitioner.{agency}", f"{agency} practitioner", ["practitioner"], agency=agency)
        for title, stage in (("Self-harm in teenagers", "through_analysis"),
                             ("Exploitation outside the home", "through_sign_off")):
            with time_machine.travel(LAUNCH, tick=False) as clock:  # first: their clocks pass others' deadlines
                getattr(AuditDriver(people, {"title": title}), stage)(clock)
        with time_machine.travel(LAUNCH, tick=False):
            confirming = AuditDriver(people, {"launch_date": "2027-03-01",  # its notice is weeks away
                                              "agencies": "police, csc, icb, school"})
            confirming.complete("nominate_cases")
            confirming.complete("collate_audit_pack")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@dataclass(frozen=True)
class DemoSite:
    """The demo partnership served: its address and its one password."""

    url: str
    password: str


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """``bpmn-audit demo``'s partnership, served as ``make run`` serves it: the roles with work in it are
    the Business Unit (a concern to answer, reports to share), the late agency's lead (its report) and the
    nominating partner (the new audit's cases)."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from bpmn_audit import MIGRATIONS_DIR, create_app
    from bpmn_audit.models import db
    from bpmn_audit.services import demo

    folder = tmp_path_factory.mktemp("demo")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}",
                      "SECRET_KEY": "browser-tests", "PROCESSES_DIR": str(PROCESSES)})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        password = demo.seed(PROCESSES).password
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield DemoSite(f"http://127.0.0.1:{server.server_port}", password)
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


@contextmanager
def another_page(browser, javascript: bool = True) -> Iterator:
    """A page in a fresh browser context (no cookies; JavaScript as asked) with axe-core loaded."""
    context = browser.new_context(java_script_enabled=javascript)
    context.add_init_script(path=str(AXE))  # through the browser's tooling, so the page's CSP stays on
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser):
    """A page of its own for the test (see ``another_page``)."""
    with another_page(browser) as fresh:
        yield fresh


def no_serious_violations(page) -> None:
    """axe-core finds no serious or critical accessibility problem on the page as it is now."""
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => v.id + ': ' + v.help + ' at '
                  + v.nodes.map(n => n.target.join(' ') + ' (' + n.failureSummary + ')').join('; '))""")
    assert found == [], f"{page.url}: {found}"


def sign_in(page, site: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page."""
    page.goto(f"{site}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def open_audit(page, site: str, username: str, title: str = "Neglect in under-fives") -> list[str]:
    """Sign in and open the audit ``title`` from the Audits page; the browser console's messages from then on."""
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    sign_in(page, site, username)
    page.get_by_role("link", name="Audits").click()
    page.get_by_role("link", name=title).click()
    return console


def tab_to(page, wanted: str, by: str = "id", presses: int = 60) -> None:
    """Press Tab until the focused element's ``id`` (or, with ``by="text"``, its text) is ``wanted``."""
    read = "document.activeElement.id" if by == "id" else "document.activeElement.textContent.trim()"
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(read) == wanted:
            return
    raise AssertionError(f"{presses} presses of Tab never reached {wanted!r}")
