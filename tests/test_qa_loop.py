"""QA and QiiP can each send the report back to the chair; the loop comes round to sign-off."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit.engine.calendar import LONDON
from bpmn_audit.models import ProcessInstance, TrackerAction, db
from bpmn_audit.services import tasks
from conftest import LAUNCH

QA = {"qa_findings_evidenced": "true", "qa_factual_accuracy": "true", "qa_no_identifying_detail": "true",
      "qa_recommendations_owned": "true", "qa_concerns_closed": "true"}


def test_qa_and_qiip_returns_loop_back_to_the_chair_until_signed_off(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_analysis(clock)

        audit.complete("qa_analysis_report", {**QA, "qa_decision": "return", "qa_comments": "Trace F1"})
        assert [(t.bpmn_id, t.lane) for t in tasks.inbox(people["chair"])] == [("revise_analysis_report", "Chair")]
        assert tasks.inbox(people["qiip"]) == []
        audit.complete("revise_analysis_report")

        audit.complete("qa_analysis_report", {**QA, "qa_decision": "approve"})
        # QiiP signs off at its next meeting: the Business Unit books the report in, QiiP's task opens that day
        assert [t.bpmn_id for t in tasks.inbox(people["bu"])] == ["book_qiip_meeting"]
        assert tasks.inbox(people["qiip"]) == []
        audit.meet_qiip(clock)
        [sign_off] = audit.open_tasks("qiip_sign_off")
        assert sign_off.due_at.astimezone(LONDON).hour == 17
        audit.complete("qiip_sign_off", {"qiip_quorate": "true", "qiip_decision": "return",
                                         "qiip_comments": "Needs an owner for R1"})
        assert [t.bpmn_id for t in tasks.inbox(people["chair"])] == ["revise_analysis_report"]
        audit.complete("revise_analysis_report")

        # a revision after QiiP goes through QA again before it returns to QiiP
        assert [t.bpmn_id for t in tasks.inbox(people["bu"])] == ["qa_analysis_report"]
        audit.complete("qa_analysis_report", {**QA, "qa_decision": "approve"})
        audit.meet_qiip(clock)
        # a meeting that is not quorate cannot sign off: the report goes to QiiP's next meeting
        audit.complete("qiip_sign_off", {"qiip_quorate": "false", "qiip_decision": "approve"})
        assert [t.bpmn_id for t in tasks.inbox(people["bu"])] == ["book_qiip_meeting"]
        audit.meet_qiip(clock)
        audit.complete("qiip_sign_off", {"qiip_quorate": "true", "qiip_decision": "approve"})
        audit.complete("record_actions", {"actions": "Toolkit | F1: neglect seen late | MACFA | csc | Head of CSC | "
                                                     "2027-09-30\nChronologies | lcspr | icb | 2027-10-31"})

    instance = db.session.get(ProcessInstance, audit.instance_id)
    assert instance.status == "completed" and instance.ended_at is not None
    actions = db.session.scalars(select(TrackerAction).order_by(TrackerAction.id)).all()
    assert [(a.action, a.source_finding, a.review_type, a.owner_agency, a.owner_person, str(a.due_date),
             a.rag_status) for a in actions] == [
        ("Toolkit", "F1: neglect seen late", "MACFA", "csc", "Head of CSC", "2027-09-30", "green"),
        ("Chronologies", None, "LCSPR", "icb", None, "2027-10-31", "green")]  # the older four-part line still reads
    revisions = [t for t in audit.open_tasks()]
    assert revisions == []


def test_each_revision_is_due_five_working_days_after_the_return(app, people, deployed):
    from datetime import datetime, timedelta

    from bpmn_audit.engine.calendar import LONDON

    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_analysis(clock)
        # QA returns it on Thu 25 Mar: Good Friday and Easter Monday are not working days
        clock.move_to(datetime(2027, 3, 25, 11, 0, tzinfo=LONDON))
        audit.complete("qa_analysis_report", {**QA, "qa_decision": "return", "qa_comments": "Trace F1"})
        [revision] = audit.open_tasks("revise_analysis_report")
        assert revision.due_at == datetime(2027, 4, 5, 17, 0, tzinfo=LONDON)  # Tue 30 Mar is the first
        audit.complete("revise_analysis_report")
        audit.complete("qa_analysis_report", {**QA, "qa_decision": "approve"})
        # QiiP returns it a week later: the second revision has its own deadline, not the first one's
        clock.shift(timedelta(days=6))
        audit.meet_qiip(clock)
        audit.complete("qiip_sign_off", {"qiip_quorate": "true", "qiip_decision": "return", "qiip_comments": "R1"})
        [second] = audit.open_tasks("revise_analysis_report")
        assert second.due_at == datetime(2027, 4, 8, 17, 0, tzinfo=LONDON)
