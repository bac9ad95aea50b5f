"""Checking submitted task forms against their ``camunda:formField`` definitions.

Values arrive as strings (HTML forms) or JSON values (the API); they leave typed as the process
expects them: ``long`` as int, ``boolean`` as bool, ``date`` as an ISO date string, ``enum`` as one
of its option ids. Every field's problem is reported at once, keyed by field id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..engine.workflow import FormFieldView
from .errors import FormInvalid

TRUE_WORDS = {"true", "on", "yes", "1"}
FALSE_WORDS = {"false", "off", "no", "0", ""}
MAX_TEXT = 20_000


def clean_form(fields: list[FormFieldView], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The typed values of ``raw`` for ``fields``; raises FormInvalid with a message per bad field.

    Keys not in the form are ignored, so a form cannot set other process variables. A field that
    is not sent at all takes its ``defaultValue``; an unticked checkbox (not sent, or empty) is False.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for form_field in fields:
        given = raw.get(form_field.id, form_field.default)
        if isinstance(given, str):
            given = given.strip()
        if form_field.type == "boolean" and given in (None, ""):
            given = False
        if given in (None, ""):
            if form_field.required:
                errors[form_field.id] = f"Enter {form_field.label[0].lower() + form_field.label[1:]}"
            values[form_field.id] = None
            continue
        try:
            values[form_field.id] = _convert(form_field, given)
        except ValueError as error:
            errors[form_field.id] = str(error)
    if errors:
        raise FormInvalid(errors, dict(raw))
    return values


def _convert(form_field: FormFieldView, value: Any) -> Any:
    kind = form_field.type
    if kind == "long":
        if isinstance(value, bool) or not str(value).lstrip("-").isdigit():
            raise ValueError(f"{form_field.label} must be a whole number, like 4")
        return int(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        word = str(value).lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(f"{form_field.label} must be yes or no")
        return word in TRUE_WORDS
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"{form_field.label} must be a real date, like 2027-03-31") from None
    if kind == "enum":
        options = [option_id for option_id, _ in form_field.options]
        if str(value) not in options:
            names = ", ".join(name for _, name in form_field.options)
            raise ValueError(f"Choose one of: {names}")
        return str(value)
    text = str(value)
    if len(text) > MAX_TEXT:
        raise ValueError(f"{form_field.label} must be {MAX_TEXT} characters or fewer")
    return text
