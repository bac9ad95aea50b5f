"""An audit's diagram: the BPMN its version was deployed with, the state of each element that has run, and how
far each agency has got with the work done once per agency.

For the audit page's bpmn-js viewer. Whoever may see the audit may see its diagram: it holds the model, which
steps ran and how many agencies are done with each, never process data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..models import DeploymentFile, Incident, User, db
from . import audits
from .persistence import engine_limits, load_audit


@dataclass(frozen=True)
class Diagram:
    """The model's BPMN XML; bpmn id -> ``failed`` (an open incident's element), ``active``, ``waiting`` (a timer
    waiting to fire) or ``completed``; and for the work done once per agency, bpmn id -> ``{"done": n, "of": m}``
    (of the m agencies whose work reached it, n are done with it)."""

    xml: str
    states: dict[str, str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def diagram(user: User, instance_id: int) -> Diagram:
    """The audit's diagram; raises NotFound for an audit the user may not see."""
    instance = audits.get_audit(user, instance_id)
    files = db.session.scalars(select(DeploymentFile).where(
        DeploymentFile.deployment_id == instance.deployment_id).order_by(DeploymentFile.id))
    models = [file.content.decode("utf-8") for file in files if file.file_name.lower().endswith(".bpmn")]
    xml = next((model for model in models if f'id="{instance.process_key}"' in model), models[0] if models else "")
    running = load_audit(instance, engine_limits())
    states = running.element_states()
    for bpmn_id in db.session.scalars(select(Incident.bpmn_id).where(
            Incident.instance_id == instance.id, Incident.resolved_at.is_(None), Incident.bpmn_id.is_not(None))):
        states[bpmn_id] = "failed"  # first of all: the work stopped there until someone retries it
    return Diagram(xml, states, running.element_counts())
