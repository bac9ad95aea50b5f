"""A WTForms form built per request from a task's stored ``camunda:formData`` fields.

Each field type maps to a field with a GOV.UK widget (MHCLG's ``build_question_form``): ``string`` to a
text input (a textarea with the ``widget=textarea`` property), ``long`` to a numeric text input, ``boolean``
to a checkbox, ``date`` to a text input with an ISO hint, ``enum`` to radios, a ``format=user`` field of a
group to a select of that group's people, a ``format=codes`` field to checkboxes of the partnership's agencies
(a text input of codes while it lists none). The form renders and carries the CSRF token; the values are
checked on the server by ``services.forms.clean_form`` when the task is completed, and its messages are
put back on the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from ..engine.views import FormFieldView
from ..services.forms import is_read_only


class TaskForm(FlaskForm):
    """The base of every generated form: complete, or save a draft."""

    complete = SubmitField("Complete the task", widget=GovSubmitInput())
    save_draft = SubmitField("Save as draft", widget=GovSubmitInput())


@dataclass(frozen=True)
class Choices:
    """What the app's own field types offer: a group's people, the partnership's agencies (code, name), the
    audit's cases (id, pseudonym)."""

    people_in: Callable[[str], list[str]]
    agencies: list[tuple[str, str]] = field(default_factory=list)
    cases: list[tuple[int, str]] = field(default_factory=list)


def build_form(fields: list[FormFieldView], choices: Choices, values: dict[str, Any] | None = None) -> TaskForm:
    """A form of ``fields``, filled with ``values`` (a draft) when the request carries none."""
    class GeneratedTaskForm(TaskForm):
        """One task's form (a new class per request: WTForms reads its fields from the class)."""

    for form_field in fields:
        setattr(GeneratedTaskForm, form_field.id, _field(form_field, choices))
    data = values or {f.id: f.default for f in fields if f.default not in (None, "")}
    for form_field in fields:  # codes kept as text ("police, csc") tick their boxes
        if _ticks(form_field, choices) and isinstance(data.get(form_field.id), str):
            data = {**data, form_field.id: [code.strip() for code in data[form_field.id].split(",") if code.strip()]}
    return GeneratedTaskForm(data=data)


def posted_values(fields: list[FormFieldView], formdata: Any, choices: Choices) -> dict[str, str]:
    """What the form sent for each field, as text: ticked agencies joined by commas."""
    return {form_field.id: ", ".join(formdata.getlist(form_field.id)) if _ticks(form_field, choices)
            else formdata.get(form_field.id, "") for form_field in fields}


def params_of(form_field: FormFieldView, shown: Field, choices: Choices) -> dict[str, Any]:
    """The GOV.UK macro's parameters of one field: its label (a legend for a group of choices), its hint
    (the model's, line by line), and read-only where the model says so."""
    params: dict[str, Any] = {"label": {"text": shown.label.text, "classes": "govuk-label--s"}}
    if shown.type in ("RadioField", "SelectMultipleField"):
        params["fieldset"] = {"legend": {"text": shown.label.text, "classes": "govuk-fieldset__legend--s"}}
    hint = _hint(form_field, choices)
    if hint:
        params["hint"] = {"html": Markup("<br>").join(escape(line) for line in hint.splitlines())}
    if is_read_only(form_field):
        text_like = shown.type in ("StringField", "TextAreaField")
        params["attributes"] = {"readonly": "readonly"} if text_like else {"disabled": "disabled"}
    return params


def _ticks(form_field: FormFieldView, choices: Choices) -> bool:
    return bool(choices.agencies) and form_field.properties.get("format") == "codes"


def _field(form_field: FormFieldView, choices: Choices) -> Field:
    label = form_field.label or form_field.id
    if _ticks(form_field, choices):
        return SelectMultipleField(label, choices=[SelectChoice(code, f"{name} ({code})")
                                                   for code, name in choices.agencies],
                                   widget=GovCheckboxesInput(), validate_choice=False)
    if form_field.properties.get("format") == "case":
        return SelectField(label, choices=[SelectChoice("", "Choose a case"),
                                           *(SelectChoice(str(case_id), name) for case_id, name in choices.cases)],
                           widget=GovSelect(), validate_choice=False)
    if form_field.type == "boolean":
        return BooleanField(label, widget=GovCheckboxInput())
    if form_field.type == "enum":
        return RadioField(label, choices=[SelectChoice(value, name) for value, name in form_field.options],
                          widget=GovRadioInput(), validate_choice=False)
    group = (form_field.properties.get("group") or "").strip()
    if form_field.properties.get("format") == "user" and group:
        return SelectField(label, choices=[SelectChoice("", "Choose someone"),
                                           *(SelectChoice(name, name) for name in choices.people_in(group))],
                           widget=GovSelect(), validate_choice=False)
    if form_field.properties.get("widget") == "textarea":
        return TextAreaField(label, widget=GovTextArea())
    return StringField(label, widget=GovTextInput())


def _hint(form_field: FormFieldView, choices: Choices) -> str | None:
    """What the page says under a field's label."""
    if form_field.type == "date":
        return "For example, 2027-03-31"
    if _ticks(form_field, choices):
        return "Tick each one"
    if form_field.properties.get("format") == "codes":
        return "Agency codes separated by commas, for example police, csc"
    return form_field.properties.get("hint")
