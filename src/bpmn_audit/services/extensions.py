"""Deadline extensions: the Business Unit gives one agency, or the whole audit, more time, with a reason.

An audit's deadlines live in its process data (``deadlines``, planned at set-up by ``plan_deadlines``), and
its timers and due dates read them. An extension writes the new dates through the adapter's ``set_data``,
which re-arms every waiting timer that reads them: the reminder and the escalation follow the new date, and
the old ones never fire. For one agency only that agency's work moves (its reminder, its escalation, its
task's due date); for the whole audit the later deadlines, and the practitioner event if it is still to
come, can move by the same number of working days. The history says who moved what, from when to when,
and why; the people affected are told (the reason stays in the history: it is free text, and no free text
goes into an email).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ..engine.calendar import (
    DEADLINE_TIME,
    REMINDER_TIME,
    REMINDER_WORKING_DAYS,
    add_working_days,
    at_london_time,
    is_working_day,
    to_london,
    working_days_before,
)
from ..engine.views import EngineEvent
from ..engine.workflow import RunningAudit
from ..models import HumanTask, ProcessInstance, TimerJob, User, db
from ..models.task import OPEN
from . import notifications, runtime
from .errors import FormInvalid
from .persistence import engine_limits, load_audit, record_event

#: the furthest an extension may move a deadline: a longer one is a typing mistake
MAX_EXTENSION_DAYS = 365


@dataclass(frozen=True)
class Deadline:
    """A deadline the Business Unit may extend: its key in ``deadlines``, its name, the reminder that goes
    with it, whether one agency may be given more time on it, the keys that move with it for the whole
    audit, and the process variable that holds it once its phase is under way."""

    key: str
    name: str
    reminder: str | None = None
    for_agency: bool = False
    companions: tuple[str, ...] = ()
    variable: str | None = None


#: in the order the phases come
DEADLINES = (
    Deadline("notice_due", "End of the notice period", "notice_reminder", for_agency=True),
    Deadline("audit_due", "Agency reports due", "audit_reminder", for_agency=True, companions=("share_due",)),
    Deadline("reading_due", "Reading week ends", variable="reading_due"),
    Deadline("event_due", "Practitioner event recorded"),
    Deadline("analysis_due", "Analysis report due", "analysis_reminder"),
    Deadline("signoff_due", "Sign-off due"),
)
BY_KEY = {deadline.key: deadline for deadline in DEADLINES}


@dataclass(frozen=True)
class Choice:
    """A deadline as the extension form offers it: when it falls now, and whether it can still be extended."""

    deadline: Deadline
    due_at: datetime
    open: bool


@dataclass(frozen=True)
class ExtensionForm:
    """What the form needs: the audit's deadlines and its agencies."""

    instance: ProcessInstance
    choices: list[Choice]
    agencies: list[str]


def form(user: User, instance_id: int, now: datetime) -> ExtensionForm:
    """The deadlines of a running audit the Business Unit may extend. Raises as ``runtime.edit_audit``."""
    runtime.check_editor(user)
    instance = runtime.get_running(instance_id)
    audit = load_audit(instance, engine_limits())
    planned = _deadlines(audit.data_of(None))
    choices = [Choice(deadline, _moment(planned[deadline.key]),
                      _is_open(instance_id, None, deadline, planned, now))
               for deadline in DEADLINES if deadline.key in planned]
    return ExtensionForm(instance, choices, [str(agency) for agency in audit.data.get("agencies") or []])


def extend(instance_id: int, user: User, key: str, new_day: date | None, reason: str, agency: str | None = None,
           move_later: bool = False) -> ProcessInstance:
    """Move deadline ``key`` of a running audit to 17:00 London on ``new_day`` (for one ``agency``, or the
    whole audit), with a reason; its reminder falls three working days before it. With ``move_later`` (the
    whole audit only), every later deadline and a practitioner event still to come move by as many working
    days. Raises FormInvalid naming the field at fault, and as ``runtime.edit_audit``.
    """
    runtime.check_editor(user)
    deadline = BY_KEY.get(key)
    problems = {"deadline": "Choose a deadline to extend"} if deadline is None else {}
    if deadline is not None and agency is not None and not deadline.for_agency:
        problems["agency"] = f"'{deadline.name}' is the same for every agency: extend it for the whole audit"
    if new_day is None:
        problems["due_on"] = "Enter the new deadline"
    if problem := runtime.reason_problem(reason):
        problems["reason"] = problem
    if problems:  # every simple mistake at once, before the audit is loaded
        raise FormInvalid(problems)

    def change(instance: ProcessInstance, audit: RunningAudit, why: str) -> list[EngineEvent]:
        data = audit.data_of(agency)
        if agency is not None and (agency not in (audit.data.get("agencies") or []) or data.get("agency") != agency):
            raise FormInvalid({"agency": f"{agency} has no work under way in this audit"})
        planned = _deadlines(data)
        if key not in planned:
            raise FormInvalid({"deadline": f"This audit has no '{deadline.name}' deadline"})
        old = _moment(planned[key])
        _check_day(new_day, old)
        if not _is_open(instance.id, agency, deadline, planned, datetime.now(UTC)):
            raise FormInvalid({"deadline": f"'{deadline.name}' has passed and nothing waits for it any more"})
        values, moved = _moved(data, planned, deadline, new_day, agency is None, move_later and agency is None)
        events = audit.set_data(values, agency)
        record_event(instance, "deadline_extended", key, deadline.name, agency=agency, actor=user.username,
                     detail={"reason": why, "moved": moved})
        _tell(instance, audit, user, deadline, agency, moved[key][1])
        return events

    return runtime.edit_audit(instance_id, user, reason, change)


