"""The functions a BPMN script or expression may call, beyond the sandbox's safe builtins.

Each is plain, side-effect free and documented for process owners in docs/process-owners-guide.md.
"""

from __future__ import annotations

from datetime import date

from .calendar import (
    is_past,
    plan_deadlines,
    same_working_day_deadline,
    working_days_after,
    working_days_from_now,
    working_hours_after,
)

#: the most cases one audit may nominate
MAX_CASES = 100
REVIEW_TYPES = {
    "macfa": "MACFA",
    "scr": "SCR",
    "rapid review": "Rapid Review",
    "lcspr": "LCSPR",
    "national": "National review",
    "national review": "National review",
}


def split_list(text: str | list | None) -> list[str]:
    """``"police, health ,csc"`` -> ``["police", "health", "csc"]``; a list is returned as it is."""
    if text is None:
        return []
    if isinstance(text, list):
        return text
    return [part.strip() for part in str(text).replace("\n", ",").split(",") if part.strip()]


def case_pseudonyms(count: int) -> list[str]:
    """Pseudonyms for ``count`` nominated cases: Child A ... Child Z, Child AA, Child AB, ...

    At most MAX_CASES: these functions run outside the sandbox's budget, so each bounds its own work.
    """
    if not 0 <= int(count) <= MAX_CASES:
        raise ValueError(f"the number of cases must be from 0 to {MAX_CASES}, not {count}")
    names = []
    for index in range(int(count)):
        label, n = "", index
        while n >= 0:
            label = chr(ord("A") + n % 26) + label
            n = n // 26 - 1
        names.append(f"Child {label}")
    return names


ACTION_LINE = "action | source finding | review type | owner agency | owner person | due date"
#: the most actions one audit may place on the tracker, and the longest part of a line
MAX_ACTIONS, MAX_ACTION_PART = 100, 2000


def parse_actions(text: str | list | None) -> list[dict]:
    """Turn lines of ``action | source finding | review type | owner agency | owner person | due date`` into
    action-tracker rows (the older four-part ``action | review type | owner agency | due date`` is still read).

    Raises ValueError naming the line for an unknown review type, a missing part or a bad date.
    """
    if isinstance(text, list):
        return text
    actions = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if line.strip():
            actions.append(_action(number, [part.strip() for part in line.split("|")]))
    if not actions:
        raise ValueError("record at least one action")
    if len(actions) > MAX_ACTIONS:
        raise ValueError(f"record at most {MAX_ACTIONS} actions, not {len(actions)}")
    return actions


def _action(number: int, parts: list[str]) -> dict:
    if len(parts) == 4:
        parts = [parts[0], "", parts[1], parts[2], "", parts[3]]
    if len(parts) != 6 or not all(parts[i] for i in (0, 2, 3, 5)):
        raise ValueError(f"action line {number}: write '{ACTION_LINE}' (the finding and the person may be blank)")
    if any(len(part) > MAX_ACTION_PART for part in parts):
        raise ValueError(f"action line {number}: keep each part to {MAX_ACTION_PART:,} characters")
    action, finding, review_type, owner, person, due = parts
    if review_type.lower() not in REVIEW_TYPES:
        known = ", ".join(sorted(set(REVIEW_TYPES.values())))
        raise ValueError(f"action line {number}: review type '{review_type}' is not one of {known}")
    try:
        due_date = date.fromisoformat(due)
    except ValueError:
        raise ValueError(f"action line {number}: due date '{due}' is not a date like 2027-03-31") from None
    return {"action": action, "source_finding": finding or None, "review_type": REVIEW_TYPES[review_type.lower()],
            "owner_agency": owner, "owner_person": person or None, "due_date": due_date.isoformat()}


SCRIPT_FUNCTIONS = {
    "split_list": split_list,
    "case_pseudonyms": case_pseudonyms,
    "parse_actions": parse_actions,
    "plan_deadlines": plan_deadlines,
    "working_days_after": working_days_after,
    "working_days_from_now": working_days_from_now,
    "is_past": is_past,
    "same_working_day_deadline": same_working_day_deadline,
    "working_hours_after": working_hours_after,
}
