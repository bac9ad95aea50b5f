"""Working-day calendar for audit deadlines: weekends and bank holidays in England roll forward.

Deadlines are real dates (DOMAIN.md): a phase that ends on a Saturday or on a bank holiday ends on
the next working day instead. Deadlines fall at 17:00 and reminders at 09:00, Europe/London time,
and are returned as ISO 8601 UTC strings so that process data stays JSON and timers can read them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
DEADLINE_TIME = time(17, 0)
REMINDER_TIME = time(9, 0)
REMINDER_WORKING_DAYS = 3
PHASES = ("notice", "audit", "review", "analysis", "qa")


@lru_cache(maxsize=1)
def _england_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=range(2000, 2101))


def is_working_day(day: date) -> bool:
    """True unless ``day`` is a Saturday, a Sunday or a bank holiday in England."""
    return day.weekday() < 5 and day not in _england_holidays()


def roll_forward(day: date) -> date:
    """``day`` itself if it is a working day, else the next working day."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_days_before(day: date, count: int) -> date:
    """The working day ``count`` working days before ``day``."""
    while count > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def at_london_time(day: date, at: time) -> str:
    """``day`` at wall-clock time ``at`` in London, as an ISO 8601 UTC string."""
    local = datetime.combine(day, at, tzinfo=LONDON)
    return local.astimezone(UTC).isoformat()


def to_date(value: date | datetime | str) -> date:
    """Accept a date, a datetime or an ISO string (as forms and process data hold them)."""
    if isinstance(value, datetime):
        return value.astimezone(LONDON).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if "T" in text:
        return to_date(datetime.fromisoformat(text.replace("Z", "+00:00")))
    return date.fromisoformat(text)


#: the longest a phase may last (a year): longer is a typing mistake, and its timers would be years away
MAX_PHASE_WEEKS = 52


def plan_deadlines(launch_date: date | str, notice_weeks: int, audit_weeks: int, review_weeks: int,
                   analysis_weeks: int, qa_weeks: int) -> dict[str, str]:
    """Every deadline of an audit launched on ``launch_date``, given each phase's length in weeks.

    Each phase ends a whole number of calendar weeks after launch, counted from the launch date
    (not from the previous, possibly rolled, deadline), then rolled forward to a working day. The
    agencies' reminder and the chair's reminder fall a few working days before their deadlines;
    the reading week ends one week after the agency reports are due.
    """
    launch = to_date(launch_date)
    weeks = dict(zip(PHASES, (notice_weeks, audit_weeks, review_weeks, analysis_weeks, qa_weeks), strict=True))
    for phase, value in weeks.items():
        if not 1 <= int(value) <= MAX_PHASE_WEEKS:
            raise ValueError(f"the {phase} phase must last from 1 to {MAX_PHASE_WEEKS} weeks, not {value}")
    ends: dict[str, date] = {}
    elapsed = 0
    for phase in PHASES:
        elapsed += int(weeks[phase])
        ends[phase] = roll_forward(launch + timedelta(weeks=elapsed))
    reading_ends = min(roll_forward(ends["audit"] + timedelta(weeks=1)), ends["review"])
    return {
        "launch": at_london_time(launch, REMINDER_TIME),
        "notice_due": at_london_time(ends["notice"], DEADLINE_TIME),
        "audit_reminder": at_london_time(working_days_before(ends["audit"], REMINDER_WORKING_DAYS),
                                         REMINDER_TIME),
        "audit_due": at_london_time(ends["audit"], DEADLINE_TIME),
        "reading_due": at_london_time(reading_ends, DEADLINE_TIME),
        "event_due": at_london_time(ends["review"], DEADLINE_TIME),
        "analysis_reminder": at_london_time(working_days_before(ends["analysis"], REMINDER_WORKING_DAYS),
                                            REMINDER_TIME),
        "analysis_due": at_london_time(ends["analysis"], DEADLINE_TIME),
        "signoff_due": at_london_time(ends["qa"], DEADLINE_TIME),
    }
