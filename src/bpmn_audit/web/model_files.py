"""Model files sent as JSON, by the modeller page and the API alike: ``{"files": [{"name": "x.bpmn", "xml":
"..."}], "note": "..."}``; and problems as JSON."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest

from ..engine.errors import ModelProblem
from ..services.deployments import MAX_FILES


def posted_body() -> dict:
    """The request's JSON object (a 400 for anything else)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    return body


def posted_files(body: dict) -> list[tuple[str, bytes]]:
    """The body's ``files``: a list of ``{"name": ..., "xml": ...}`` (the deploy checks bound their count)."""
    files = body.get("files")
    if not isinstance(files, list) or not all(isinstance(item, dict) and isinstance(item.get("name"), str)
                                              and isinstance(item.get("xml"), str) for item in files):
        raise BadRequest('"files" must be a list of {"name": ..., "xml": ...}')
    return [(item["name"], item["xml"].encode("utf-8", "replace")) for item in files[:MAX_FILES + 1]]


def problem_dicts(problems: list[ModelProblem]) -> list[dict]:
    """Problems as JSON, each at its element."""
    return [problem.to_dict() for problem in problems]
