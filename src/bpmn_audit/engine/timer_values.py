"""What a timer's value may be: an ISO 8601 date or duration, no further ahead than the horizon.

Used at deploy (for literal timers) and at run time (for every timer value an expression gives),
so a timer set a million years ahead is refused before SpiffWorkflow computes it: its duration
arithmetic walks month by month, and ``P99999999Y`` would hang the engine.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

#: Days in each unit of an ISO 8601 duration, rounded up: enough for a horizon check, with no calendar loop.
DAYS_PER_UNIT = {"years": 366, "months": 31, "weeks": 7, "days": 1, "hours": 1 / 24, "minutes": 1 / 1440,
                 "seconds": 1 / 86400}
EXAMPLES = "a date like 2027-01-31T17:00:00Z or a duration like P14D"
_NUMBER = r"[\d.,]+"
_DURATION = re.compile(rf"P(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?(?:(?P<weeks>{_NUMBER})W)?"
                       rf"(?:(?P<days>{_NUMBER})D)?(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?"
                       rf"(?:(?P<seconds>{_NUMBER})S)?)?", re.IGNORECASE)


def duration_days(text: str) -> float | None:
    """About how many days an ISO 8601 duration lasts (a year as 366 days, a month as 31), or None if not one."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return sum(float(value.replace(",", ".")) * DAYS_PER_UNIT[unit]
                   for unit, value in match.groupdict().items() if value)
    except ValueError:
        return None


def timer_value_problem(value: Any, horizon_days: int, now: datetime | None = None) -> str | None:
    """Why ``value`` cannot be a timer's value (a phrase to follow "the timer ..."), or None if it can."""
    if not isinstance(value, str) or not value.strip():
        return f"gave {value!r:.60}, not {EXAMPLES}"
    text = value.strip()
    years = horizon_days // 365
    if text.upper().startswith("R"):
        return f"gave {text!r:.60}, a repeating cycle, which is not supported: use {EXAMPLES}"
    if text.upper().startswith("P"):
        days = duration_days(text)
        if days is not None and days > horizon_days:
            return f"waits {text!r:.60}, beyond the {years}-year horizon timers may be set to"
    try:
        parsed = TimerEventDefinition.parse_time_or_duration(text)  # parses only: no calendar arithmetic
    except Exception:  # SpiffWorkflow raises bare Exception, ValueError or AttributeError here
        return f"gave {text!r:.60}, which is not {EXAMPLES}"
    if isinstance(parsed, datetime) and (parsed - (now or datetime.now(UTC))).days > horizon_days:
        return f"is set for {text!r:.60}, beyond the {years}-year horizon timers may be set to"
    return None
