"""The web layer: blueprints and the one error handler that turns service and engine errors into answers.

The JSON API (``api.py``) is the first part; the inbox, task pages and audit page build on it in later
work. Every error, in any route, becomes a JSON answer with a 4xx status.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from werkzeug.exceptions import HTTPException

from ..engine.errors import EngineError, ModelValidationError
from ..services.errors import FormInvalid, ServiceError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple:
    """Liveness: the app is up."""
    return jsonify(status="ok"), 200


def _service_error(error: ServiceError) -> tuple:
    body = {"error": str(error)}
    if isinstance(error, FormInvalid):
        body["fields"] = error.errors
    return jsonify(body), error.status


def _engine_error(error: EngineError) -> tuple:
    body = {"error": str(error)}
    if isinstance(error, ModelValidationError):
        body["problems"] = [problem.to_dict() for problem in error.problems]
    return jsonify(body), 400


def _http_error(error: HTTPException) -> tuple:
    headers = {"WWW-Authenticate": "Bearer"} if error.code == 401 else {}
    return jsonify(error=error.description), error.code, headers


def register(app: Flask) -> None:
    """Attach blueprints and error handlers to the app."""
    from . import api

    app.register_blueprint(bp)
    app.register_blueprint(api.bp)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
