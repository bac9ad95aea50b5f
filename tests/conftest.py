"""Fixtures: an app on a fresh, migrated database per test (SQLite, or PostgreSQL when asked for),
people in every role, and the shipped process deployed."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import settings

from bpmn_audit import MIGRATIONS_DIR, create_app
from bpmn_audit.engine.calendar import LONDON
from bpmn_audit.models import db
from bpmn_audit.services import deployments, identity

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
DATA = Path(__file__).parent / "data"
POSTGRES_URL = os.environ.get("BPMN_AUDIT_TEST_POSTGRES_URL")
# Property-based tests: a few dozen examples each in CI (the default); HYPOTHESIS_PROFILE=thorough for more.
settings.register_profile("ci", max_examples=30, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# A Monday with no bank holiday near it; London is on GMT then.
LAUNCH = datetime(2027, 1, 4, 9, 0, tzinfo=LONDON)


def _postgres_schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Which database the test runs on; tests that must hold on both parametrize it with ``both_backends``."""
    return request.param


@pytest.fixture
def database_url(backend, tmp_path):
    """A fresh, empty database: a SQLite file, or a throwaway schema in the PostgreSQL test database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need BPMN_AUDIT_TEST_POSTGRES_URL (CI sets it)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield _postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    """The app on its own migrated database, inside an app context."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
                      "PROCESSES_DIR": str(PROCESSES)})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        yield app
        db.session.remove()
        db.engine.dispose()


class _FreshRequestClient(FlaskClient):
    """The fixtures hold one app context for a whole test, and a request inside it shares its ``g``; in the
    running app each request has its own. So each request here starts with none of what an earlier one cached
    in ``g`` (the signed-in user, the CSRF token, the CSP nonce)."""

    def open(self, *args, **kwargs):
        for key in list(vars(g)):
            g.pop(key)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = _FreshRequestClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def people(app):
    """One user per role; agency staff for police, csc and icb."""
    made = {
        "bu": identity.create_user("bu.officer", "Business Unit officer", ["business_unit"]),
        "chair": identity.create_user("chair", "Chair", ["chair"]),
        "qiip": identity.create_user("qiip", "QiiP member", ["qiip"]),
        "nominator": identity.create_user("nominator", "CSC nominator", ["nominating_partner"], agency="csc"),
    }
    for agency in ("police", "csc", "icb"):
        made[f"lead.{agency}"] = identity.create_user(f"lead.{agency}", f"{agency} lead", ["agency_lead"],
                                                      agency=agency)
        made[f"practitioner.{agency}"] = identity.create_user(f"practitioner.{agency}", f"{agency} practitioner",
                                                              ["practitioner"], agency=agency)
    return made


PASSWORD = "correct horse battery staple"


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form on a page (prefixed forms' too)."""
    return re.search(r'name="[a-z-]*csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def sign_in(app, client, people):
    """``sign_in(username)``: a new test client signed in through the sign-in page as that person; everyone in
    ``people`` has PASSWORD (so has anyone made later with it)."""
    from werkzeug.security import generate_password_hash

    for person in people.values():
        person.password_hash = generate_password_hash(PASSWORD)
    db.session.commit()

    def signed_in(username: str):
        visitor = app.test_client()
        form = visitor.get("/sign-in").get_data(as_text=True)
        answer = visitor.post("/sign-in", data={"username": username, "password": PASSWORD,
                                                "csrf_token": csrf_token_in(form)})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
        return visitor
    return signed_in


@pytest.fixture
def deployed(app):
    """The shipped audit process and its decision table, deployed."""
    return deployments.deploy_directory(PROCESSES, deployed_by="tests")


both_backends = pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                                        indirect=True)


from browsing import browser, demo_site, page, site  # noqa: E402, F401  (the browser tests' session fixtures)
from mail_server import smtp, with_addresses  # noqa: E402, F401  (a real SMTP server for the email tests)
