"""Test helper for the admin's operations: an admin, an API token, an audit's history kinds, a test model."""

from __future__ import annotations

from sqlalchemy import select

from bpmn_audit.models import HistoryEvent, db
from bpmn_audit.services import api_tokens, deployments, identity
from conftest import DATA, PASSWORD


def deploy(name: str) -> None:
    deployments.deploy([(f"{name}.bpmn", (DATA / f"{name}.bpmn").read_bytes())])


def kinds(instance_id: int) -> list[str]:
    return list(db.session.scalars(select(HistoryEvent.kind).where(HistoryEvent.instance_id == instance_id)
                                   .order_by(HistoryEvent.id)))


def admin(people):
    """The admin; and sessions that outlast the tests' travels in time (an idle session is signed out)."""
    from flask import current_app

    current_app.config["IDLE_MINUTES"] = 60 * 24 * 400
    return identity.create_user("admin", "Admin", ["admin"], password=PASSWORD)


def token(person) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_tokens.issue_token(person, 'tests')}"}
