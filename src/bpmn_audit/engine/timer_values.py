"""What a timer's value may be: an ISO 8601 date or duration, no further ahead than the horizon.

Used at deploy (for literal timers) and at run time (for every timer value an expression gives),
so a timer set a million years ahead is refused before SpiffWorkflow computes it: its duration
arithmetic walks month by month, and ``P99999999Y`` would hang the engine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

#: days per unit, generous, for a horizon check (never for the due time itself)
_DAYS_PER = {"years": 366, "months": 31, "weeks": 7, "days": 1, "hours": 1 / 24, "minutes": 1 / 1440,
             "seconds": 1 / 86400}
EXAMPLES = "a date like 2027-01-31T17:00:00Z or a duration like P14D"


def duration_days(parsed: dict[str, float]) -> float:
    """Roughly how many days a parsed ISO 8601 duration spans (at least its true length)."""
    return sum(_DAYS_PER[unit] * amount for unit, amount in parsed.items() if unit in _DAYS_PER)


def timer_value_problem(value: Any, horizon_days: int, now: datetime | None = None) -> str | None:
    """Why ``value`` cannot be a timer's value (a phrase to follow "the timer ..."), or None if it can."""
    if not isinstance(value, str) or not value.strip():
        return f"gave {value!r:.60}, not {EXAMPLES}"
    text = value.strip()
    years = horizon_days // 365
    if text.upper().startswith("R"):
        return f"gave {text!r:.60}, a repeating cycle, which is not supported: use {EXAMPLES}"
    try:
        parsed = TimerEventDefinition.parse_time_or_duration(text) if not text.upper().startswith("P") \
            else TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # SpiffWorkflow raises bare Exception, ValueError or AttributeError here
        return f"gave {text!r:.60}, which is not {EXAMPLES}"
    if isinstance(parsed, dict):
        if duration_days(parsed) > horizon_days:
            return f"waits {text!r:.60}, beyond the {years}-year horizon timers may be set to"
        return None
    now = now or datetime.now(UTC)
    if (parsed - now).days > horizon_days:
        return f"is set for {text!r:.60}, beyond the {years}-year horizon timers may be set to"
    return None
