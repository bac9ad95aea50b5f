"""The audits a person may see, and one audit's page: phase, deadlines on a timeline with today marked,
each agency's progress, the people taking part, its cases by pseudonym (with a link to a child's details for
those allowed), its immediate concerns (for those who may raise them), its history, and its diagram (drawn by
the bpmn-js viewer from ``diagram.json``, steps marked completed, active, waiting for a date or failed, with
"how many agencies are done" on per-agency work)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from flask_login import current_user

from ..models.base import utcnow
from ..services import agency_audits, audits, cases, concerns, diagrams, runtime, tasks
from ..services.identity import ADMIN
from .paging import requested_page
from .security import requires

bp = Blueprint("audit_pages", __name__, url_prefix="/audits")
PAGE_SIZE = 25


@bp.get("")
@requires()
def audit_list() -> Any:
    """The audits I may see, newest first."""
    page = requested_page()
    found, total = audits.list_audits(current_user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("audits.html", audits=found, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)))


@bp.get("/<int(max=2147483647):audit_id>")
@requires()
def audit(audit_id: int) -> Any:
    """One audit (404 for an audit the person takes no part in)."""
    now = utcnow()
    shown = audits.progress(current_user, audit_id, now)
    listed = cases.list_cases(audit_id, current_user) if cases.may_list_cases(current_user, audit_id) else None
    raising = concerns.may_raise(current_user, audit_id) and shown.instance.process_key != concerns.CONCERN_PROCESS
    return render_template("audit.html", audit=shown, now=now, cases=listed,
                           identities=cases.may_read_identities(current_user, audit_id),
                           reports=agency_audits.agencies_of(audit_id, current_user),
                           concerns=concerns.list_concerns(audit_id, current_user) if raising else None,
                           history=audits.history(current_user, audit_id),
                           assigner=bool(tasks.ASSIGNERS & set(current_user.groups or [])),
                           editor=bool(runtime.EDITORS & set(current_user.groups or [])),
                           operator=ADMIN in (current_user.groups or []))


@bp.get("/<int(max=2147483647):audit_id>/diagram.json")
@requires()
def diagram(audit_id: int) -> Any:
    """The audit's model and each element's state, for the page's diagram viewer."""
    drawn = diagrams.diagram(current_user, audit_id)
    return jsonify(xml=drawn.xml, states=drawn.states, counts=drawn.counts)


@bp.get("/<int(max=2147483647):audit_id>/reports/<string(maxlength=100):agency>")
@requires()
def report(audit_id: int, agency: str) -> Any:
    """One agency's report: its finding on each case and its return (404 for those who may not read it yet)."""
    audit = audits.get_audit(current_user, audit_id)
    shown = agency_audits.agency_audit(audit_id, agency, current_user)
    return render_template("report.html", report=shown, audit=audit,
                           gradings=agency_audits.GRADINGS, texts=agency_audits.FINDING_TEXTS)
