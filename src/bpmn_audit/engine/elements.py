"""How messages name a BPMN element: by its name and id, as the process owner sees them in the modeller."""

from __future__ import annotations

from typing import Any


def element_of(spec: Any) -> tuple[str | None, str | None, str]:
    """(id, name, label) of the element a task spec stands for; label reads like 'Plan the deadlines' (plan).

    A multi-instance activity is a wrapper spec around its child, which holds the name.
    """
    bpmn_id = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    name = getattr(spec, "bpmn_name", None)
    child = getattr(spec, "task_spec", None)
    if name is None and isinstance(child, str):
        name = getattr(spec._wf_spec.task_specs.get(child), "bpmn_name", None)
    label = f"'{name}' ({bpmn_id})" if name and name != bpmn_id else f"'{bpmn_id}'"
    return bpmn_id, name, label
