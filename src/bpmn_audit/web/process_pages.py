"""The process owner's and the admin's list of processes: every deployed version (download any of its files),
with links to each process's versions page (``modeller_pages``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from ..services import deployments
from .security import requires

bp = Blueprint("process_pages", __name__)


@bp.get("/processes")
@requires("process_owner", "admin")
def process_list() -> Any:
    """Every deployed version, newest first, with how many audits run on it."""
    return render_template("processes.html", deployments=deployments.list_deployments(),
                           running=deployments.running_counts())


@bp.get("/processes/<int(max=2147483647):deployment_id>/files/<int(max=2147483647):file_id>")
@requires("process_owner", "admin")
def download(deployment_id: int, file_id: int) -> Any:
    """A deployed file as it was deployed, to open in Camunda Modeler."""
    found = deployments.get_file(deployment_id, file_id)
    name = "".join(ch for ch in found.file_name if ch.isalnum() or ch in "._-") or "model.bpmn"
    return Response(found.content, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
