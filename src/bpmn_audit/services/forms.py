"""Checking submitted task forms against their ``camunda:formField`` definitions.

Values arrive as strings (HTML forms) or JSON values (the API); they leave typed as the process
expects them: ``long`` as int, ``boolean`` as bool, ``date`` as an ISO date string, ``enum`` as one
of its option ids, ``string`` as text. Every field's problem is reported at once, keyed by field id,
in plain words (never Python's own error text), as a form library would.

Constraints honoured: ``required``; ``min``/``max`` on ``long`` (a default range when the model gives
none); ``minlength``/``maxlength`` and ``pattern`` (a regular expression the whole answer must match, run by
RE2 in linear time) on ``string``. A constraint whose config is not a whole number is a
model error, found at deploy time; here it counts as no bound, so it never breaks a completion.
A ``string`` field with the property ``format`` = ``codes`` holds comma-separated agency codes (or, from the
API, a JSON array of them); one with
``format`` = ``user`` holds a username, which must name an active user (of the group in the field's ``group``
property, when it has one): the caller passes ``find_user`` to look people up, and without it such a field
is refused rather than taken unchecked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import re2

from ..engine.model_values import MAX_PATTERN
from ..engine.views import FormFieldView
from .errors import FormInvalid

TRUE_WORDS = {"true", "on", "yes", "1"}
FALSE_WORDS = {"false", "off", "no", "0", ""}
MAX_TEXT = 20_000
#: the range of a ``long`` field whose model sets no ``min``/``max``
DEFAULT_MIN_LONG = -1_000_000_000
DEFAULT_MAX_LONG = 1_000_000_000
MAX_CODES = 30
MAX_CODE_LENGTH = 100  # the width of the ``agency`` columns the codes end up in
MAX_USERNAME = 200  # the width of the ``users.username`` column

_INTEGER = re.compile(r"-?[0-9]+")  # ASCII only: \d and str.isdigit() also take Arabic-Indic digits and ²
_MAX_DIGITS = 100  # longer numbers (or bounds) are out of any range; int() of thousands of digits is refused
_CODE = re.compile(r"[a-z0-9_-]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Invalid(ValueError):
    """A value is wrong; the message is for the person who entered it."""


class UserLike(Protocol):
    """What a ``format=user`` field needs to know of a person."""

    active: bool
    groups: list[str] | None


#: a username -> the user, or None if there is no such user
FindUser = Callable[[str], UserLike | None]


def clean_form(fields: list[FormFieldView], raw: Mapping[str, Any], *, max_codes: int = MAX_CODES,
               find_user: FindUser | None = None, known_codes: list[str] | None = None,
               case_ids: list[int] | None = None) -> dict[str, Any]:
    """The typed values of ``raw`` for ``fields``; raises FormInvalid with a message per bad field.

    Keys not in the form are ignored, so a form cannot set other process variables. A field that
    is not sent at all (or sent as null) takes its ``defaultValue``; an unticked checkbox (not sent, or empty) is False.
    ``max_codes`` is the most codes a ``format=codes`` field may hold; ``find_user`` looks up the
    username of a ``format=user`` field (without it, such a field is refused); ``known_codes``, when it
    holds any, are the only codes a ``format=codes`` field may name (the partnership's agencies);
    ``case_ids`` the cases of the task's audit, one of which a ``format=case`` field names (none: refused).
    A read-only field (``<camunda:constraint name="readonly"/>``) keeps its default whatever is sent.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for form_field in fields:
        given = None if is_read_only(form_field) else raw.get(form_field.id)
        if given is None:  # not sent, or null, or not to be changed: the model's default
            given = form_field.default
        if isinstance(given, str):
            given = given.strip()
        if form_field.type == "boolean" and given in (None, ""):
            given = False
        try:
            values[form_field.id] = _clean_one(form_field, given,
                                               _Lookups(max_codes, find_user, known_codes, case_ids))
        except _Invalid as error:
            errors[form_field.id] = str(error)
    if errors:
        raise FormInvalid(errors, dict(raw))
    return values


@dataclass(frozen=True)
class _Lookups:
    """What checking a field may need besides its value."""

    max_codes: int
    find_user: FindUser | None
    known_codes: list[str] | None
    case_ids: list[int] | None


def is_read_only(form_field: FormFieldView) -> bool:
    """True for a field the model shows but does not let people change."""
    return "readonly" in form_field.constraints


def _clean_one(form_field: FormFieldView, given: Any, lookups: _Lookups) -> Any:
    """One field's typed value, None when blank; raises _Invalid with the message to show."""
    value = None if given in (None, "") else _convert(form_field, given, lookups)
    if value is None and form_field.required:
        raise _Invalid(f"Enter {_lower_first(_name(form_field))}")
    return value


def _convert(form_field: FormFieldView, value: Any, lookups: _Lookups) -> Any:
    """The typed value of one non-blank answer; raises _Invalid with the message to show."""
    kind = form_field.type
    if kind == "long":
        return _whole_number(form_field, value)
    if kind == "boolean":
        return _yes_or_no(form_field, value)
    if kind == "date":
        return _real_date(form_field, value)
    if kind == "enum":
        return _option(form_field, value)
    if form_field.properties.get("format") == "codes":
        return _codes(form_field, value, lookups.max_codes, lookups.known_codes)
    if form_field.properties.get("format") == "user":
        return _username(form_field, value, lookups.find_user)
    if form_field.properties.get("format") == "case":
        return _case(form_field, value, lookups.case_ids)
    return _text(form_field, value)


def _whole_number(form_field: FormFieldView, value: Any) -> int:
    name = _name(form_field)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = _to_int(value)
    else:
        raise _Invalid(f"{name} must be a whole number, like 4")
    low, high, both_set = _range(form_field, "min", "max", DEFAULT_MIN_LONG, DEFAULT_MAX_LONG)
    if low <= number <= high:
        return number
    if both_set:
        raise _Invalid(f"{name} must be between {low:,} and {high:,}")
    raise _Invalid(f"{name} must be {low:,} or more" if number < low else f"{name} must be {high:,} or fewer")


def _to_int(digits: str) -> int:
    """An ASCII integer; one with more than _MAX_DIGITS significant digits becomes ±10**_MAX_DIGITS."""
    negative = digits.startswith("-")
    significant = digits.lstrip("-").lstrip("0") or "0"
    magnitude = int(significant) if len(significant) <= _MAX_DIGITS else 10 ** _MAX_DIGITS
    return -magnitude if negative else magnitude


def _bound(form_field: FormFieldView, constraint: str) -> int | None:
    """A constraint's config as a whole number; None when absent or not a number (a model error)."""
    config = form_field.constraints.get(constraint)
    if not isinstance(config, str) or not _INTEGER.fullmatch(config.strip()):
        return None
    digits = config.strip()
    return int(digits) if len(digits.lstrip("-").lstrip("0")) <= _MAX_DIGITS else None


def _range(form_field: FormFieldView, low_name: str, high_name: str, default_low: int | None,
           default_high: int | None) -> tuple[Any, Any, bool]:
    """The bounds of a field, each the model's or the default; and whether the model set both."""
    low, high = _bound(form_field, low_name), _bound(form_field, high_name)
    if low is not None and high is not None and low > high:
        low = high = None  # a model error: no bound rather than a field nobody can fill in
    return (default_low if low is None else low, default_high if high is None else high,
            low is not None and high is not None)


def _yes_or_no(form_field: FormFieldView, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = value.lower() if isinstance(value, str) else None
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise _Invalid(f"{_name(form_field)} must be yes or no")
    return word in TRUE_WORDS


def _real_date(form_field: FormFieldView, value: Any) -> str:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass  # 2027-02-30 and the like
    raise _Invalid(f"{_name(form_field)} must be a real date, like 2027-03-31")


def _option(form_field: FormFieldView, value: Any) -> str:
    if isinstance(value, str) and value in {option_id for option_id, _ in form_field.options}:
        return value
    names = ", ".join(name for _, name in form_field.options)
    raise _Invalid(f"Choose one of: {names}" if names else f"{_name(form_field)} has no options to choose from")


def _text(form_field: FormFieldView, value: Any) -> str:
    name = _name(form_field)
    if not isinstance(value, str):
        raise _Invalid(f"{name} must be text")
    shortest, longest, _ = _range(form_field, "minlength", "maxlength", None, MAX_TEXT)
    if longest is not None and len(value) > longest:
        raise _Invalid(f"{name} must be {longest:,} characters or fewer")
    if shortest is not None and len(value) < shortest:
        raise _Invalid(f"{name} must be {shortest:,} characters or more")
    pattern = compiled_pattern(form_field.constraints.get("pattern"))
    if pattern is not None and not pattern.fullmatch(value):
        example = form_field.properties.get("hint")
        raise _Invalid(f"{name} must look like this: {example}" if example else f"{name} is not in the form asked for")
    return value


@functools.lru_cache(maxsize=256)
def compiled_pattern(pattern: str | None) -> Any:
    """A ``pattern`` constraint's regular expression in RE2, or None (none given, too long, or one RE2 cannot
    run: a model error, refused at deploy; here it counts as no pattern)."""
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN:
        return None
    try:
        return re2.compile(pattern)
    except re2.error:
        return None


def _codes(form_field: FormFieldView, value: Any, max_codes: int, known: list[str] | None) -> str | None:
    """Comma-separated agency codes, lower-cased and stripped, each at most once; None if there are none."""
    name = _name(form_field)
    if isinstance(value, list):  # the API's form: a JSON array of codes
        if len(value) > max_codes or not all(isinstance(code, str) for code in value):
            raise _Invalid(f"{name} must be a list of at most {max_codes:,} codes")
        value = ",".join(value)
    codes = [part.strip().lower() for part in _text(form_field, value).replace("\n", ",").split(",")
             if part.strip()]
    if len(codes) > max_codes:
        raise _Invalid(f"{name} must have {max_codes:,} codes or fewer")
    for code in codes:
        if len(code) > MAX_CODE_LENGTH:
            raise _Invalid(f"Each code in {_lower_first(name)} must be {MAX_CODE_LENGTH} characters or fewer")
        if not _CODE.fullmatch(code):
            raise _Invalid(f"{name} must be codes made of letters, digits, _ or -, separated by commas, "
                           "like police, csc")
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            times = codes.count(code)
            raise _Invalid(f"{code} is listed twice" if times == 2 else f"{code} is listed {times} times")
        seen.add(code)
    unknown = [code for code in codes if known and code not in known]
    if unknown:
        raise _Invalid(f"{unknown[0]} is not one of the partnership's agencies: choose from "
                       f"{', '.join(known[:MAX_CODES])}")
    return ", ".join(codes) or None


def _case(form_field: FormFieldView, value: Any, case_ids: list[int] | None) -> int:
    """A case of the task's audit, by its id (a whole number, or its text)."""
    number = value if isinstance(value, int) and not isinstance(value, bool) else \
        int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12 else None
    if number is None or number not in (case_ids or []):
        raise _Invalid(f"Choose one of the audit's cases for {_lower_first(_name(form_field))}")
    return number


def _username(form_field: FormFieldView, value: Any, find_user: FindUser | None) -> str:
    """The username of an active user (in the field's ``group``, when it names one)."""
    name = _name(form_field)
    if find_user is None:
        raise _Invalid(f"{name} cannot be checked here: the form was given no way to look people up")
    username = _text(form_field, value)
    group = (form_field.properties.get("group") or "").strip()
    someone = f"someone in the {group} group" if group else "someone who uses the app"
    user = find_user(username) if len(username) <= MAX_USERNAME else None
    if user is None or not user.active or (group and group not in (user.groups or [])):
        raise _Invalid(f"{name} must be the username of {someone}, like jo.bloggs")
    return username


def _name(form_field: FormFieldView) -> str:
    """What messages call a field: its label without a trailing "(...)" hint, else its id."""
    label = (form_field.label or "").strip()
    if label.endswith(")") and " (" in label:
        label = label[:label.rindex(" (")].strip()
    return label or (form_field.id or "").strip() or "This field"


def _lower_first(name: str) -> str:
    """``Audit title`` -> ``audit title``, for "Enter ..."; ``ICB contact`` and ``QiiP decision`` stay."""
    first_word = name.split(" ", 1)[0]
    if first_word[1:] != first_word[1:].lower():
        return name
    return name[:1].lower() + name[1:]


#: text with no spaces at either end (which the checks strip before measuring it)
_TRIMMED = r"^\S([\s\S]*\S)?$"
#: the most usernames a ``format=user`` field's schema lists as its choices
MAX_PEOPLE_LISTED = 500


def json_schema(fields: list[FormFieldView], people_in: Callable[[str], list[str]] | None = None,
                agency_codes: list[str] | None = None, case_ids: list[int] | None = None) -> dict[str, Any]:
    """The data completing a form takes, as a JSON Schema (draft 2020-12): the same rules as
    :func:`clean_form`, so data valid against it is accepted (keys outside it are ignored).

    ``people_in(group)`` lists the usernames a ``format=user`` field of that group may name; ``agency_codes``
    (when it holds any) the codes a ``format=codes`` field may; ``case_ids`` the cases a ``format=case`` field
    may. A read-only field is marked ``readOnly`` and never required: whatever is sent for it is ignored.
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for form_field in fields:
        schema = _field_schema(form_field, people_in, agency_codes, case_ids)
        schema["title"] = _name(form_field)
        if form_field.default not in (None, ""):
            schema["default"] = form_field.default
        if is_read_only(form_field):
            schema["readOnly"] = True
        elif form_field.required and form_field.default in (None, "") and form_field.type != "boolean":
            required.append(form_field.id)
        else:
            schema = {"anyOf": [schema, {"type": "null"}], "title": schema["title"]} | (
                {"default": schema["default"]} if "default" in schema else {})
        properties[form_field.id] = schema
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": properties, "required": required}


def _field_schema(form_field: FormFieldView, people_in: Callable[[str], list[str]] | None,
                  agency_codes: list[str] | None, case_ids: list[int] | None) -> dict[str, Any]:
    kind = form_field.type
    if kind == "long":
        low, high, _ = _range(form_field, "min", "max", DEFAULT_MIN_LONG, DEFAULT_MAX_LONG)
        return {"type": "integer", "minimum": low, "maximum": high}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "date":
        return {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    if kind == "enum":
        return {"type": "string", "oneOf": [{"const": option_id, "title": name}
                                            for option_id, name in form_field.options]}
    shortest, longest, _ = _range(form_field, "minlength", "maxlength", None, MAX_TEXT)
    text: dict[str, Any] = {"type": "string", "maxLength": longest, "minLength": max(shortest or 0, 1)}
    if form_field.properties.get("format") == "case":
        return {"enum": list(case_ids or [])}
    if form_field.properties.get("format") == "codes":
        code = {"enum": agency_codes} if agency_codes else {
            "type": "string", "pattern": f"^[a-z0-9_-]{{1,{MAX_CODE_LENGTH}}}$"}
        return {"type": "array", "uniqueItems": True, "minItems": 1, "maxItems": MAX_CODES, "items": code}
    if form_field.properties.get("format") != "user":
        text["pattern"] = _TRIMMED  # the checks strip spaces first: a blank answer is no answer
        if compiled_pattern(form_field.constraints.get("pattern")) is not None:
            text["allOf"] = [{"pattern": f"^(?:{form_field.constraints['pattern']})$"}]
    else:
        text["maxLength"] = min(longest, MAX_USERNAME)
        group = (form_field.properties.get("group") or "").strip()
        if group and people_in is not None:
            text["enum"] = people_in(group)[:MAX_PEOPLE_LISTED]
    return text
