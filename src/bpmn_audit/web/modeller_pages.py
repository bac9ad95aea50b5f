"""Process owners change the process themselves: each process's versions (who, when, why, what changed), a
deploy by upload, and the modeller (bpmn-js with the Camunda 7 properties panel) with its JSON calls to open,
save a draft, validate and deploy. The JSON calls use the page's session and its CSRF token (a header), and
answer JSON, errors included.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from werkzeug.exceptions import BadRequest
from wtforms import SubmitField, TextAreaField

from ..engine.errors import ModelValidationError, UnsafeXMLError
from ..engine.safe_xml import MalformedXMLError
from ..services import deployments, drafts, migrations, versions
from ..services.errors import ServiceError
from .model_files import posted_body, posted_files, problem_dicts
from .security import requires

bp = Blueprint("modeller_pages", __name__, url_prefix="/processes")
KEY = "<string(maxlength=200):process_key>"
REFUSED = (ModelValidationError, UnsafeXMLError, MalformedXMLError)


class DeployForm(FlaskForm):
    """Files to deploy (the file input is drawn by the template: several files at once) and why."""

    note = TextAreaField("What changed, and why", widget=GovTextArea())
    deploy = SubmitField("Deploy as a new version", widget=GovSubmitInput())


@bp.get(f"/{KEY}/versions")
@requires("process_owner", "admin")
def version_list(process_key: str) -> Any:
    """Every version of one process with what changed in each."""
    return render_template("versions.html", process_key=process_key, versions=versions.history(process_key),
                           owner=bool(drafts.OWNERS & set(current_user.groups or [])),
                           admin=bool(migrations.MIGRATORS & set(current_user.groups or [])), form=DeployForm())


@bp.post("/deploy")
@requires("process_owner")
def deploy_upload() -> Any:
    """Deploy uploaded .bpmn and .dmn files; a refused model comes back with each problem at its element."""
    form = DeployForm()
    if not form.validate_on_submit():
        raise BadRequest("the form has expired: open the page again")
    files = [(upload.filename or "", upload.read()) for upload in request.files.getlist("files") if upload]
    try:
        deployed = drafts.deploy_model(current_user, files, form.note.data)
    except REFUSED as error:
        return render_template("deploy_refused.html", problems=deployments.problems_of(error), form=form), 400
    flash("Deployed: " + "; ".join(_deployed_text(deployment) for deployment in deployed))
    return redirect(url_for("modeller_pages.version_list", process_key=deployed[0].process_key))


@bp.get(f"/{KEY}/modeller")
@requires("process_owner")
def modeller(process_key: str) -> Any:
    """The modeller page: the diagram, the properties panel, and save, validate and deploy."""
    drafts.model_to_edit(current_user, process_key)  # 404 for a process never deployed
    base = url_for("modeller_pages.model", process_key=process_key).rsplit("/", 1)[0]  # the JSON calls' prefix
    return render_template("modeller.html", process_key=process_key, base=base)


@bp.get(f"/{KEY}/model")
@requires("process_owner")
def model(process_key: str) -> Any:
    """The files to edit (the draft, or the latest version's), as JSON."""
    found = drafts.model_to_edit(current_user, process_key)
    return jsonify(files=[{"name": name, "xml": content.decode("utf-8", "replace")} for name, content in found.files],
                   draft={"saved_by": found.draft_saved_by, "saved_at": found.draft_saved_at.isoformat()}
                   if found.draft_saved_at else None, version=found.version)


@bp.post(f"/{KEY}/draft")
@requires("process_owner")
def save_draft(process_key: str) -> Any:
    """Keep the files as the process's draft."""
    try:
        drafts.save_draft(current_user, process_key, posted_files(posted_body()))
    except REFUSED as error:
        return jsonify(error="the draft was not saved", errors=problem_dicts(deployments.problems_of(error))), 400
    except ServiceError as error:
        return jsonify(error=str(error)), error.status
    return jsonify(saved=True)


@bp.post(f"/{KEY}/validate")
@requires("process_owner")
def validate(process_key: str) -> Any:
    """Every deploy check and the style checks, as markers for the diagram."""
    found = deployments.validate(posted_files(posted_body()))
    return jsonify(ok=found.ok, errors=problem_dicts(found.errors), warnings=problem_dicts(found.warnings))


@bp.post(f"/{KEY}/deploy")
@requires("process_owner")
def deploy_model(process_key: str) -> Any:
    """Deploy the modeller's files with a note; a refused model answers 400 with its problems."""
    body = posted_body()
    try:
        deployed = drafts.deploy_model(current_user, posted_files(body), str(body.get("note") or "")[:2000])
    except REFUSED as error:
        return jsonify(error="the model cannot be deployed", errors=problem_dicts(deployments.problems_of(error))), 400
    return jsonify(deployed=[{"process_key": d.process_key, "version": d.version, "unchanged": d.unchanged,
                              "text": _deployed_text(d)} for d in deployed]), 201


def _deployed_text(deployment: Any) -> str:
    if deployment.unchanged:
        return f"{deployment.name} is unchanged (still version {deployment.version})"
    return f"{deployment.name} version {deployment.version}"