def _deadlines(data: dict) -> dict:
    planned = data.get("deadlines")
    return planned if isinstance(planned, dict) else {}


def _moment(value: object) -> datetime:
    return to_london(str(value)).astimezone(UTC)


def _check_day(new_day: date, old: datetime) -> None:
    old_day = to_london(old).date()
    if new_day <= old_day:
        raise FormInvalid({"due_on": f"Give a date after the deadline now, {old_day:%A %-d %B %Y}"})
    if new_day > old_day + timedelta(days=MAX_EXTENSION_DAYS):
        raise FormInvalid({"due_on": f"Give a date within a year of the deadline now, {old_day:%-d %B %Y}"})
    if not is_working_day(new_day):
        raise FormInvalid({"due_on": f"{new_day:%A %-d %B %Y} is not a working day (a weekend or a bank "
                                     "holiday): give a working day"})


def _is_open(instance_id: int, agency: str | None, deadline: Deadline, planned: dict, now: datetime) -> bool:
    """True while the deadline is still to come, or work waits on it: an open task due then, or a waiting
    timer set for it or its reminder (of ``agency``'s work, if given)."""
    moments = {_moment(planned[key]) for key in (deadline.key, deadline.reminder, *deadline.companions)
               if key and key in planned}
    if agency is None and _moment(planned[deadline.key]) > now:
        return True
    tasks = select(HumanTask.due_at).where(HumanTask.instance_id == instance_id, HumanTask.status == OPEN)
    timers = select(TimerJob.due_at).where(TimerJob.instance_id == instance_id)
    if agency is not None:
        tasks, timers = tasks.where(HumanTask.agency == agency), timers.where(TimerJob.agency == agency)
    due = [*db.session.scalars(tasks), *db.session.scalars(timers)]
    return any(moment is not None and moment.astimezone(UTC) in moments for moment in due)


def _shifted(value: object, days: int) -> str:
    """``value`` moved ``days`` working days on, at the same London time of day."""
    local = to_london(str(value))
    return at_london_time(add_working_days(local.date(), days), local.time().replace(tzinfo=None))


def _working_days_between(start: date, end: date) -> int:
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def _moved(data: dict, planned: dict, deadline: Deadline, new_day: date, whole: bool,
           move_later: bool) -> tuple[dict, dict[str, list[str]]]:
    """The new values to set, and each moved date as [from, to]."""
    new = dict(planned)
    new[deadline.key] = at_london_time(new_day, DEADLINE_TIME)
    if deadline.reminder and deadline.reminder in planned:
        new[deadline.reminder] = at_london_time(working_days_before(new_day, REMINDER_WORKING_DAYS), REMINDER_TIME)
    if whole:
        new.update({key: new[deadline.key] for key in deadline.companions if key in planned})
    values: dict = {"deadlines": new}
    if deadline.variable and deadline.variable in data:
        values[deadline.variable] = new[deadline.key]
    if move_later:
        days = _working_days_between(to_london(str(planned[deadline.key])).date(), new_day)
        later = DEADLINES[DEADLINES.index(deadline) + 1:]
        for each in later:
            for key in (each.key, each.reminder, *each.companions):
                if key and key in planned:
                    new[key] = _shifted(planned[key], days)
            if each.variable and each.variable in data:
                values[each.variable] = new[each.key]
        if "event_due" in {each.key for each in later} and data.get("event_at") \
                and _moment(data["event_at"]) > datetime.now(UTC):
            values["event_at"] = _shifted(data["event_at"], days)
    moved = {key: [str(planned.get(key)), new[key]] for key in new if new[key] != planned.get(key)}
    if "event_at" in values:
        moved["event_at"] = [str(data["event_at"]), values["event_at"]]
    return values, moved


def _tell(instance: ProcessInstance, audit: RunningAudit, user: User, deadline: Deadline, agency: str | None,
          new_due: str) -> None:
    """Tell the agency's leads (one agency) or every agency's leads and the chair (the whole audit)."""
    data = audit.data
    if agency is not None:
        people = notifications.recipients(["agency_lead"], agency)
    else:
        people = [name for each in data.get("agencies") or [] for name in
                  notifications.recipients(["agency_lead"], str(each))]
        people += [str(data["chair"])] if data.get("chair") else []
    people = [name for name in dict.fromkeys(people) if name != user.username]
    whose = f" for {agency}" if agency else ""
    when = to_london(new_due).strftime("%H:%M on %A %-d %B %Y")
    text = (f"'{deadline.name}'{whose} in {instance.title or instance.deployment.name} is now {when}. "
            "The audit's history says why.")
    notifications.tell(people, "deadline", text, instance.id, path=f"/audits/{instance.id}",
                       key=f"extension:{instance.id}:{instance.version}:{agency or 'all'}:{deadline.key}")
