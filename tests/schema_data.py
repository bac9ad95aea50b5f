"""Test helper: Hypothesis strategies for data valid against a JSON Schema, for the subset the API's task
schemas use (object, array with prefixItems and uniqueItems, string with length, pattern and the date
format, integer with bounds, boolean, null, const, enum, oneOf and anyOf). hypothesis-jsonschema would be
the library for this, but its 0.23 release does not run on current Hypothesis.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from hypothesis import strategies as st

#: text people type: no control characters, no surrogates
_TYPED = st.characters(exclude_categories=["Cc", "Cs"])


def from_schema(schema: dict[str, Any] | bool) -> st.SearchStrategy:
    """A strategy of values valid against ``schema``."""
    if schema is True or schema == {}:
        return st.none() | st.booleans() | st.integers() | st.text(_TYPED, max_size=20)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) if schema["enum"] else st.nothing()
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([from_schema(option) for option in schema[key]])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema)
    if kind == "array":
        return _array(schema)
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise ValueError(f"schema_data cannot make data for {schema}")


def _object(schema: dict[str, Any]) -> st.SearchStrategy:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries({key: from_schema(value) for key, value in properties.items() if key in required},
                                 optional={key: from_schema(value) for key, value in properties.items()
                                           if key not in required})


def _array(schema: dict[str, Any]) -> st.SearchStrategy:
    prefix = [from_schema(item) for item in schema.get("prefixItems", [])]
    if prefix:
        return st.tuples(*prefix).map(list)
    low, high = schema.get("minItems", 0), min(schema.get("maxItems", 3), 3)
    unique = {"unique_by": lambda item: json.dumps(item, sort_keys=True)} if schema.get("uniqueItems") else {}
    return st.lists(from_schema(schema.get("items", {})), min_size=min(low, high), max_size=high, **unique)


def _string(schema: dict[str, Any]) -> st.SearchStrategy:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
    if schema.get("format") == "date":  # real dates, which the pattern may narrow
        pattern = re.compile(schema.get("pattern", ".*"))
        return st.dates(date(1900, 1, 1), date(2099, 12, 31)).map(date.isoformat).filter(pattern.search)
    if "pattern" in schema:
        pattern = schema["pattern"]
        texts = st.from_regex(pattern, fullmatch=True, alphabet=_TYPED)
    else:
        texts = st.text(_TYPED, min_size=low, max_size=min(high, 40))
    return texts.filter(lambda text: low <= len(text) <= high)
