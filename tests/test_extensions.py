"""Deadline extensions: the Business Unit gives one agency or the whole audit more time, with a reason; the
reminder and the escalation follow the new date and the old ones never fire; later deadlines move with a
phase; the history says who, what and why; the people affected are told."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit.engine.calendar import LONDON, add_working_days, to_london
from bpmn_audit.models import HistoryEvent, db
from bpmn_audit.services import extensions, notifications, outbox
from bpmn_audit.services.errors import Forbidden, FormInvalid
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH, both_backends, csrf_token_in


def _day(moment: str) -> date:
    return to_london(moment).date()


def _open(audit: AuditDriver, bpmn_id: str) -> list[str]:
    db.session.expire_all()
    return sorted(task.agency for task in audit.open_tasks(bpmn_id))


def _told(people: dict, username: str) -> list[str]:
    return [note.text for note in notifications.inbox(people[username])]


def _at(clock, moment: str, minutes: int) -> None:
    clock.move_to(moment)
    clock.shift(timedelta(minutes=minutes))
    fire_due_timers("tests")
    outbox.send_due("tests")


def _reminders(smtp, username: str) -> list[str]:
    return [str(message["Subject"]) for message in smtp.to(f"{username}@partnership.example")
            if str(message["Subject"]).startswith("Reminder")]


@both_backends
def test_one_agency_given_more_time_is_reminded_and_chased_on_the_new_dates_only(app, deployed, with_addresses,
                                                                                 smtp):
    people = with_addresses
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        old = audit.data()["deadlines"]
        new_day = add_working_days(_day(old["audit_due"]), 5)
        extensions.extend(audit.instance_id, people["bu"], "audit_due", new_day, "Police IT outage", agency="police")

        [police] = [task for task in audit.open_tasks("submit_agency_report") if task.agency == "police"]
        assert police.due_at.astimezone(LONDON) == datetime.combine(new_day, time(17), tzinfo=LONDON)
        [change] = db.session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "deadline_extended"))
        assert (change.actor, change.agency, change.name) == ("bu.officer", "police", "Agency reports due")
        assert change.detail["reason"] == "Police IT outage"
        assert sorted(change.detail["moved"]) == ["audit_due", "audit_reminder"]  # not share_due: others unchanged
        assert _told(people, "lead.police")[0].startswith("'Agency reports due' for police in Neglect in under-fives")
        assert _told(people, "lead.csc") == []
        new_reminder = change.detail["moved"]["audit_reminder"][1]

        _at(clock, old["audit_reminder"], 1)  # the old reminder: the others only
        assert _reminders(smtp, "lead.police") == [] and len(_reminders(smtp, "lead.csc")) == 1
        _at(clock, old["audit_due"], 1)  # the old deadline: the others are chased, the reports shared
        assert _open(audit, "chase_agency_report") == ["csc", "icb"]
        assert _open(audit, "share_reports") == [None]
        _at(clock, new_reminder, -1)  # not a minute early
        assert _reminders(smtp, "lead.police") == []
        _at(clock, new_reminder, 1)
        assert _reminders(smtp, "lead.police") == ["Reminder sent to the audit lead: Neglect in under-fives"]
        _at(clock, police.due_at.isoformat(), 1)
        assert _open(audit, "chase_agency_report") == ["csc", "icb", "police"]
        _at(clock, police.due_at.isoformat(), 60)  # fired once: a later sweep repeats nothing
        assert _open(audit, "chase_agency_report") == ["csc", "icb", "police"]
        assert len(_reminders(smtp, "lead.police")) == 1
        audit.audit_cases("police")
        audit.complete("submit_agency_report")  # after the reports were shared: the Business Unit is told
        assert any(text.startswith("Late report in") for text in _told(people, "bu"))


def test_a_whole_phase_extended_moves_the_later_deadlines_and_the_event_by_as_many_working_days(app, people,
                                                                                                 deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        before = audit.data()
        old = before["deadlines"]
        new_day = add_working_days(_day(old["audit_due"]), 5)
        extensions.extend(audit.instance_id, people["bu"], "audit_due", new_day, "Half term", move_later=True)
        after = audit.data()
        new = after["deadlines"]
        assert _day(new["audit_due"]) == _day(new["share_due"]) == new_day
        for key in ("reading_due", "event_due", "analysis_due", "analysis_reminder", "signoff_due"):
            assert _day(new[key]) == add_working_days(_day(old[key]), 5), key
            assert to_london(new[key]).time() == to_london(old[key]).time(), key
        assert _day(after["event_at"]) == add_working_days(_day(before["event_at"]), 5)
        assert to_london(after["event_at"]).time() == time(9, 30)
        assert _day(new["notice_due"]) == _day(old["notice_due"])
        assert all(_told(people, name) for name in ("lead.police", "lead.csc", "lead.icb"))

        _at(clock, old["audit_due"], 1)  # nothing happens at the old deadline
        assert _open(audit, "chase_agency_report") == [] and _open(audit, "share_reports") == []
        _at(clock, new["audit_due"], 1)
        assert _open(audit, "chase_agency_report") == ["csc", "icb", "police"]
        assert _open(audit, "share_reports") == [None]


def test_only_the_business_unit_extends_and_bad_requests_say_which_field(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        due = _day(audit.data()["deadlines"]["audit_due"])
        later = add_working_days(due, 3)
        with pytest.raises(Forbidden):
            extensions.extend(audit.instance_id, people["lead.police"], "audit_due", later, "Mine", agency="police")
        cases = [
            ("nonsense", later, "x", None, "deadline"),
            ("audit_due", due - timedelta(days=1), "x", None, "due_on"),
            ("audit_due", due + timedelta(days=400), "x", None, "due_on"),
            ("audit_due", add_working_days(due, 1) + timedelta(days=(5 - add_working_days(due, 1).weekday()) % 7),
             "x", None, "due_on"),
            ("audit_due", later, "  ", None, "reason"),
            ("audit_due", later, "x", "fire", "agency"),
            ("signoff_due", later, "x", "police", "agency"),
        ]
        for key, day, reason, agency, field in cases:
            with pytest.raises(FormInvalid) as refused:
                extensions.extend(audit.instance_id, people["bu"], key, day, reason, agency=agency)
            assert field in refused.value.errors, (key, day, agency, refused.value.errors)
        notice = _day(audit.data()["deadlines"]["notice_due"])
        with pytest.raises(FormInvalid, match="has passed and nothing waits for it"):
            extensions.extend(audit.instance_id, people["bu"], "notice_due", add_working_days(notice, 2), "Late")
        assert db.session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "deadline_extended")).all() == []


def _form(day: date, **fields: str) -> dict:
    return {"deadline": "audit_due", "agency": "police", "due_on": [str(day.day), str(day.month), str(day.year)],
            "reason": "Police IT outage", **fields}


def test_the_business_unit_extends_from_the_audit_page_and_wrong_values_come_back_beside_their_fields(
        app, people, deployed, sign_in):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        due = _day(audit.data()["deadlines"]["audit_due"])
        bu = sign_in("bu.officer")
        page = bu.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
        assert f'href="/audits/{audit.instance_id}/deadlines"' in page
        assert "Extend a deadline" not in sign_in("lead.police").get(f"/audits/{audit.instance_id}").get_data(
            as_text=True)
        form = bu.get(f"/audits/{audit.instance_id}/deadlines").get_data(as_text=True)
        assert 'value="audit_due"' in form and 'value="notice_due"' not in form  # passed, nothing waits for it
        token = csrf_token_in(form)
        path = f"/audits/{audit.instance_id}/deadlines"

        saturday = due + timedelta(days=(5 - due.weekday()) % 7 or 7)
        wrong = bu.post(path, data={**_form(saturday), "csrf_token": token, "reason": "Police IT outage"})
        body = wrong.get_data(as_text=True)
        assert wrong.status_code == 400 and "is not a working day" in body
        assert 'id="due_on-error"' in body and "Police IT outage" in body  # beside the field; nothing lost
        for posted, message in (({"due_on": ["31", "2", "2027"]}, "Enter a real date"),
                                ({"due_on": ["1"]}, "Enter a date as a day, a month and a year"),
                                ({"due_on": ["", "", ""]}, "Enter the new deadline"),
                                ({"reason": ""}, "Give a reason"),
                                ({"agency": "fire"}, "fire has no work under way")):
            answer = bu.post(path, data={**_form(add_working_days(due, 2)), **posted, "csrf_token": token})
            assert answer.status_code == 400 and message in answer.get_data(as_text=True), posted
        assert bu.post(path, data=_form(add_working_days(due, 2))).status_code == 400  # no CSRF token

        done = bu.post(path, data={**_form(add_working_days(due, 2)), "csrf_token": token})
        assert done.status_code == 302 and done.headers["Location"] == f"/audits/{audit.instance_id}"
        page = bu.get(f"/audits/{audit.instance_id}").get_data(as_text=True)
        assert "deadline extended: Agency reports due to" in page and "Police IT outage" in page


def test_the_api_lists_and_extends_deadlines_with_json_errors(app, people, deployed):
    from bpmn_audit.services import api_tokens

    bu = {"Authorization": f"Bearer {api_tokens.issue_token(people['bu'], 'tests')}"}
    client = app.test_client()
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        path = f"/api/v1/audits/{audit.instance_id}/deadlines"
        listed = client.get(path, headers=bu).json
        [audit_due] = [d for d in listed["deadlines"] if d["deadline"] == "audit_due"]
        assert audit_due["extendable"] and audit_due["for_one_agency"] and listed["agencies"] == ["police", "csc",
                                                                                                 "icb"]
        day = add_working_days(_day(audit_due["due"]), 3)
        for body, field in (({"deadline": "audit_due", "due_on": "next week", "reason": "x"}, "due_on"),
                            ({"deadline": 3, "due_on": day.isoformat(), "reason": "x"}, "deadline"),
                            ({"deadline": "audit_due", "due_on": day.isoformat(), "reason": ""}, "reason")):
            refused = client.post(path, headers=bu, json=body)
            assert refused.status_code == 400 and field in refused.json["fields"], refused.json
        assert client.post(path, headers=bu, json={"deadline": "audit_due", "due_on": day.isoformat(), "reason": "x",
                                                   "move_later": "yes"}).status_code == 400
        extended = client.post(path, headers=bu, json={"deadline": "audit_due", "due_on": day.isoformat(),
                                                       "reason": "Half term", "move_later": True})
        assert extended.status_code == 200
        [now] = [d for d in extended.json["deadlines"] if d["deadline"] == "audit_due"]
        assert _day(now["due"]) == day
