"""Deadlines are real working days, set by complexity from the DMN table, overridable per audit."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from audit_driver import AuditDriver
from bpmn_audit.engine.calendar import LONDON, is_working_day, plan_deadlines, roll_forward
from conftest import LAUNCH


def _due(deadlines: dict, key: str) -> datetime:
    return datetime.fromisoformat(deadlines[key]).astimezone(LONDON)


def test_a_deadline_on_a_bank_holiday_moves_to_the_next_working_day():
    assert not is_working_day(date(2027, 5, 3))  # early May bank holiday
    assert roll_forward(date(2027, 5, 3)) == date(2027, 5, 4)
    # launched two weeks before the bank holiday: the notice period would end on it
    deadlines = plan_deadlines("2027-04-19", 2, 5, 2, 2, 1)
    assert _due(deadlines, "notice_due") == datetime(2027, 5, 4, 17, 0, tzinfo=LONDON)


def test_weekends_and_christmas_roll_forward_and_reminders_fall_on_working_days():
    deadlines = plan_deadlines("2026-11-30", 4, 5, 2, 2, 1)  # notice ends Mon 28 Dec 2026: Boxing Day observed
    assert _due(deadlines, "notice_due").date() == date(2026, 12, 29)
    for key, value in deadlines.items():
        assert is_working_day(datetime.fromisoformat(value).astimezone(LONDON).date()), key
    assert _due(deadlines, "audit_reminder") < _due(deadlines, "audit_due")
    assert _due(deadlines, "audit_reminder").hour == 9 and _due(deadlines, "audit_due").hour == 17


def test_phases_must_last_from_a_week_to_a_year():
    with pytest.raises(ValueError, match="the audit phase must last from 1 to 52 weeks, not 0"):
        plan_deadlines("2027-01-04", 2, 0, 2, 2, 1)
    with pytest.raises(ValueError, match="the notice phase must last from 1 to 52 weeks, not 100000000"):
        plan_deadlines("2027-01-04", 10**8, 5, 2, 2, 1)


def test_pseudonyms_are_bounded_because_they_run_outside_the_sandbox_budget():
    from bpmn_audit.engine.script_functions import case_pseudonyms

    assert case_pseudonyms(28)[-2:] == ["Child AA", "Child AB"]
    with pytest.raises(ValueError, match="the number of cases must be from 0 to 100, not 100000000"):
        case_pseudonyms(10**8)


def _deadlines_for(people, **set_up) -> dict:
    with time_machine.travel(LAUNCH, tick=False):
        return AuditDriver(people, set_up).data()["deadlines"]


def test_a_compressed_audit_ends_earlier_than_a_standard_one(app, people, deployed):
    standard = _deadlines_for(people, complexity="standard")
    compressed = _deadlines_for(people, complexity="compressed")
    extended = _deadlines_for(people, complexity="extended")
    # standard is the seed's 12 weeks: sign-off due 12 weeks after launch (Mon 29 Mar 2027 is Easter Monday)
    assert _due(standard, "signoff_due").date() == date(2027, 3, 30)
    for key in ("audit_due", "analysis_due", "signoff_due"):
        assert _due(compressed, key) < _due(standard, key) < _due(extended, key), key


def test_a_phase_length_can_be_overridden_for_one_audit(app, people, deployed):
    standard = _deadlines_for(people)
    longer_audit = _deadlines_for(people, audit_weeks_override="7")
    assert _due(longer_audit, "notice_due") == _due(standard, "notice_due")
    assert (_due(longer_audit, "audit_due") - _due(standard, "audit_due")).days == 14
    # every later phase moves two weeks too: sign-off on Mon 12 Apr, where the standard plan ends on
    # Tue 30 Mar only because Mon 29 Mar 2027 is Easter Monday
    assert _due(longer_audit, "signoff_due").date() == date(2027, 4, 12)


def test_task_due_dates_in_the_inbox_come_from_the_plan(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        deadlines = audit.data()["deadlines"]
        leads = audit.open_tasks("confirm_audit_lead")
    assert sorted(task.agency for task in leads) == ["csc", "icb", "police"]
    assert {task.due_at for task in leads} == {datetime.fromisoformat(deadlines["notice_due"])}
