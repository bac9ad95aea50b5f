"""An audit held up by an incident: the admins are told at once, by email too (where, never the error, which can
quote process data); the audit's page and the API say where and since when, and to partnership staff why; an
admin gets a link to the inspector; once retried, nothing says it is held up. An audit an admin suspended or
terminated says who did it, when and (to partnership staff) why."""

from __future__ import annotations

import html
from datetime import timedelta

import time_machine

from bpmn_audit.models import Notification, db
from bpmn_audit.services import identity, runtime
from bpmn_audit.services.outbox import send_due
from bpmn_audit.services.timers import fire_due_timers
from conftest import PASSWORD
from operating import admin, deploy, token
from test_operations import BEFORE, DUE


def test_an_audit_held_up_tells_the_admins_and_says_where_until_it_is_retried(app, people, sign_in, client, smtp):
    deploy("timer_then_script")
    operator = admin(people)
    operator.email = "admin@partnership.example"
    identity.create_user("admin.away", "Admin without email", ["admin"], password=PASSWORD)
    db.session.commit()
    with time_machine.travel(BEFORE, tick=False) as clock:
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": True}).id
        clock.move_to(DUE + timedelta(minutes=1))
        for _ in range(3):  # the last attempt opens the incident
            fire_due_timers("w")
            clock.shift(timedelta(minutes=5))
        send_due("w")

        [email] = smtp.to("admin@partnership.example")
        assert str(email["Subject"]) == f"Held up at Prepare the agencies: Timer then script (audit {audit})"
        body = email.get_body(preferencelist=("plain",)).get_content()
        assert f"https://audit.example/operations/audits/{audit}" in body and "pairs" not in body
        told = {row.recipient for row in db.session.query(Notification).filter_by(kind="incident")}
        assert told == {"admin", "admin.away"}  # the one without an address is told in the app
        fire_due_timers("w")
        send_due("w")
        assert len(smtp.to("admin@partnership.example")) == 1  # told once

        bu_page = html.unescape(sign_in(people["bu"].username).get(f"/audits/{audit}").get_data(as_text=True))
        assert "This audit is held up at Prepare the agencies" in bu_page and "the variable 'pairs'" in bu_page
        assert "Inspect and retry it" not in bu_page
        admin_page = sign_in("admin").get(f"/audits/{audit}").get_data(as_text=True)
        assert f'href="/operations/audits/{audit}#incidents">Inspect and retry it' in admin_page
        shown = client.get(f"/api/v1/audits/{audit}", headers=token(people["bu"])).json
        [held] = shown["held_up"]
        assert held["at"] == "Prepare the agencies" and "pairs" in held["why"] and held["since"]

        assert client.post(f"/api/v1/audits/{audit}/data", headers=token(operator),
                           json={"values": {"poison": False}, "reason": "Mended"}).status_code == 200
        assert client.post(f"/api/v1/audits/{audit}/retry", headers=token(operator),
                           json={"reason": "Mended"}).json["incident"] is None
        assert client.get(f"/api/v1/audits/{audit}", headers=token(people["bu"])).json["held_up"] == []
        assert "held up" not in sign_in(people["bu"].username).get(f"/audits/{audit}").get_data(as_text=True)


def test_a_suspended_then_terminated_audit_says_who_stopped_it_when_and_why(app, people, sign_in, client):
    deploy("timer_then_script")
    headers = token(admin(people))
    with time_machine.travel(BEFORE, tick=False):
        audit = runtime.start_audit(people["bu"], "timer_then_script", {"poison": False}).id
        assert client.get(f"/api/v1/audits/{audit}", headers=token(people["bu"])).json["stopped"] is None
        client.post(f"/api/v1/audits/{audit}/suspend", headers=headers, json={"reason": "Chair off sick"})
        page = html.unescape(sign_in(people["bu"].username).get(f"/audits/{audit}").get_data(as_text=True))
        assert "This audit was suspended by admin on Mon 11 Jan 2027 08:00: Chair off sick." in page
        assert "its timers wait until an admin resumes it" in page
        shown = client.get(f"/api/v1/audits/{audit}", headers=token(people["bu"])).json["stopped"]
        assert shown == {"status": "suspended", "by": "admin", "at": "2027-01-11T08:00:00+00:00",
                         "why": "Chair off sick"}
        client.post(f"/api/v1/audits/{audit}/terminate", headers=headers, json={"reason": "Audit withdrawn"})
        page = html.unescape(sign_in(people["bu"].username).get(f"/audits/{audit}").get_data(as_text=True))
        assert "This audit was terminated by admin on Mon 11 Jan 2027 08:00: Audit withdrawn." in page
        assert "Nothing more happens in it." in page
