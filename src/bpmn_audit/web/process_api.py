"""The JSON API's process-owner routes, on the API's blueprint: a process's versions with what changed,
validating model files (errors and warnings at their elements) and deploying them. A refused model is a 400
with its ``problems`` (the engine-error handler in ``web/__init__``)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from ..services import deployments, drafts, versions
from .api import bp
from .model_files import posted_body, posted_files, problem_dicts


@bp.get("/processes/<string(maxlength=200):process_key>/versions")
def list_versions(process_key: str) -> Any:
    """Every version of a process, newest first, with what changed in each (process owners)."""
    drafts.check_owner(g.user)
    return jsonify(versions=[{
        "version": version.deployment.version, "deployed_at": version.deployment.deployed_at.isoformat(),
        "deployed_by": version.deployment.deployed_by, "note": version.deployment.note, "running": version.running,
        "changes": None if version.changes is None else [
            {"kind": change.kind, "element_id": change.element_id, "name": change.name,
             "element_kind": change.element_kind, "details": change.details} for change in version.changes]}
        for version in versions.history(process_key)])


@bp.post("/processes/validate")
def validate_model() -> Any:
    """Run the deploy checks and the style checks on model files, deploying nothing (process owners)."""
    drafts.check_owner(g.user)
    found = deployments.validate(posted_files(posted_body()))
    return jsonify(ok=found.ok, errors=problem_dicts(found.errors), warnings=problem_dicts(found.warnings))


@bp.post("/processes/deploy")
def deploy_model() -> Any:
    """Deploy model files as new versions, with a note (process owners)."""
    body = posted_body()
    deployed = drafts.deploy_model(g.user, posted_files(body), str(body.get("note") or "")[:deployments.MAX_NOTE])
    return jsonify(deployed=[{"process_key": d.process_key, "version": d.version, "unchanged": d.unchanged}
                             for d in deployed]), 201
