"""Style warnings: what does not stop a model from deploying but makes it harder to read or to run well.

A process owner sees them beside the errors in the modeller and the validation API, marked as warnings:
a branch out of a gateway with no label (readers cannot tell when it is taken), a user task with no due
date (nobody is reminded, nothing is overdue), a gateway with no name (the question it asks), and an
``about`` or ``unless_claimed`` property naming no user task of the model.
"""

from __future__ import annotations

from .errors import ModelProblem
from .model_checks import ModelDocument, bpmn, camunda

GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
#: throw event properties that name a user task, and what happens when it names none
TASK_NAMING_PROPERTIES = {"about": "its emails link to the audit instead",
                          "unless_claimed": "everyone is told, whoever has claimed what"}


def style_warnings(documents: list[ModelDocument]) -> list[ModelProblem]:
    """Every style warning in the BPMN documents, each at its element."""
    warnings = []
    for doc in documents:
        if doc.is_dmn:
            continue
        flows = {flow.get("id"): flow for flow in doc.root.iter(bpmn("sequenceFlow"))}
        for kind in GATEWAYS:
            for gateway in doc.root.iter(bpmn(kind)):
                outgoing = [flows[ref.text] for ref in gateway.iter(bpmn("outgoing")) if ref.text in flows]
                if len(outgoing) < 2:
                    continue  # a merging gateway asks nothing
                if not (gateway.get("name") or "").strip():
                    warnings.append(_warning("this gateway has no name: name it with the question it asks",
                                             gateway, doc))
                for flow in outgoing:
                    if not (flow.get("name") or "").strip():
                        warnings.append(_warning(
                            f"a branch out of gateway '{gateway.get('name') or gateway.get('id')}' has no label: "
                            "name it with the answer that takes it", flow, doc))
        user_tasks = list(doc.root.iter(bpmn("userTask")))
        for task in user_tasks:
            if not (task.get(camunda("dueDate")) or "").strip():
                warnings.append(_warning("this task has no due date (camunda:dueDate): nobody is reminded and it "
                                         "is never overdue", task, doc))
        task_ids = {task.get("id") for task in user_tasks}
        for prop in doc.root.iter(camunda("property")):
            if prop.get("name") in TASK_NAMING_PROPERTIES and prop.get("value") not in task_ids:
                element = next(parent for parent in prop.iterancestors() if parent.get("id"))
                warnings.append(_warning(
                    f"the property {prop.get('name')} names '{prop.get('value')}', which is no user task of this "
                    "model: " + TASK_NAMING_PROPERTIES[prop.get("name")], element, doc))
    return warnings


def _warning(message: str, element: object, doc: ModelDocument) -> ModelProblem:
    return ModelProblem(message, element.get("id"), element.get("name"), doc.file_name,
                        element.sourceline, severity="warning")
