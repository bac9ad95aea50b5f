"""Working-day calendar for audit deadlines: weekends and bank holidays are not working days.

The bank holidays are England's unless the partnership is elsewhere in the UK (``BANK_HOLIDAYS``: england,
scotland, wales or northern-ireland, set once per process by ``use_region`` when the app is made), from
the maintained ``holidays`` library.

Phases are counted in working days (DOMAIN.md, issue 6): a week is five working days, and each phase
ends 5 × its weeks working days after the previous phase ends, so a bank holiday inside a phase gives
the phase that day back. Deadlines fall at 17:00 and reminders at 09:00, Europe/London time; working
hours are 09:00-17:00. Moments are returned as ISO 8601 UTC strings so that process data stays JSON
and timers can read them. The functions scripts may call bound their own work, as they run outside
the sandbox's budget.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
DEADLINE_TIME = time(17, 0)
REMINDER_TIME = time(9, 0)
WORKDAY_START = time(9, 0)
WORKDAY_END = time(17, 0)
REMINDER_WORKING_DAYS = 3
WORKING_DAYS_PER_WEEK = 5
#: the reading week: practitioners get a full working week from the agency reports' deadline
READING_WORKING_DAYS = 5
PHASES = ("notice", "audit", "review", "analysis", "qa")
#: the longest a phase may last (a year): longer is a typing mistake, and its timers would be years away
MAX_PHASE_WEEKS = 52
#: the most working days and working hours a script may count forward
MAX_WORKING_DAYS = 365
MAX_WORKING_HOURS = 100


#: the UK's bank holiday calendars, by setting, as the ``holidays`` library names their subdivisions
REGIONS = {"england": "ENG", "scotland": "SCT", "wales": "WLS", "northern-ireland": "NIR"}
_region = "england"


def use_region(region: str) -> None:
    """Count working days with ``region``'s bank holidays from now on; a ValueError names the choices."""
    global _region
    if region not in REGIONS:
        raise ValueError(f"BANK_HOLIDAYS must be one of {', '.join(REGIONS)}, not {str(region)[:40]!r}")
    _region = region


@lru_cache(maxsize=len(REGIONS))
def _bank_holidays(region: str) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=REGIONS[region], years=range(2000, 2101))


def is_working_day(day: date) -> bool:
    """True unless ``day`` is a Saturday, a Sunday or a bank holiday where the partnership is."""
    return day.weekday() < 5 and day not in _bank_holidays(_region)


def roll_forward(day: date) -> date:
    """``day`` itself if it is a working day, else the next working day."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (for 0, ``day`` rolled forward to a working day)."""
    if count == 0:
        return roll_forward(day)
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
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


def to_london(value: date | datetime | str) -> datetime:
    """A date, a datetime or an ISO string as a London datetime (a date is its midnight; naive is London time)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    else:
        moment = datetime.fromisoformat(str(value).strip())
    return moment.astimezone(LONDON) if moment.tzinfo else moment.replace(tzinfo=LONDON)


def to_date(value: date | datetime | str) -> date:
    """Accept a date, a datetime or an ISO string (as forms and process data hold them): its London date."""
    return to_london(value).date()


def _shown(value: object) -> str:
    return str(value)[:40]


def _number_within(value: object, low: int, high: int, whole: bool = True) -> float | None:
    """``value`` as a number from ``low`` to ``high`` (whole if ``whole``), or None if it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not low <= number <= high or (whole and number != math.floor(number)):
        return None
    return int(number) if whole else number


def _moment(value: date | datetime | str) -> datetime:
    """``value`` as a London datetime, or a ValueError a process owner can read."""
    try:
        return to_london(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"'{_shown(value)}' is not a date or a date-time like 2027-03-31T10:00:00Z") from None


def _phase_weeks(weeks: tuple) -> dict[str, int]:
    """Each phase's weeks, checked to be whole numbers from 1 to MAX_PHASE_WEEKS."""
    checked = {}
    for phase, value in zip(PHASES, weeks, strict=True):
        count = _number_within(value, 1, MAX_PHASE_WEEKS)
        if count is None:
            raise ValueError(f"the {phase} phase must last from 1 to {MAX_PHASE_WEEKS} weeks, not {_shown(value)}")
        checked[phase] = int(count)
    return checked


