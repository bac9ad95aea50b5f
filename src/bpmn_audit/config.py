"""Every setting and its default, read from ``BPMN_AUDIT_``-prefixed environment variables.

``DATABASE_URL`` (unprefixed, as hosting platforms set it) points at PostgreSQL when one machine is
not enough; without it the app uses SQLite in Flask's instance folder and needs no server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_LANE_GROUPS = {
    "Business Unit": "business_unit",
    "Nominating partner": "nominating_partner",
    "Agency audit leads": "agency_lead",
    "Practitioners": "practitioner",
    "Chair": "chair",
    "QiiP subgroup": "qiip",
}


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL") or os.environ.get("BPMN_AUDIT_DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'bpmn-audit.sqlite3'}"
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config(instance_path: str) -> dict[str, Any]:
    """The settings from the environment, with their defaults."""
    env = os.environ.get
    return {
        "SECRET_KEY": env("BPMN_AUDIT_SECRET_KEY", "dev-only-change-me"),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PROCESSES_DIR": env("BPMN_AUDIT_PROCESSES_DIR", str(Path(__file__).resolve().parents[2] / "processes")),
        # lane name -> group, for user tasks without camunda:candidateGroups (a JSON object)
        "LANE_GROUPS": json.loads(env("BPMN_AUDIT_LANE_GROUPS", "null")) or DEFAULT_LANE_GROUPS,
        # how long a timer worker holds an audit before another worker may take it over
        "TIMER_LOCK_SECONDS": int(env("BPMN_AUDIT_TIMER_LOCK_SECONDS", "300")),
        "TIMER_BATCH_SIZE": int(env("BPMN_AUDIT_TIMER_BATCH_SIZE", "50")),
        # a timer firing that fails is tried this many times in all, waiting RETRY_SECONDS, then twice
        # that, and so on, before it becomes an incident for an admin to retry
        "TIMER_MAX_ATTEMPTS": int(env("BPMN_AUDIT_TIMER_MAX_ATTEMPTS", "3")),
        "TIMER_RETRY_SECONDS": int(env("BPMN_AUDIT_TIMER_RETRY_SECONDS", "60")),
        # budgets for model code and bounds on process data (engine/limits.py has the rest)
        "SCRIPT_SECONDS": float(env("BPMN_AUDIT_SCRIPT_SECONDS", "2")),
        "ENGINE_STEPS": int(env("BPMN_AUDIT_ENGINE_STEPS", "500")),
        "DATA_BYTES": int(env("BPMN_AUDIT_DATA_BYTES", "1000000")),
        "MAX_INSTANCES": int(env("BPMN_AUDIT_MAX_INSTANCES", "100")),
        # most agencies a list-of-codes form field (the audit's agencies) may hold
        "MAX_AGENCIES": int(env("BPMN_AUDIT_MAX_AGENCIES", "30")),
        # retries of a task completion that lost an optimistic-lock race
        "COMPLETE_RETRIES": int(env("BPMN_AUDIT_COMPLETE_RETRIES", "3")),
        # the case register's Fernet key(s), comma-separated for rotation (the first encrypts); serve and
        # worker refuse to start without one (services/case_crypto.py); tests and simulate make a throwaway
        "CASE_KEY": env("BPMN_AUDIT_CASE_KEY") or None,
        "MAX_CONTENT_LENGTH": int(env("BPMN_AUDIT_MAX_UPLOAD_BYTES", str(5 * 1024 * 1024))),
        # the partnership's name, in every page's header and title
        "PARTNERSHIP_NAME": env("BPMN_AUDIT_PARTNERSHIP_NAME", "Safeguarding Children Partnership"),
        # a signed-in page session idle for longer than this is signed out
        "IDLE_MINUTES": int(env("BPMN_AUDIT_IDLE_MINUTES", "30")),
        # wrong passwords: after SLOW_AFTER in a row each try waits SLOW_SECONDS; after LOCK_AFTER the
        # account is locked for LOCK_MINUTES
        "SIGN_IN_SLOW_AFTER": int(env("BPMN_AUDIT_SIGN_IN_SLOW_AFTER", "3")),
        "SIGN_IN_SLOW_SECONDS": int(env("BPMN_AUDIT_SIGN_IN_SLOW_SECONDS", "30")),
        "SIGN_IN_LOCK_AFTER": int(env("BPMN_AUDIT_SIGN_IN_LOCK_AFTER", "6")),
        "SIGN_IN_LOCK_MINUTES": int(env("BPMN_AUDIT_SIGN_IN_LOCK_MINUTES", "15")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("BPMN_AUDIT_SECURE_COOKIES", "false").lower() == "true",
        "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as the session (which the idle timeout ends)
        # whose bank holidays are not working days: england, scotland, wales or northern-ireland
        "BANK_HOLIDAYS": env("BPMN_AUDIT_BANK_HOLIDAYS", "england"),
        "MAIL_SERVER": env("BPMN_AUDIT_MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env("BPMN_AUDIT_MAIL_PORT", "25")),
        "MAIL_DEFAULT_SENDER": env("BPMN_AUDIT_MAIL_SENDER", "audit@localhost"),
        # emails: attempts before a message is given up (each wait doubles from MAIL_RETRY_SECONDS), how long
        # a sender holds a message, and the address links in emails start with
        "MAIL_MAX_ATTEMPTS": int(env("BPMN_AUDIT_MAIL_MAX_ATTEMPTS", "8")),
        "MAIL_RETRY_SECONDS": int(env("BPMN_AUDIT_MAIL_RETRY_SECONDS", "60")),
        "MAIL_LOCK_SECONDS": int(env("BPMN_AUDIT_MAIL_LOCK_SECONDS", "120")),
        "BASE_URL": env("BPMN_AUDIT_BASE_URL", "http://127.0.0.1:5000"),
    }
