"""An audit's diagram: the BPMN its version was deployed with, and the state of each element that has run.

For the audit page's bpmn-js viewer. Whoever may see the audit may see its diagram: it holds the model and
which steps ran, never process data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..models import DeploymentFile, User, db
from . import audits
from .persistence import engine_limits, load_audit


@dataclass(frozen=True)
class Diagram:
    """The model's BPMN XML, and bpmn id -> ``completed`` or ``active``."""

    xml: str
    states: dict[str, str]


def diagram(user: User, instance_id: int) -> Diagram:
    """The audit's diagram; raises NotFound for an audit the user may not see."""
    instance = audits.get_audit(user, instance_id)
    files = db.session.scalars(select(DeploymentFile).where(
        DeploymentFile.deployment_id == instance.deployment_id).order_by(DeploymentFile.id))
    models = [file.content.decode("utf-8") for file in files if file.file_name.lower().endswith(".bpmn")]
    xml = next((model for model in models if f'id="{instance.process_key}"' in model), models[0] if models else "")
    return Diagram(xml, load_audit(instance, engine_limits()).element_states())
