"""Versions of a process: each deployed version with who deployed it, when and why, how many audits run on
it, and what changed against the version before (elements added, removed and changed; forms; timers).

The comparison reads the BPMN files as deployed (parsed safely), element by element by id, so it says
what a process owner changed in words they used: a renamed task, a form field's new label, a timer's new
duration. Diagram layout (the BPMNDI part) is not a change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select

from ..engine.parser import is_dmn
from ..engine.safe_xml import parse_xml
from ..models import Deployment, db
from .deployments import running_counts
from .errors import NotFound

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
#: the parts of an element, other than its attributes, that a reader cares about, by local tag name
PARTS = {"timeDate": "timer", "timeDuration": "timer", "timeCycle": "timer", "script": "script",
         "conditionExpression": "condition", "documentation": "documentation"}
MAX_VERSIONS = 200


@dataclass(frozen=True)
class Element:
    """One BPMN element as compared: its kind, name, attributes, form fields and other parts."""

    kind: str
    name: str
    attributes: dict[str, str]
    fields: dict[str, tuple[str, str, str]]  # form field id -> (label, type, its other settings)
    parts: dict[str, str]  # "timer", "script"... -> text


@dataclass
class Change:
    """What happened to one element between two versions, in words."""

    kind: str  # added, removed, changed
    element_id: str
    name: str
    element_kind: str
    details: list[str] = field(default_factory=list)


@dataclass
class Version:
    """A deployed version as the versions page lists it."""

    deployment: Deployment
    running: int
    changes: list[Change] | None  # None for the first version


def history(process_key: str) -> list[Version]:
    """Every version of a process, newest first, each with its changes against the one before."""
    found = list(db.session.scalars(select(Deployment).where(Deployment.process_key == process_key)
                                    .order_by(Deployment.version.desc()).limit(MAX_VERSIONS)))
    if not found:
        raise NotFound(f"no process '{process_key}' has been deployed")
    running = running_counts()
    parsed = [elements(deployment) for deployment in found]  # each version's files read once
    return [Version(deployment, running.get(deployment.id, 0),
                    changes_between(parsed[index + 1], parsed[index]) if index + 1 < len(found) else None)
            for index, deployment in enumerate(found)]


def compare(old: Deployment, new: Deployment) -> list[Change]:
    """What changed from ``old`` to ``new``: added, removed and changed elements, in document order."""
    return changes_between(elements(old), elements(new))


def changes_between(before: dict[str, Element], after: dict[str, Element]) -> list[Change]:
    """The changes from one version's elements to another's."""
    changes = [Change("removed", key, element.name, element.kind) for key, element in before.items()
               if key not in after]
    for key, element in after.items():
        if key not in before:
            changes.append(Change("added", key, element.name, element.kind, _summary(element)))
        elif before[key] != element:
            changes.append(Change("changed", key, element.name, element.kind, _differences(before[key], element)))
    return changes


def elements(deployment: Deployment) -> dict[str, Element]:
    """Every identified BPMN element of the version's BPMN files (not its diagram layout)."""
    found: dict[str, Element] = {}
    for file in deployment.files:
        root = parse_xml(file.content, file.file_name).getroot()
        if is_dmn(root):
            continue
        for node in root.iter(f"{{{BPMN_NS}}}*"):
            local = etree.QName(node).localname
            if node.get("id") and local != "definitions" and not local.endswith("EventDefinition"):
                found[node.get("id")] = _element(node, local)
    return found


def _element(node: etree._Element, kind: str) -> Element:
    fields, parts = {}, {}
    for part in _own(node):
        local = etree.QName(part).localname
        if etree.QName(part).namespace == CAMUNDA_NS and local == "formField":
            settings = b"".join(etree.tostring(child, method="c14n") for child in part)
            fields[part.get("id") or ""] = (part.get("label") or "", part.get("type") or "", settings.decode())
        elif etree.QName(part).namespace == CAMUNDA_NS and local == "property" \
                and etree.QName(part.getparent().getparent()).localname == "extensionElements":
            parts[f"property {part.get('name')}"] = part.get("value") or ""
        elif etree.QName(part).namespace == BPMN_NS and local in PARTS:
            parts[PARTS[local]] = " ".join((part.text or "").split())
    attributes = {etree.QName(key).localname if not key.startswith(f"{{{CAMUNDA_NS}}}")
                  else "camunda:" + etree.QName(key).localname: value
                  for key, value in node.attrib.items() if key not in ("id", "name")}
    return Element(kind, node.get("name") or "", attributes, fields, parts)


def _own(node: etree._Element) -> Iterator[etree._Element]:
    """The element's own content: its descendants, not those of the identified elements inside it (the tasks
    inside a subprocess are elements of their own), but with its event definitions."""
    for child in node:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if child.get("id") and etree.QName(child).namespace == BPMN_NS and not local.endswith("EventDefinition"):
            continue
        yield child
        yield from _own(child)


def _summary(element: Element) -> list[str]:
    details = [f"{key}: {text}" for key, text in element.parts.items() if key != "documentation"]
    if element.fields:
        details.append("form: " + ", ".join(label or key for key, (label, _, _) in element.fields.items()))
    return details


def _differences(old: Element, new: Element) -> list[str]:
    details = []
    if old.name != new.name:
        details.append(f"renamed from '{old.name}' to '{new.name}'")
    for key in sorted(set(old.attributes) | set(new.attributes)):
        if old.attributes.get(key) != new.attributes.get(key):
            details.append(f"{key}: '{old.attributes.get(key, '')}' → '{new.attributes.get(key, '')}'")
    for key in sorted(set(old.parts) | set(new.parts)):
        if old.parts.get(key) != new.parts.get(key):
            details.append(f"{key}: '{old.parts.get(key, '')[:200]}' → '{new.parts.get(key, '')[:200]}'"
                           if key != "documentation" else "documentation changed")
    for key in [k for k in old.fields if k not in new.fields]:
        details.append(f"form field '{old.fields[key][0] or key}' removed")
    for key, (label, kind, settings) in new.fields.items():
        if key not in old.fields:
            details.append(f"form field '{label or key}' added")
            continue
        before_label, before_kind, before_settings = old.fields[key]
        if before_label != label:
            details.append(f"form field '{key}': label '{before_label}' → '{label}'")
        if before_kind != kind:
            details.append(f"form field '{key}': type '{before_kind}' → '{kind}'")
        if before_settings != settings:
            details.append(f"form field '{key}': its rules, choices or widget changed")
    return details or ["changed"]
