"""What the inspector shows of an audit beyond its engine state: the emails it sent (to whom, the subject, sent or
waiting or failed), and its process data with the fields the process marks personal hidden from all but the
Business Unit."""

from __future__ import annotations

import html

import time_machine
from sqlalchemy import select

from bpmn_audit.models import OutboxMessage, ProcessInstance, db
from bpmn_audit.services import identity, operations
from bpmn_audit.services.outbox import send_due
from conftest import LAUNCH, PASSWORD
from operating import admin


def test_the_inspector_lists_the_audit_s_emails_and_hides_personal_fields_but_from_the_business_unit(
        app, people, deployed, sign_in, smtp, with_addresses):
    from audit_driver import AuditDriver

    admin(people)
    identity.create_user("admin.bu", "Admin in the Business Unit", ["admin", "business_unit"], password=PASSWORD)
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        audit.complete("nominate_cases")
        audit.complete("confirm_audit_lead", {"lead_name": "Sam Okafor", "lead_email": "sam.okafor@police.example",
                                              "lead_phone": "07700 900123"})
        emails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == audit.instance_id)
                                    .order_by(OutboxMessage.id)).all()
        assert emails, "starting the audit offered its first tasks by email"
        send_due("tests")
        page = html.unescape(sign_in("admin").get(f"/operations/audits/{audit.instance_id}").get_data(as_text=True))
        emails_part = page[page.index(">Emails<"):]
        assert emails[0].subject in emails_part and emails[0].recipient in emails_part and "sent " in emails_part

        data_part = page[page.index(">Process data<"):page.index(">History<")]
        assert "Sam Okafor" not in page and "sam.okafor@police.example" not in page and "07700" not in page
        assert operations.HIDDEN in data_part and '"title": "Neglect in under-fives"' in data_part

        shown = html.unescape(sign_in("admin.bu").get(f"/operations/audits/{audit.instance_id}")
                              .get_data(as_text=True))
        assert "sam.okafor@police.example" in shown and operations.HIDDEN not in shown

    instance = db.session.get(ProcessInstance, audit.instance_id)  # the rule itself, at any depth
    nested = {"leads": [{"lead_email": "x@y.example", "lead_phone": None}], "lead_name": "", "title": "T"}
    assert operations.shown_data(instance, nested, people["bu"]) == nested
    assert operations.shown_data(instance, nested, identity.get_user("admin")) == {
        "leads": [{"lead_email": operations.HIDDEN, "lead_phone": None}], "lead_name": "", "title": "T"}
