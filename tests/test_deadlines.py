"""Deadlines are real working days, set by complexity from the DMN table, overridable per audit.

Phases are counted in working days in England (a week is five): a bank holiday inside a phase gives
the phase that day back, and moves every later deadline by a working day too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine

from audit_driver import AuditDriver
from bpmn_audit import create_app
from bpmn_audit.engine.calendar import (
    LONDON,
    add_working_days,
    is_working_day,
    plan_deadlines,
    roll_forward,
    same_working_day_deadline,
    use_region,
    working_days_after,
    working_hours_after,
)
from bpmn_audit.engine.sandbox import SandboxEnvironment
from bpmn_audit.engine.script_functions import SCRIPT_FUNCTIONS
from conftest import LAUNCH

PHASE_ENDS = ("notice_due", "audit_due", "event_due", "analysis_due", "signoff_due")


def _due(deadlines: dict, key: str) -> datetime:
    return datetime.fromisoformat(deadlines[key]).astimezone(LONDON)


def _london(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(LONDON)


def _working_days_between(start: date, end: date, bank_holidays: set[date]) -> int:
    """Weekdays after ``start`` up to and including ``end`` that are not in the listed bank holidays."""
    days = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
    return sum(1 for day in days if day.weekday() < 5 and day not in bank_holidays)


def _assert_phases_are_working_weeks(deadlines: dict, launch: date, weeks: tuple, bank_holidays: set[date]) -> None:
    """Each phase ends on the (5 × weeks)-th working day after the previous one, counted by hand."""
    previous = launch
    for key, phase_weeks in zip(PHASE_ENDS, weeks, strict=True):
        end = _due(deadlines, key).date()
        assert end.weekday() < 5 and end not in bank_holidays, key
        assert _working_days_between(previous, end, bank_holidays) == 5 * phase_weeks, key
        previous = end


def test_a_deadline_on_a_bank_holiday_moves_to_the_next_working_day():
    assert not is_working_day(date(2027, 5, 3))  # early May bank holiday
    assert roll_forward(date(2027, 5, 3)) == date(2027, 5, 4)
    # launched two weeks before the bank holiday: the notice period's tenth working day is Tue 4 May,
    # since Mon 3 May is not one (the old calendar-week rule rolled Mon 3 May forward to the same day)
    deadlines = plan_deadlines("2027-04-19", 2, 5, 2, 2, 1)
    assert _due(deadlines, "notice_due") == datetime(2027, 5, 4, 17, 0, tzinfo=LONDON)


def test_weekends_and_christmas_are_given_back_and_reminders_fall_on_working_days():
    # a four-week notice from Mon 30 Nov 2026 holds Christmas Day (Fri 25 Dec) and Boxing Day observed
    # (Mon 28 Dec): its 20 working days end on Wed 30 Dec. The old rule ended it 4 calendar weeks on,
    # Mon 28 Dec, rolled to Tue 29 Dec, so Christmas ate a day of the notice period.
    deadlines = plan_deadlines("2026-11-30", 4, 5, 2, 2, 1)
    assert _due(deadlines, "notice_due").date() == date(2026, 12, 30)
    for key, value in deadlines.items():
        assert is_working_day(_london(value).date()), key
    assert _due(deadlines, "audit_reminder") < _due(deadlines, "audit_due")
    assert _due(deadlines, "audit_reminder").hour == 9 and _due(deadlines, "audit_due").hour == 17


def test_an_audit_over_christmas_each_phase_deadline_moves_by_the_bank_holidays_inside_it():
    # Christmas 2027 and New Year 2028 fall at weekends, so England's bank holidays are the substitute
    # days: Mon 27 Dec (Christmas Day), Tue 28 Dec (Boxing Day) and Mon 3 Jan 2028 (New Year's Day).
    # All three fall inside the agency audit phase of a standard audit launched on Mon 29 Nov 2027.
    christmas = {date(2027, 12, 27), date(2027, 12, 28), date(2028, 1, 3)}
    deadlines = plan_deadlines("2027-11-29", 2, 5, 2, 2, 1)
    _assert_phases_are_working_weeks(deadlines, date(2027, 11, 29), (2, 5, 2, 2, 1), christmas)
    ends = {key: _due(deadlines, key).date() for key in PHASE_ENDS}
    assert ends == {
        "notice_due": date(2027, 12, 13),  # Mon: 10 working days, no holiday
        "audit_due": date(2028, 1, 20),  # Thu: 25 working days, three of the days in between are holidays
        "event_due": date(2028, 2, 3),  # Thu: 10 working days after the audit phase
        "analysis_due": date(2028, 2, 17),  # Thu
        "signoff_due": date(2028, 2, 24),  # Thu
    }
    # the calendar-week rule ended the audit phase 5 weeks after the notice: Mon 17 Jan 2028; the
    # phase now ends exactly one working day later per bank holiday inside it
    calendar_weeks_end = ends["notice_due"] + timedelta(weeks=5)
    assert calendar_weeks_end == date(2028, 1, 17)
    assert _working_days_between(calendar_weeks_end, ends["audit_due"], christmas) == len(christmas)
    assert _due(deadlines, "audit_reminder") == datetime(2028, 1, 17, 9, 0, tzinfo=LONDON)
    # the reading week: a full working week after the reports are due, inside the review phase
    assert _due(deadlines, "reading_due") == datetime(2028, 1, 27, 17, 0, tzinfo=LONDON)


def test_easter_and_the_early_may_bank_holiday_give_their_phases_days_back():
    # 2027: Good Friday 26 Mar and Easter Monday 29 Mar fall in the agency audit phase, the early May
    # bank holiday (Mon 3 May) in the review phase, the spring bank holiday (Mon 31 May) in QA.
    bank_holidays = {date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3), date(2027, 5, 31)}
    deadlines = plan_deadlines("2027-03-08", 2, 5, 2, 2, 1)
    _assert_phases_are_working_weeks(deadlines, date(2027, 3, 8), (2, 5, 2, 2, 1), bank_holidays)
    ends = {key: _due(deadlines, key).date() for key in PHASE_ENDS}
    assert ends == {
        "notice_due": date(2027, 3, 22),  # Mon: no holiday
        "audit_due": date(2027, 4, 28),  # Wed, not Mon 26 Apr: Easter gives two days back
        "event_due": date(2027, 5, 13),  # Thu, not Wed 12 May: the early May bank holiday gives one
        "analysis_due": date(2027, 5, 27),  # Thu: no holiday
        "signoff_due": date(2027, 6, 4),  # Fri, not Thu 3 Jun: the spring bank holiday gives one
    }
    assert _due(deadlines, "reading_due").date() == date(2027, 5, 6)  # Thu: 5 working days, 3 May skipped


def test_a_phase_with_no_holidays_lasts_exactly_five_working_days_a_week():
    # September to November 2027 holds no bank holiday (the late summer one is Mon 30 Aug)
    deadlines = plan_deadlines("2027-09-06", 3, 5, 2, 1, 1)
    _assert_phases_are_working_weeks(deadlines, date(2027, 9, 6), (3, 5, 2, 1, 1), set())
    # with no holiday a phase of n weeks is n calendar weeks: a Monday launch ends every phase on a Monday
    assert [_due(deadlines, key).date() for key in PHASE_ENDS] == [
        date(2027, 9, 27), date(2027, 11, 1), date(2027, 11, 15), date(2027, 11, 22), date(2027, 11, 29)]
    assert add_working_days(date(2027, 6, 9), 5) == date(2027, 6, 16)  # a Wednesday to the next


def test_after_a_launch_on_a_non_working_day_the_next_working_day_is_the_first_counted():
    # launched on Sat 9 Jan 2027: Mon 11 Jan is the notice's first working day, Fri 22 Jan its tenth
    deadlines = plan_deadlines("2027-01-09", 2, 5, 2, 2, 1)
    assert _due(deadlines, "notice_due").date() == date(2027, 1, 22)
    assert _due(deadlines, "launch") == datetime(2027, 1, 9, 9, 0, tzinfo=LONDON)  # the launch itself stays


def test_deadlines_are_17_00_london_time_across_the_clock_changes():
    deadlines = plan_deadlines("2027-01-04", 2, 5, 2, 2, 1)  # clocks go forward on Sun 28 Mar 2027
    assert deadlines["notice_due"] == "2027-01-18T17:00:00+00:00"  # GMT: 17:00 is 17:00 UTC
    assert deadlines["analysis_reminder"] == "2027-03-17T09:00:00+00:00"
    # sign-off in BST (Wed 31 Mar: Good Friday and Easter Monday are inside the QA week): 16:00 UTC
    assert deadlines["signoff_due"] == "2027-03-31T16:00:00+00:00"
    autumn = plan_deadlines("2027-10-04", 2, 5, 2, 2, 1)  # clocks go back on Sun 31 Oct 2027
    assert autumn["notice_due"] == "2027-10-18T16:00:00+00:00"  # BST
    assert autumn["audit_due"] == "2027-11-22T17:00:00+00:00"  # GMT
    assert autumn["audit_reminder"] == "2027-11-17T09:00:00+00:00"


def test_phases_must_last_from_a_week_to_a_year():
    with pytest.raises(ValueError, match="the audit phase must last from 1 to 52 weeks, not 0"):
        plan_deadlines("2027-01-04", 2, 0, 2, 2, 1)
    with pytest.raises(ValueError, match="the notice phase must last from 1 to 52 weeks, not 100000000"):
        plan_deadlines("2027-01-04", 10**8, 5, 2, 2, 1)
    with pytest.raises(ValueError, match="the qa phase must last from 1 to 52 weeks, not two"):
        plan_deadlines("2027-01-04", 2, 5, 2, 2, "two")
    assert plan_deadlines("2027-01-04", "2", "5", 2, 2, 1) == plan_deadlines("2027-01-04", 2, 5, 2, 2, 1)


def test_working_days_after_counts_from_the_london_date_of_a_moment():
    # shared on Fri 8 Jan 2027 at 17:30 (after hours): a full week from sharing is Fri 15 Jan, 17:00
    assert working_days_after("2027-01-08T17:30:00+00:00", 5) == "2027-01-15T17:00:00+00:00"
    assert working_days_after("2027-01-09", 5) == "2027-01-15T17:00:00+00:00"  # a Saturday: Mon is day 1
    assert working_days_after("2027-01-09", 0) == "2027-01-11T17:00:00+00:00"  # 0: the next working day
    assert working_days_after("2027-01-06T10:00:00Z", 0) == "2027-01-06T17:00:00+00:00"  # 0: that day
    # from Good Friday 2027 (a bank holiday): Easter Monday is one too, so day 1 is Tue 30 Mar (BST)
    assert working_days_after("2027-03-26T11:00:00Z", 1) == "2027-03-30T16:00:00+00:00"
    # 23:30 UTC on Tue 30 Mar is 00:30 on Wed 31 Mar in London (BST): the London date counts
    assert working_days_after("2027-03-30T23:30:00Z", 1) == "2027-04-01T16:00:00+00:00"
    # the reading week planned at set-up is what the function gives from the reports' deadline
    deadlines = plan_deadlines("2027-11-29", 2, 5, 2, 2, 1)
    assert working_days_after(deadlines["audit_due"], 5) == deadlines["reading_due"]


def test_same_working_day_deadline_for_an_immediate_concern():
    assert same_working_day_deadline("2027-01-06T10:00:00Z") == "2027-01-06T17:00:00+00:00"  # Wed morning
    assert same_working_day_deadline("2027-01-06T16:59:00Z") == "2027-01-06T17:00:00+00:00"
    assert same_working_day_deadline("2027-01-06T17:00:00Z") == "2027-01-07T17:00:00+00:00"  # 17:00: too late
    assert same_working_day_deadline("2027-01-08T17:30:00Z") == "2027-01-11T17:00:00+00:00"  # Fri 17:30: Mon
    assert same_working_day_deadline("2027-01-09T10:00:00Z") == "2027-01-11T17:00:00+00:00"  # a Saturday
    assert same_working_day_deadline("2027-05-03T10:00:00+01:00") == "2027-05-04T16:00:00+00:00"  # bank holiday
    # 16:30 UTC in summer is 17:30 in London: after the working day
    assert same_working_day_deadline("2027-06-09T16:30:00Z") == "2027-06-10T16:00:00+00:00"


def test_working_hours_after_counts_only_09_00_to_17_00_on_working_days():
    # a concern raised at 16:00 with two working hours to claim it: 10:00 the next working day
    assert working_hours_after("2027-01-06T16:00:00Z", 2) == "2027-01-07T10:00:00+00:00"
    assert working_hours_after("2027-01-06T15:00:00Z", 2) == "2027-01-06T17:00:00+00:00"  # ends at 17:00
    assert working_hours_after("2027-01-06T16:59:00Z", 2) == "2027-01-07T10:59:00+00:00"
    assert working_hours_after("2027-01-06T17:00:00Z", 2) == "2027-01-07T11:00:00+00:00"  # counts from 09:00
    assert working_hours_after("2027-01-06T07:30:00Z", 2) == "2027-01-06T11:00:00+00:00"  # before hours
    assert working_hours_after("2027-01-08T17:30:00Z", 2) == "2027-01-11T11:00:00+00:00"  # Fri 17:30: Mon
    assert working_hours_after("2027-01-09T12:00:00Z", 2) == "2027-01-11T11:00:00+00:00"  # a Saturday
    assert working_hours_after("2027-01-08T16:00:00Z", 0) == "2027-01-08T16:00:00+00:00"
    assert working_hours_after("2027-01-08T16:00:00Z", 0.5) == "2027-01-08T16:30:00+00:00"
    # Thu 25 Mar 2027 16:00 GMT: Good Friday and Easter Monday are skipped, and the clocks go forward
    assert working_hours_after("2027-03-25T16:00:00Z", 2) == "2027-03-30T09:00:00+00:00"  # 10:00 BST
    # Fri 29 Oct 2027 16:00 BST: the clocks go back at the weekend, Mon 10:00 GMT
    assert working_hours_after("2027-10-29T15:00:00Z", 2) == "2027-11-01T10:00:00+00:00"
    assert working_hours_after("2027-01-04T09:00:00Z", 16) == "2027-01-05T17:00:00+00:00"  # two full days


@pytest.mark.parametrize(("call", "message"), [
    (lambda: working_days_after("2027-01-04", 366),
     "the number of working days must be a whole number from 0 to 365, not 366"),
    (lambda: working_days_after("2027-01-04", -1), "working days must be a whole number from 0 to 365, not -1"),
    (lambda: working_days_after("2027-01-04", 2.5), "working days must be a whole number from 0 to 365, not 2.5"),
    (lambda: working_days_after("2027-01-04", 10**400), "working days must be a whole number from 0 to 365"),
    (lambda: working_hours_after("2027-01-04T10:00:00Z", 101),
     "the number of working hours must be from 0 to 100, not 101"),
    (lambda: working_hours_after("2027-01-04T10:00:00Z", float("nan")), "working hours must be from 0 to 100, not nan"),
    (lambda: working_hours_after("2027-01-04T10:00:00Z", True), "working hours must be from 0 to 100, not True"),
    (lambda: working_days_after("next week", 5), "'next week' is not a date or a date-time like 2027-03-31T10:00:00Z"),
    (lambda: same_working_day_deadline(None), "'None' is not a date or a date-time"),
    (lambda: working_hours_after("2027-02-30T10:00:00Z", 2), "'2027-02-30T10:00:00Z' is not a date or a date-time"),
])
def test_the_working_time_functions_are_bounded_and_explain_bad_values(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_scripts_can_call_the_working_time_functions():
    data = {"shared_at": "2027-01-08T17:30:00Z", "raised_at": "2027-01-06T16:00:00Z"}
    SandboxEnvironment(SCRIPT_FUNCTIONS).execute(
        "reading_due = working_days_after(shared_at, 5)\n"
        "concern_due = same_working_day_deadline(raised_at)\n"
        "claim_by = working_hours_after(raised_at, 2)", data)
    assert data["reading_due"] == "2027-01-15T17:00:00+00:00"
    assert data["concern_due"] == "2027-01-06T17:00:00+00:00"
    assert data["claim_by"] == "2027-01-07T10:00:00+00:00"


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
    # standard is the seed's 12 weeks, 60 working days: sign-off was due Tue 30 Mar 2027 under the
    # calendar-week rule (12 weeks on is Easter Monday, rolled forward); counted in working days, Good
    # Friday (26 Mar) and Easter Monday (29 Mar) both fall inside the QA week, so it is Wed 31 Mar
    assert _due(standard, "signoff_due").date() == date(2027, 3, 31)
    assert _due(compressed, "signoff_due").date() == date(2027, 3, 1)  # 8 weeks, no bank holiday
    assert _due(extended, "signoff_due").date() == date(2027, 5, 6)  # 17 weeks, Easter and 3 May inside
    for key in ("audit_due", "analysis_due", "signoff_due"):
        assert _due(compressed, key) < _due(standard, key) < _due(extended, key), key


def test_a_phase_length_can_be_overridden_for_one_audit(app, people, deployed):
    standard = _deadlines_for(people)
    longer_audit = _deadlines_for(people, audit_weeks_override="7")
    assert _due(longer_audit, "notice_due") == _due(standard, "notice_due")
    assert (_due(longer_audit, "audit_due") - _due(standard, "audit_due")).days == 14
    # every later phase moves ten working days too: sign-off on Wed 14 Apr (Mon 12 Apr under the old
    # calendar-week rule), as Easter now falls inside the analysis phase and gives it two days back
    assert _due(longer_audit, "signoff_due").date() == date(2027, 4, 14)
    assert _due(longer_audit, "analysis_due").date() == date(2027, 4, 7)


def test_task_due_dates_in_the_inbox_come_from_the_plan(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        deadlines = audit.data()["deadlines"]
        audit.complete("nominate_cases")  # the agencies are identified with the cases
        audit.complete("collate_audit_pack")
        leads = audit.open_tasks("confirm_audit_lead")
    assert sorted(task.agency for task in leads) == ["csc", "icb", "police"]
    assert {task.due_at for task in leads} == {datetime.fromisoformat(deadlines["notice_due"])}


@pytest.fixture
def back_to_england():
    """Whatever a test chooses, the next test counts England's bank holidays again."""
    yield
    use_region("england")


