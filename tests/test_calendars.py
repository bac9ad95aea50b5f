"""Calendars: a person's private feed and an audit's .ics parse with the icalendar library and hold the right
times in Europe/London on both sides of a clock change; a stopped link gives nothing."""

from __future__ import annotations

import re
from datetime import datetime

import time_machine
from icalendar import Calendar

from audit_driver import AuditDriver
from bpmn_audit.engine.calendar import LONDON
from conftest import LAUNCH, PASSWORD


def _events(body: bytes) -> list:
    return [component for component in Calendar.from_ical(body).walk("VEVENT")]


def test_a_private_feed_holds_my_deadlines_in_london_time_and_stops_when_asked(client, people, deployed, sign_in):
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people, {"launch_date": "2027-03-15"})  # its notice ends after the clocks go forward
        audit.complete("nominate_cases")
    lead = sign_in("lead.police")
    page = lead.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    made = lead.post("/account/calendar", data={"csrf_token": token}).get_data(as_text=True)
    link = re.search(r'<code class="app-token">([^<]+)</code>', made).group(1)
    path = link.removeprefix("http://localhost")
    answer = client.get(path)  # a calendar program: no sign-in
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    [due] = _events(answer.data)
    assert str(due["summary"]) == "Due: Confirm the agency's audit lead (Neglect in under-fives)"
    start = due.decoded("dtstart")
    assert start.tzinfo is not None and start.astimezone(LONDON).hour == 17  # 17:00 London, in summer time
    assert start.astimezone(LONDON).utcoffset().total_seconds() == 3600  # BST: the clocks went forward 28 March
    assert lead.post("/account/calendar/stop", data={"csrf_token": token}).status_code == 302
    assert client.get(path).status_code == 404


def test_an_audit_s_calendar_holds_its_deadlines_either_side_of_a_clock_change(people, deployed, sign_in):
    from bpmn_audit.services import identity

    identity.create_user("lead.health", "Health lead", ["agency_lead"], agency="health", password=PASSWORD)
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people, {"launch_date": "2027-03-15"})  # reminders before the change, notice after
        audit.complete("nominate_cases")
        audit.complete("collate_audit_pack")  # the notice period's end now waits too
    answer = sign_in("bu.officer").get(f"/audits/{audit.instance_id}/calendar.ics")
    assert answer.status_code == 200
    starts = {str(event["summary"]): event.decoded("dtstart").astimezone(LONDON) for event in _events(answer.data)}
    assert starts, answer.data
    offsets = {start.utcoffset().total_seconds() for start in starts.values()}
    assert all(start.hour in (9, 17) for start in starts.values()), starts  # working hours, in London's time
    assert offsets == {0, 3600}, starts  # deadlines on both sides of the change, each at its own offset
    when = {start.date(): start for start in starts.values()}
    for day, start in when.items():
        expected = datetime(day.year, day.month, day.day, start.hour, tzinfo=LONDON).utcoffset()
        assert start.utcoffset() == expected  # GMT before 28 March, BST after
    assert sign_in("lead.health").get(f"/audits/{audit.instance_id}/calendar.ics").status_code == 404


def test_the_practitioner_event_is_two_parts_in_the_audit_s_calendar_and_in_the_chair_s_feed(people, deployed,
                                                                                              sign_in):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people, {"launch_date": "2027-02-22"})  # the event falls after the clocks go forward
        audit.through_reading(clock)
        event_at = datetime.fromisoformat(audit.data()["event_at"]).astimezone(LONDON)
    answer = sign_in("bu.officer").get(f"/audits/{audit.instance_id}/calendar.ics")
    parts = sorted((event.decoded("dtstart"), event.decoded("dtend"), str(event["summary"]))
                   for event in _events(answer.data) if "Practitioner event" in str(event["summary"]))
    assert [(start.astimezone(LONDON).strftime("%H:%M"), end.astimezone(LONDON).strftime("%H:%M"))
            for start, end, _ in parts] == [("09:30", "12:00"), ("13:00", "15:00")]
    assert {start.astimezone(LONDON).date() for start, _, _ in parts} == {event_at.date()}
    assert parts[0][0].astimezone(LONDON).utcoffset().total_seconds() == 3600  # British Summer Time
    assert parts[0][2].startswith("Practitioner event, part 1") and parts[1][2].startswith("Practitioner event, part 2")

    chair = sign_in("chair")
    page = chair.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    made = chair.post("/account/calendar", data={"csrf_token": token}).get_data(as_text=True)
    link = re.search(r'<code class="app-token">([^<]+)</code>', made).group(1).removeprefix("http://localhost")
    feed = _events(sign_in("chair").get(link).data)
    assert sorted(str(event["summary"])[:26] for event in feed if "Practitioner" in str(event["summary"])) == [
        "Practitioner event, part 1", "Practitioner event, part 2"]
    lead = sign_in("lead.police")
    page = lead.get("/account").get_data(as_text=True)
    made = lead.post("/account/calendar", data={"csrf_token": re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)}).get_data(as_text=True)
    link = re.search(r'<code class="app-token">([^<]+)</code>', made).group(1).removeprefix("http://localhost")
    assert not [e for e in _events(lead.get(link).data) if "Practitioner" in str(e["summary"])]  # not at the event
