"""Checking what is entered into the case register, as a form library would: a message per field, in
plain words, never echoing the value (the values are children's personal data)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from .errors import FormInvalid

MAX_NAME = 200
MAX_IDENTIFIER = 100
MAX_OTHER_IDS = 10
MAX_LABEL = 50
MAX_HOUSEHOLD = 2000
MAX_PURPOSE = 500
EARLIEST_BIRTH = date(1900, 1, 1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Invalid(ValueError):
    """A value is wrong; the message is for the person who entered it."""


def clean_case(raw: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The identifying fields of one case, cleaned; raises FormInvalid with a message per bad field.

    Fields: ``name`` (required), ``date_of_birth`` (required, an ISO date or a date, not after
    ``today``), ``system_id`` (required: the nominating system's identifier), ``other_ids`` (optional:
    label -> value, such as "NHS number"), ``household_members`` (optional text). Other keys are ignored.
    """
    checks = {
        "name": lambda value: _text(value, "the child's name", MAX_NAME, required=True),
        "date_of_birth": lambda value: _birth_date(value, today),
        "system_id": lambda value: _text(value, "the identifier in the nominating system", MAX_IDENTIFIER,
                                         required=True),
        "other_ids": _other_ids,
        "household_members": lambda value: _text(value, "household members", MAX_HOUSEHOLD, required=False),
    }
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, check in checks.items():
        try:
            values[field] = check(raw.get(field))
        except _Invalid as error:
            errors[field] = str(error)
    if errors:
        raise FormInvalid(errors, dict(raw))
    return values


def clean_purpose(raw: Any) -> str:
    """Why someone reads a case's identifying data: required text; raises FormInvalid under ``purpose``."""
    try:
        return _text(raw, "why you need the child's details", MAX_PURPOSE, required=True)
    except _Invalid as error:
        raise FormInvalid({"purpose": str(error)}) from None


def clean_retention_date(raw: Any) -> date:
    """An audit's retention date: a real date; raises FormInvalid under ``retain_until``."""
    try:
        found = _date(raw, "The retention date")
    except _Invalid as error:
        raise FormInvalid({"retain_until": str(error)}, {"retain_until": raw}) from None
    if found is None:
        raise FormInvalid({"retain_until": "Enter the date until which the children's details are kept"})
    return found


def _text(value: Any, what: str, longest: int, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Invalid(f"Enter {what}")
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{_capital(what)} must be text")
    value = value.strip()
    if len(value) > longest:
        raise _Invalid(f"{_capital(what)} must be {longest:,} characters or fewer")
    return value


def _birth_date(value: Any, today: date) -> str:
    found = _date(value, "Date of birth")
    if found is None:
        raise _Invalid("Enter the child's date of birth")
    if found > today:
        raise _Invalid("Date of birth must be today or in the past")
    if found < EARLIEST_BIRTH:
        raise _Invalid(f"Date of birth must be after {EARLIEST_BIRTH.year}")
    return found.isoformat()


def _date(value: Any, what: str) -> date | None:
    """A date from a date or an ISO string (YYYY-MM-DD); None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass  # 2027-02-30 and the like
    raise _Invalid(f"{what} must be a real date, like 2019-03-27")


def _other_ids(value: Any) -> dict[str, str]:
    if value is None or value == {}:
        return {}
    if not isinstance(value, Mapping):
        raise _Invalid("Other identifiers must be pairs of a label and a value, like NHS number: 943 476 5919")
    if len(value) > MAX_OTHER_IDS:
        raise _Invalid(f"Give at most {MAX_OTHER_IDS} other identifiers")
    cleaned = {}
    for label, number in value.items():
        label = _text(label, "each identifier's label", MAX_LABEL, required=True)
        number = _text(number, f"the {label}", MAX_IDENTIFIER, required=True)
        cleaned[label] = number
    return cleaned


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
