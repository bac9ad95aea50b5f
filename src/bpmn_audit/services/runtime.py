"""Running audits (Camunda's RuntimeService): start one, find one, list them."""

from __future__ import annotations

from ..engine.serializer import LIBRARY_VERSION, SERIALIZER_VERSION
from ..engine.workflow import RunningAudit
from ..models import ProcessInstance, User, db
from .deployments import latest_deployment
from .errors import Forbidden, NotFound
from .persistence import record_event, save_audit
from .transaction import transaction

AUDIT_PROCESS = "multi_agency_audit"
STARTERS = {"business_unit", "admin"}


def start_audit(user: User, process_key: str = AUDIT_PROCESS) -> ProcessInstance:
    """Start a new audit on the latest deployed version of ``process_key``.

    Needs: business_unit or admin. Raises NotFound if the process was never deployed.
    """
    if not STARTERS.intersection(user.groups or []):
        raise Forbidden("only the Business Unit can start an audit")
    deployment = latest_deployment(process_key)
    with transaction():
        audit = RunningAudit.start(deployment.spec.blob)
        instance = ProcessInstance(deployment_id=deployment.id, process_key=process_key, state=b"",
                                   serializer_version=SERIALIZER_VERSION, library_version=LIBRARY_VERSION,
                                   started_by=user.username, deployment=deployment)
        db.session.add(instance)
        db.session.flush()  # the projections need the instance id
        record_event(instance, "process_started", process_key, deployment.name, actor=user.username,
                     detail={"version": deployment.version})
        save_audit(instance, audit, audit.events, user.username)
    return instance


def get_instance(instance_id: int) -> ProcessInstance:
    """One audit by id; raises NotFound."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"there is no audit {instance_id}")
    return instance
