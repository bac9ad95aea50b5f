"""The JSON API's routes for changing the process, on the API's blueprint: a process's versions with what
changed, validating model files (errors and warnings at their elements) and deploying them (process owners);
previewing and applying the move of a running audit to a newer version (admins). A refused model is a 400
with its ``problems`` (the engine-error handler in ``web/__init__``)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from werkzeug.exceptions import BadRequest

from ..services import deployments, drafts, migrations, runtime, versions
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


@bp.post("/audits/<int(max=2147483647):audit_id>/migration")
def migrate_audit(audit_id: int) -> Any:
    """Preview (``"apply": false``) or apply moving an audit to ``to_version`` of its process, with a reason
    (admins)."""
    migrations.check_migrator(g.user)
    body = posted_body()
    version, apply, reason = body.get("to_version"), body.get("apply", False), body.get("reason", "")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 100_000 \
            or not isinstance(apply, bool) or not isinstance(reason, str):
        raise BadRequest('send {"to_version": a version number, "apply": true or false, "reason": text}')
    instance = runtime.get_instance(audit_id)
    to = migrations.target(instance.process_key, version)
    [move] = (migrations.apply(g.user, [audit_id], to, reason) if apply
              else migrations.preview(g.user, [audit_id], to))
    answer = {"audit_id": audit_id, "to_version": version, "applied": apply and move.outcome is not None,
              "refused": move.refused}
    if move.outcome is not None:
        answer.update({key: [{"task_id": view.task_id, "bpmn_id": view.bpmn_id, "name": view.name,
                              "agency": view.agency} for view in getattr(move.outcome, key)]
                       for key in ("carried", "new", "cancelled")})
        answer["restarted"] = [{"bpmn_id": after.bpmn_id, "name": after.name, "from": before.due_at.isoformat(),
                                "to": after.due_at.isoformat()} for before, after in move.outcome.restarted]
    return jsonify(answer), 200 if move.outcome is not None else 409
