"""Email through the outbox, against a real SMTP server in the test process (aiosmtpd): a reminder arrives
at its virtual time, once, and not a minute early; an immediate concern's email goes at once to the
Business Unit with a link to its task; no email holds a child's name; with the SMTP server down, emails wait
and go when it is back, each once."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select, update

from audit_driver import AuditDriver
from bpmn_audit.models import OutboxMessage, db
from bpmn_audit.models.outbox import FAILED, PENDING, SENT
from bpmn_audit.services import cases, concerns, outbox
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH
from mail_server import Inbox  # noqa: F401  (the SMTP server the smtp fixture runs)


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_the_reminder_arrives_at_its_virtual_time_once_and_not_a_minute_early(app, deployed, with_addresses, smtp):
    people = with_addresses
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        reminder_at = audit.data()["deadlines"]["notice_reminder"]
        clock.move_to(reminder_at)
        clock.shift(timedelta(minutes=-1))
        fire_due_timers("tests")
        outbox.send_due("tests")
        assert smtp.to("nominator@partnership.example", "Reminder") == []
        clock.shift(timedelta(minutes=2))
        fire_due_timers("tests")
        outbox.send_due("tests")
        fire_due_timers("tests")  # nothing more is due: a second sweep sends nothing again
        outbox.send_due("tests")
    [reminder] = smtp.to("nominator@partnership.example", "Reminder")
    assert reminder["Subject"] == "Reminder to nominate the cases: Neglect in under-fives"
    [nominate] = audit.open_tasks("nominate_cases")
    assert f"Open it: https://audit.example/tasks/{nominate.id}\r\n" in _body(reminder)  # the task it is about
    assert reminder.get_body(preferencelist=("html",)) is not None


def test_an_immediate_concern_is_emailed_at_once_with_a_link_and_no_child_s_name(app, deployed, with_addresses,
                                                                                  smtp):
    people = with_addresses
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        case = cases.list_cases(audit.instance_id, people["bu"])[0]
        details = cases.read_case(case.id, people["bu"], "the test's check")
        name = details.name
        raised = concerns.raise_concern(audit.instance_id, people["lead.police"],
                                        f"{name} had bruises and no referral was made", case.id)
        assert outbox.send_due("tests") >= 1
    [email] = smtp.to("bu.officer@partnership.example", "Immediate concern")
    assert "Immediate concern raised in Neglect in under-fives" in email["Subject"]
    assert "https://audit.example/tasks/" in _body(email)
    every_body = [_body(message) + message.get_body(preferencelist=("html",)).get_content()
                  + str(message["Subject"]) for _, message in smtp.messages]
    # neither the child's name, first name nor any identifier (the pseudonym is not one: it is the audit's)
    identifiers = [name, name.split()[0], details.system_id, *details.other_ids.values()]
    assert every_body and not [part for body in every_body for part in identifiers
                               if re.search(rf"\b{re.escape(part)}\b", body)]
    assert raised.open


def test_with_the_smtp_server_down_emails_wait_and_go_when_it_is_back_each_once(app, deployed, with_addresses,
                                                                               smtp):
    people = with_addresses
    smtp.down()
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        concerns.raise_concern(audit.instance_id, people["lead.police"], "Worried about a sibling")
        assert outbox.send_due("tests") == 0
        waiting = db.session.scalars(select(OutboxMessage)).all()
        assert waiting and {m.status for m in waiting} == {PENDING} and {m.attempts for m in waiting} == {1}
        assert all("ConnectionRefusedError" in m.last_error for m in waiting)
        clock.shift(timedelta(seconds=30))
        smtp.up()
        assert outbox.send_due("tests") == 0  # not before its wait (60 s) is over
        clock.shift(timedelta(seconds=31))
        assert outbox.send_due("tests") == len(waiting)
        assert outbox.send_due("tests") == 0
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {SENT}
    assert len(smtp.messages) == len(waiting)


def test_a_message_that_keeps_failing_is_given_up_with_its_error(app, deployed, with_addresses, smtp):
    people = with_addresses
    app.config.update(MAIL_MAX_ATTEMPTS=2)
    smtp.down()
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        concerns.raise_concern(audit.instance_id, people["lead.police"], "Worried")
        outbox.send_due("tests")
        clock.shift(timedelta(minutes=5))
        outbox.send_due("tests")
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {FAILED}


def test_a_task_given_to_someone_is_emailed_to_them_with_its_link(app, deployed, with_addresses, smtp):
    from bpmn_audit.services import tasks

    people = with_addresses
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        task = next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "police")
        tasks.assign_task(task.id, people["bu"], "lead.police")
        outbox.send_due("tests")
    [email] = smtp.to("lead.police@partnership.example", "A task is given to you")
    assert email["Subject"].startswith("A task is given to you: Confirm the agency's audit lead")
    assert f"https://audit.example/tasks/{task.id}" in _body(email)


def test_what_someone_is_told_is_listed_for_them_in_the_app_until_read(app, deployed, with_addresses, sign_in):
    people = with_addresses
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        clock.move_to(audit.data()["deadlines"]["notice_reminder"])
        clock.shift(timedelta(minutes=1))
        fire_due_timers("tests")
        nominator = sign_in("nominator")
        page = nominator.get("/notifications").get_data(as_text=True)
        assert "Reminder to nominate the cases: Neglect in under-fives" in page and "New" in page
        assert "Notifications (1)" in page
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        assert nominator.post("/notifications/read", data={"csrf_token": token}).status_code == 302
        page = nominator.get("/notifications").get_data(as_text=True)
        assert "Notifications (0)" in page and ">New<" not in page
        assert "Nothing yet" in sign_in("lead.police").get("/notifications").get_data(as_text=True)


def test_a_daily_digest_holds_what_is_not_urgent_until_7am_and_an_urgent_email_goes_at_once(
        app, deployed, with_addresses, smtp, sign_in):
    people = with_addresses
    for username in ("nominator", "bu.officer"):
        browser = sign_in(username)
        page = browser.get("/account").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        assert browser.post("/account/email", data={"csrf_token": token, "digest": "yes"}).status_code == 302
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        clock.move_to(audit.data()["deadlines"]["notice_reminder"])  # Wednesday 13 January, 09:00
        clock.shift(timedelta(minutes=1))
        fire_due_timers("tests")
        concerns.raise_concern(audit.instance_id, people["bu"], "Worried about a sibling")
        outbox.send_due("tests")
        # the nomination task's digest went on 5 January; the reminder is held for the next one
        [first] = smtp.to("nominator@partnership.example")
        assert "A task for you: Nominate the cases" in _body(first) and "Reminder" not in _body(first)
        [urgent] = smtp.to("bu.officer@partnership.example", "Immediate")  # at once, digest or not
        assert "Immediate concern raised" in urgent["Subject"]
        clock.move_to("2027-01-14T06:59:00+00:00")
        outbox.send_due("tests")
        assert len(smtp.to("nominator@partnership.example")) == 1
        clock.move_to("2027-01-14T07:01:00+00:00")
        outbox.send_due("tests")
        outbox.send_due("tests")
    digest = smtp.to("nominator@partnership.example")[-1]
    assert digest["Subject"] == "Your audit digest: 1 thing since yesterday"
    assert "Reminder to nominate the cases: Neglect in under-fives" in _body(digest)
    assert f"https://audit.example/tasks/{audit.open_tasks('nominate_cases')[0].id}" in _body(digest)


def test_a_new_task_is_emailed_to_its_agency_s_people_only_and_once(app, deployed, with_addresses, smtp):
    from bpmn_audit.services import identity

    people = with_addresses
    identity.create_user("lead.fire", "Fire lead", ["agency_lead"], agency="fire", email="lead.fire@example.org")
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        outbox.send_due("tests")
        fire_due_timers("tests")
        outbox.send_due("tests")
    [email] = smtp.to("lead.police@partnership.example")
    police = next(t for t in audit.open_tasks("confirm_audit_lead") if t.agency == "police")
    assert email["Subject"] == "A task for you: Confirm the agency's audit lead: Neglect in under-fives"
    assert "(police)" in _body(email) and f"https://audit.example/tasks/{police.id}" in _body(email)
    assert len(smtp.to("lead.csc@partnership.example")) == 1
    assert smtp.to("lead.fire@example.org") == []  # not taking part


def test_the_report_returned_and_then_signed_off_is_emailed_to_the_chair(app, deployed, with_addresses, smtp):
    people = with_addresses
    checks = {"qa_findings_evidenced": "true", "qa_factual_accuracy": "true", "qa_no_identifying_detail": "true",
              "qa_recommendations_owned": "true", "qa_concerns_closed": "true"}
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_analysis(clock)
        audit.complete("qa_analysis_report", {**checks, "qa_decision": "return", "qa_comments": "Trace finding 2"})
        outbox.send_due("tests")
        [returned] = smtp.to("chair@partnership.example", "A task for you: Revise the analysis report")
        assert "/tasks/" in _body(returned) and "Trace finding 2" not in _body(returned)
        assert smtp.to("chair@partnership.example", "Analysis report signed off") == []
        audit.complete("revise_analysis_report", {"revision_notes": "Evidence added"})
        audit.complete("qa_analysis_report", {**checks, "qa_decision": "approve"})
        audit.meet_qiip(clock)
        audit.complete("qiip_sign_off", {"qiip_quorate": "true", "qiip_decision": "approve"})
        outbox.send_due("tests")
    for address in ("chair@partnership.example", "bu.officer@partnership.example"):
        [signed] = smtp.to(address, "Analysis report signed off")
        assert signed["Subject"] == "Analysis report signed off: Neglect in under-fives"
        assert f"https://audit.example/audits/{audit.instance_id}" in _body(signed)


def test_an_email_sent_again_after_a_lost_commit_carries_the_same_message_id(app, deployed, with_addresses, smtp):
    people = with_addresses
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        concerns.raise_concern(audit.instance_id, people["lead.police"], "Worried about a sibling")
        assert outbox.send_due("tests") >= 1
        first = {str(message["Message-ID"]) for _, message in smtp.messages}
        assert len(first) == len(smtp.messages) and all(re.fullmatch(r"<outbox-[\d-]+\.\d+@[\w.-]+>", mid)
                                                        for mid in first)
        assert all(message["Date"] for _, message in smtp.messages)
        # the sender dies after the server's "250 OK" and before its commit: the messages go again
        db.session.execute(update(OutboxMessage).values(status=PENDING, sent_at=None))
        db.session.commit()
        outbox.send_due("tests")
    again = [str(message["Message-ID"]) for _, message in smtp.messages[len(first):]]
    assert sorted(again) == sorted(first)  # the receiving side can drop the repeats


def test_an_agency_s_reminder_links_each_lead_to_their_own_agency_s_report(app, deployed, with_addresses, smtp,
                                                                           sign_in):
    people = with_addresses
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        audit.pass_deadline(clock, "audit_reminder")
        outbox.send_due("tests")
        reports = {task.agency: task.id for task in audit.open_tasks("submit_agency_report")}
    for agency in ("police", "csc"):
        [reminder] = smtp.to(f"lead.{agency}@partnership.example", "Reminder sent to the audit lead")
        assert f"https://audit.example/tasks/{reports[agency]}\r\n" in _body(reminder), agency
        listed = sign_in(f"lead.{agency}").get("/notifications").get_data(as_text=True)  # and in the app
        assert f'href="/tasks/{reports[agency]}">Reminder sent to the audit lead' in listed
