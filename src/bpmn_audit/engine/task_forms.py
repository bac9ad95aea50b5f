"""Each user task's form, read from the spec once, when a model is deployed.

A task page and a form check then need no workflow: the deployment stores, per user task, its name,
its instructions (BPMN documentation), its ``camunda:formData`` fields and its ``guard`` and ``provide``
hooks as JSON (:func:`catalogue`); :func:`TaskForm.from_json` reads one back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.camunda.specs.user_task import UserTask

from .views import FormFieldView, UserTaskView, form_field_view, split_names


@dataclass
class TaskForm:
    """What completing one user task asks for, and what the app checks and adds."""

    name: str
    documentation: str | None
    fields: list[FormFieldView]
    guards: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    #: ``camunda:formKey``: ``app:NAME`` (or ``embedded:app:NAME``) asks for the app's purpose-built page NAME
    form_key: str | None = None

    @property
    def app_page(self) -> str | None:
        """NAME of a form key ``app:NAME`` or ``embedded:app:NAME``; None for any other key."""
        key = self.form_key or ""
        for prefix in ("embedded:app:", "app:"):
            if key.startswith(prefix):
                return key[len(prefix):] or None
        return None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for the deployment's ``forms`` column."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskForm:
        """One task's form as stored at deploy time."""
        fields = [FormFieldView(**{**item, "options": [tuple(option) for option in item.get("options", [])]})
                  for item in data.get("fields", [])]
        return cls(data["name"], data.get("documentation"), fields, list(data.get("guards", [])),
                   list(data.get("providers", [])), data.get("form_key"))

    @classmethod
    def from_view(cls, view: UserTaskView) -> TaskForm:
        """One ready task's form, read from the running workflow (versions deployed before forms were stored)."""
        return cls(view.name, view.documentation, view.form, view.guards, view.providers, view.form_key)


def catalogue(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> dict[str, dict[str, Any]]:
    """bpmn id -> the JSON of its form, for every user task of a process and its subprocesses."""
    forms: dict[str, dict[str, Any]] = {}
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, UserTask):
                extensions = task_spec.extensions or {}
                forms[task_spec.bpmn_id] = TaskForm(
                    task_spec.bpmn_name or task_spec.bpmn_id, task_spec.documentation,
                    [form_field_view(f) for f in task_spec.form.fields] if task_spec.form else [],
                    split_names(extensions.get("guard")), split_names(extensions.get("provide")),
                    (task_spec.form.key or None) if task_spec.form else None).to_json()
    return forms
