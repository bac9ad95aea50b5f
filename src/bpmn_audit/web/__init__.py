"""The web layer: blueprints by area, templates, and the error handlers that turn service and engine
errors into answers: JSON with a 4xx status under ``/api/`` (and for the health check), an HTML page
elsewhere.

Areas: ``auth`` (sign-in, sign-out), ``inbox``, ``task_pages`` (with the purpose-built parts of ``app_pages``,
saved by ``case_pages`` and ``agency_audit_pages``), ``concern_pages``, ``audit_pages``, ``agency_pages``
(the partnership's agencies), ``process_pages`` (the process owner's and the admin's),
``notification_pages``, ``calendar_pages`` (iCalendar feeds), ``account`` (API tokens), ``api`` (the JSON API).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request
from flask_login import current_user
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from ..engine.calendar import LONDON
from ..engine.errors import EngineError, ModelValidationError, UnsafeXMLError
from ..engine.safe_xml import MalformedXMLError
from ..services.deployments import problems_of
from ..services.errors import FormInvalid, ServiceError
from . import input_rules, security

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
bp = Blueprint("health", __name__)


@bp.get("/healthz")
@security.public
def healthz() -> tuple:
    """Liveness: the app is up."""
    return jsonify(status="ok"), 200


@bp.get("/readyz")
@security.public
def readyz() -> tuple:
    """Readiness, for a load balancer: the database answers."""
    from ..services.operations import ready

    return (jsonify(status="ready"), 200) if ready() else (jsonify(status="the database does not answer"), 503)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.blueprint == "health" or request.is_json


def _answer(message: str, status: int, **extra: Any) -> Any:
    if _wants_json():
        return jsonify({"error": message, **extra}), status
    return render_template("error.html", message=message, status=status), status


def _service_error(error: ServiceError) -> Any:
    extra = {"fields": error.errors} if isinstance(error, FormInvalid) else {}
    return _answer(str(error), error.status, **extra)


def _engine_error(error: EngineError) -> Any:
    refused = isinstance(error, ModelValidationError | UnsafeXMLError | MalformedXMLError)  # a model's problems
    extra = {"problems": [p.to_dict() for p in problems_of(error)]} if refused else {}
    return _answer(str(error), 400, **extra)


def _http_error(error: HTTPException) -> Any:
    answer, status = _answer(error.description or error.name, error.code or 500)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 and _wants_json() else {}
    return answer, status, headers


def _london(moment: datetime | str | None) -> str:
    """A moment (or an ISO string of one, as history details hold them) in London time."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if moment else ""


def _task_count() -> int:
    from ..services.tasks import count_inbox

    return count_inbox(current_user) if current_user.is_authenticated else 0


def _unread_count() -> int:
    from ..services.notifications import count_unread

    return count_unread(current_user) if current_user.is_authenticated else 0


def register(app: Flask) -> None:
    """Attach templates, security, blueprints and error handlers to the app."""
    from . import (
        account,
        agency_audit_pages,
        agency_pages,
        api,
        audit_pages,
        auth,
        calendar_pages,
        case_pages,
        concern_pages,
        extension_pages,
        inbox,
        migration_pages,
        modeller_pages,
        notification_pages,
        operation_api,  # noqa: F401  (routes on the API's blueprint)
        operation_pages,
        process_api,  # noqa: F401  (routes on the API's blueprint)
        process_pages,
        task_pages,
    )

    app.jinja_loader = ChoiceLoader([FileSystemLoader(TEMPLATES), PrefixLoader({
        "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
        "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf")})])
    app.jinja_env.filters["london"] = _london
    app.jinja_env.globals["task_count"] = _task_count
    app.jinja_env.globals["unread_count"] = _unread_count
    WTFormsHelpers(app)
    security.init(app)
    input_rules.init(app)
    security.csrf.exempt(api.bp)  # bearer tokens, no cookies: nothing for another site to forge
    for blueprint in (bp, auth.bp, inbox.bp, task_pages.bp, case_pages.bp, agency_audit_pages.bp, concern_pages.bp,
                      audit_pages.bp, agency_pages.bp, process_pages.bp, notification_pages.bp, calendar_pages.bp,
                      extension_pages.bp, modeller_pages.bp, migration_pages.bp, operation_pages.bp, account.bp,
                      api.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
