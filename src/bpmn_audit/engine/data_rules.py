"""Process data is data: JSON types only, bounded in size and depth, with no cycles.

Checked after every script and decision (and on data given at start), so that nothing a model
computes can make an audit unsaveable or unloadable: a generator, a ``zip``, a set, bytes, a
complex number, a 5,000-digit integer, a list that contains itself, 100,000 levels of nesting.
The walk is iterative, so it cannot itself run out of stack, and it stops at the first problem.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import EngineError
from .limits import MAX_DATA_INT, EngineLimits

_TYPE_WORDS: dict[type, str] = {
    set: "a set (use a list)", frozenset: "a set (use a list)", tuple: "a tuple (use a list)",
    bytes: "bytes (use text)", bytearray: "bytes (use text)", complex: "a complex number",
    range: "a range (use list(range(...)))", zip: "a zip (use list(zip(...)))", map: "a map (use a list)",
    filter: "a filter (use a list)", enumerate: "an enumerate (use a list)", reversed: "a reversed (use a list)",
}


class DataRuleError(EngineError):
    """Process data broke a rule; ``variable`` names the top-level variable that holds the bad value."""

    def __init__(self, variable: str, reason: str):
        super().__init__(f"the variable '{variable}' {reason}")
        self.variable = variable


def _describe(value: Any) -> str:
    for kind, words in _TYPE_WORDS.items():
        if isinstance(value, kind):
            return words
    if callable(value):
        return "a function"
    if hasattr(value, "__next__") or hasattr(value, "gi_code"):
        return "a generator or iterator (use a list)"
    return f"a value of a kind process data cannot hold ({type(value).__name__})"


def _scalar_size(value: Any) -> int | str:
    """The JSON size of a scalar, or the reason it is not allowed."""
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return len(str(value)) if -MAX_DATA_INT - 1 <= value <= MAX_DATA_INT else \
            f"holds a whole number beyond the {MAX_DATA_INT:,} allowed"
    if isinstance(value, float):
        return 24 if math.isfinite(value) else "holds a number that is not finite (infinity or NaN)"
    if isinstance(value, str):
        return len(value) + 2
    return f"holds {_describe(value)}"


def check_data(data: dict[str, Any], limits: EngineLimits, names: set[str] | None = None) -> None:
    """Raise DataRuleError naming the first variable of ``data`` (or of ``names`` only) that breaks a rule."""
    total = 0
    for variable in sorted(names if names is not None else data):
        if variable not in data:
            continue
        total += _check_value(variable, data[variable], limits, limits.data_bytes - total) + len(variable) + 4
        if total > limits.data_bytes:
            raise DataRuleError(variable, f"brings the audit's process data to more than {limits.data_bytes:,} "
                                          "bytes; keep documents and long lists out of process data")


def _check_value(variable: str, value: Any, limits: EngineLimits, room: int) -> int:
    """The JSON size of ``value``; raise DataRuleError for anything data cannot hold."""
    size = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    open_containers: set[int] = set()
    while stack:
        item, depth = stack.pop()
        if item is _CLOSE:
            open_containers.discard(depth)
            continue
        if isinstance(item, dict | list):
            if depth > limits.data_depth:
                raise DataRuleError(variable, f"nests lists or dicts more than {limits.data_depth} levels deep")
            if id(item) in open_containers:
                raise DataRuleError(variable, "contains itself (a list or dict inside itself)")
            open_containers.add(id(item))
            stack.append((_CLOSE, id(item)))
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise DataRuleError(variable, f"has a dict key that is not text ({key!r:.40})")
                    size += len(key) + 4
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
            size += 2
        else:
            scalar = _scalar_size(item)
            if isinstance(scalar, str):
                raise DataRuleError(variable, scalar)
            size += scalar + 1
        if size > room:
            raise DataRuleError(variable, f"brings the audit's process data to more than {limits.data_bytes:,} "
                                          "bytes; keep documents and long lists out of process data")
    return size


_CLOSE = object()  # marks, on the walk's stack, the end of a container's children