def plan_deadlines(launch_date: date | str, notice_weeks: int, audit_weeks: int, review_weeks: int,
                   analysis_weeks: int, qa_weeks: int) -> dict[str, str]:
    """Every deadline of an audit launched on ``launch_date``, given each phase's length in weeks.

    Each phase lasts 5 × its weeks working days, counted from the end of the previous phase (the
    notice phase from the launch date), so every bank holiday inside a phase moves that phase's
    deadline, and every later one, by a working day. Reminders fall 3 working days before their
    deadlines. The reading week ends 5 working days after the agency reports are due (what
    ``working_days_after(deadlines['audit_due'], 5)`` gives), never after the event deadline.
    ``share_due`` is when the reports are shared at the latest: the agency audit deadline of the whole
    audit, which stays put when one agency is given more time (its own ``audit_due`` moves).
    """
    launch = to_date(launch_date)
    weeks = _phase_weeks((notice_weeks, audit_weeks, review_weeks, analysis_weeks, qa_weeks))
    ends: dict[str, date] = {}
    previous = launch
    for phase in PHASES:
        previous = ends[phase] = add_working_days(previous, WORKING_DAYS_PER_WEEK * weeks[phase])
    reading_ends = min(add_working_days(ends["audit"], READING_WORKING_DAYS), ends["review"])
    return {
        "launch": at_london_time(launch, REMINDER_TIME),
        "notice_reminder": at_london_time(working_days_before(ends["notice"], REMINDER_WORKING_DAYS),
                                          REMINDER_TIME),
        "notice_due": at_london_time(ends["notice"], DEADLINE_TIME),
        "audit_reminder": at_london_time(working_days_before(ends["audit"], REMINDER_WORKING_DAYS),
                                         REMINDER_TIME),
        "audit_due": at_london_time(ends["audit"], DEADLINE_TIME),
        "share_due": at_london_time(ends["audit"], DEADLINE_TIME),
        "reading_due": at_london_time(reading_ends, DEADLINE_TIME),
        "event_due": at_london_time(ends["review"], DEADLINE_TIME),
        "analysis_reminder": at_london_time(working_days_before(ends["analysis"], REMINDER_WORKING_DAYS),
                                            REMINDER_TIME),
        "analysis_due": at_london_time(ends["analysis"], DEADLINE_TIME),
        "signoff_due": at_london_time(ends["qa"], DEADLINE_TIME),
    }


def working_days_after(moment: date | datetime | str, days: int) -> str:
    """17:00 London on the ``days``-th working day after the London date of ``moment``, as ISO UTC."""
    count = _number_within(days, 0, MAX_WORKING_DAYS)
    if count is None:
        raise ValueError(f"the number of working days must be a whole number from 0 to {MAX_WORKING_DAYS}, "
                         f"not {_shown(days)}")
    return at_london_time(add_working_days(_moment(moment).date(), int(count)), DEADLINE_TIME)


def working_days_from_now(days: int) -> str:
    """17:00 London on the ``days``-th working day after today (London), as ISO UTC: reads the clock."""
    return working_days_after(datetime.now(UTC), days)


def is_past(moment: date | datetime | str) -> bool:
    """True once ``moment`` (an ISO date-time, read as London time without an offset) has passed: reads the clock."""
    return _moment(moment) < datetime.now(UTC)


def same_working_day_deadline(moment: date | datetime | str) -> str:
    """17:00 London on the day of ``moment`` if it is a working day before 17:00, else on the next working day."""
    local = _moment(moment)
    day = local.date()
    if not (is_working_day(day) and local.time() < DEADLINE_TIME):
        day = add_working_days(day, 1)
    return at_london_time(day, DEADLINE_TIME)


def _working_from(local: datetime) -> datetime:
    """Naive London time ``local`` if it is within working hours, else the start of the next working hours."""
    day = local.date()
    if is_working_day(day) and local.time() < WORKDAY_END:
        return max(local, datetime.combine(day, WORKDAY_START))
    return datetime.combine(add_working_days(day, 1), WORKDAY_START)


def working_hours_after(moment: date | datetime | str, hours: float) -> str:
    """The moment ``hours`` working hours (09:00-17:00 London, working days) after ``moment``, as ISO UTC."""
    count = _number_within(hours, 0, MAX_WORKING_HOURS, whole=False)
    if count is None:
        raise ValueError(f"the number of working hours must be from 0 to {MAX_WORKING_HOURS}, not {_shown(hours)}")
    remaining = timedelta(hours=count)
    # wall-clock arithmetic is safe: the clocks change at night, outside working hours
    local = _working_from(_moment(moment).replace(tzinfo=None))
    while remaining > (left_today := datetime.combine(local.date(), WORKDAY_END) - local):
        remaining -= left_today
        local = datetime.combine(add_working_days(local.date(), 1), WORKDAY_START)
    return (local + remaining).replace(tzinfo=LONDON).astimezone(UTC).isoformat()
