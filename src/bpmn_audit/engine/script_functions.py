"""The functions a BPMN script or expression may call, beyond the sandbox's safe builtins.

Each is plain, side-effect free and documented for process owners in docs/process-owners-guide.md.
"""

from __future__ import annotations

from datetime import date

from .calendar import plan_deadlines, same_working_day_deadline, working_days_after, working_hours_after

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


def parse_actions(text: str | list | None) -> list[dict]:
    """Turn lines of ``action | review type | owner agency | due date`` into action-tracker rows.

    Raises ValueError naming the line for an unknown review type, a missing part or a bad date.
    """
    if isinstance(text, list):
        return text
    actions = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 4 or not all(parts):
            raise ValueError(f"action line {number}: write 'action | review type | owner agency | due date'")
        action, review_type, owner, due = parts
        if review_type.lower() not in REVIEW_TYPES:
            known = ", ".join(sorted(set(REVIEW_TYPES.values())))
            raise ValueError(f"action line {number}: review type '{review_type}' is not one of {known}")
        try:
            due_date = date.fromisoformat(due)
        except ValueError:
            raise ValueError(f"action line {number}: due date '{due}' is not a date like 2027-03-31") from None
        actions.append({"action": action, "review_type": REVIEW_TYPES[review_type.lower()],
                        "owner_agency": owner, "due_date": due_date.isoformat()})
    if not actions:
        raise ValueError("record at least one action")
    return actions


SCRIPT_FUNCTIONS = {
    "split_list": split_list,
    "case_pseudonyms": case_pseudonyms,
    "parse_actions": parse_actions,
    "plan_deadlines": plan_deadlines,
    "working_days_after": working_days_after,
    "same_working_day_deadline": same_working_day_deadline,
    "working_hours_after": working_hours_after,
}