@pytest.mark.parametrize(("region", "working"), [
    # 4 Jan (Scotland's 2 January, moved off the weekend), St Patrick's Day, Easter Monday, the Twelfth,
    # Scotland's and then England's summer bank holiday, St Andrew's Day, all in 2027
    ("england", [True, True, False, True, True, False, True]),
    ("wales", [True, True, False, True, True, False, True]),
    ("scotland", [False, True, True, True, False, True, False]),
    ("northern-ireland", [True, False, False, False, True, False, True]),
])
def test_each_uk_nation_s_bank_holidays_can_be_chosen(back_to_england, region, working):
    days = [date(2027, 1, 4), date(2027, 3, 17), date(2027, 3, 29), date(2027, 7, 12), date(2027, 8, 2),
            date(2027, 8, 30), date(2027, 11, 30)]
    use_region(region)
    assert [is_working_day(day) for day in days] == working


def test_a_scottish_partnership_s_audit_plans_around_st_andrew_s_day(back_to_england, tmp_path):
    app = create_app({"TESTING": True, "BANK_HOLIDAYS": "scotland",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    with app.app_context():
        # launched on Monday 22 November 2027: the notice ends ten working days on, a day later for St Andrew's
        assert _due(plan_deadlines("2027-11-22", 2, 5, 2, 2, 1), "notice_due").date() == date(2027, 12, 7)
    with pytest.raises(ValueError, match="BANK_HOLIDAYS must be one of england, scotland, wales, northern-ireland"):
        create_app({"TESTING": True, "BANK_HOLIDAYS": "mars"})
    create_app({"TESTING": True})
    assert _due(plan_deadlines("2027-11-22", 2, 5, 2, 2, 1), "notice_due").date() == date(2027, 12, 6)
