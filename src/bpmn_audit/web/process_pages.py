"""The process owner's and the admin's pages: the deployed processes with their versions (download any of
their files), and the audits as an operator sees them (status, open incidents).

Editing and deploying from the browser, and mending audits, come with the modeller and the instance
inspector; until then ``bpmn-audit deploy`` and ``bpmn-audit instances`` do those.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from ..services import deployments, runtime
from ..services.errors import NotFound
from .security import requires

bp = Blueprint("process_pages", __name__)
STATUSES = ("running", "completed", "incident")


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


@bp.get("/operations")
@requires("admin")
def operations() -> Any:
    """The audits newest first, by status (running, completed, or with an open incident)."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise NotFound(f"there is no status '{status[:40]}'")
    found = runtime.list_instances(status)
    return render_template("operations.html", audits=found, status=status, statuses=STATUSES,
                           troubled=runtime.with_open_incidents([audit.id for audit in found]))
