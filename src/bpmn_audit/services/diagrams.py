"""An audit's diagram: the BPMN its version was deployed with, the state of each element that has run, and how
far each agency has got with the work done once per agency.

For the audit page's bpmn-js viewer. Whoever may see the audit may see its diagram: it holds the model, which
steps ran and how many agencies are done with each, never process data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..engine.errors import EngineError
from ..engine.safe_xml import parse_xml
from ..models import DeploymentFile, ProcessInstance, User, db
from . import audits
from .persistence import engine_limits, load_audit

#: the OMG Diagram Common namespace of a shape's bounds
DC = "http://www.omg.org/spec/DD/20100524/DC"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
#: how far up a task's subprocesses the ordering looks (deploy checks keep real nesting well within this)
MAX_NESTING_SEEN = 50


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
    xml = _model_xml(instance)
    running = load_audit(instance, engine_limits())
    states = running.element_states()
    for incident in audits.open_incidents(instance.id):
        if incident.bpmn_id:
            states[incident.bpmn_id] = "failed"  # first of all: the work stopped there until someone retries it
    return Diagram(xml, states, running.element_counts())


def in_diagram_order(instance: ProcessInstance, tasks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(bpmn id, name) pairs in the order a reader meets them in the audit's diagram: left to right, then top
    to bottom (process order, as diagrams are drawn); a task inside a subprocess where its subprocess stands,
    then by its place inside; elements with no shape last, by name."""
    try:
        root = parse_xml(_model_xml(instance), "diagram").getroot()
    except EngineError:
        return sorted(tasks, key=lambda task: task[1])
    where: dict[str, tuple[float, float]] = {}
    for bounds in root.iter(f"{{{DC}}}Bounds"):
        try:
            where.setdefault(bounds.getparent().get("bpmnElement") or "", (float(bounds.get("x")),
                                                                          float(bounds.get("y"))))
        except (TypeError, ValueError):
            continue
    elements = {element.get("id"): element for element in root.iter() if isinstance(element.tag, str)
                and element.get("id") and not element.tag.startswith(f"{{{BPMNDI}}}")}

    def place(bpmn_id: str) -> list[tuple[float, float]]:
        """The positions of the task and each subprocess around it, outermost first."""
        chain, element = [], elements.get(bpmn_id)
        for _ in range(MAX_NESTING_SEEN):
            if element is None:
                break
            if element.get("id") in where:
                chain.append(where[element.get("id")])
            element = element.getparent()
        return chain[::-1]
    placed = {bpmn_id: place(bpmn_id) for bpmn_id, _ in tasks}
    return sorted(tasks, key=lambda task: (not placed[task[0]], placed[task[0]], task[1]))


def _model_xml(instance: ProcessInstance) -> str:
    """The BPMN XML of the instance's version that holds its process."""
    files = db.session.scalars(select(DeploymentFile).where(
        DeploymentFile.deployment_id == instance.deployment_id).order_by(DeploymentFile.id))
    models = [file.content.decode("utf-8") for file in files if file.file_name.lower().endswith(".bpmn")]
    return next((model for model in models if f'id="{instance.process_key}"' in model), models[0] if models else "")
