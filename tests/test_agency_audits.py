"""Each agency audits every case, saved part-done; its report completes only when whole, hands on the
nominated practitioner (who alone gets the reading task), and a late report closes its own chase."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from audit_driver import ANSWERS, AuditDriver
from bpmn_audit.models import HumanTask, Notification, ProcessInstance, db
from bpmn_audit.models.task import CANCELLED, OPEN
from bpmn_audit.services import agency_audits, cases, identity, tasks
from bpmn_audit.services.errors import FormInvalid, NotFound
from bpmn_audit.services.persistence import engine_limits, load_audit
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH

FINDING = {"involved": "yes", "involvement_summary": "Health visiting", "worked_well": "Sharing",
           "areas_for_development": "Recording", "voice_of_child": "Heard", "grading": "good",
           "recommendations": "Training"}
RETURN = {"summary": "Involved with most", "practitioner": "practitioner.police", "senior_name": "Sam Senior",
          "senior_role": "Head of safeguarding"}


def report_task(audit: AuditDriver, agency: str) -> HumanTask:
    return next(t for t in audit.open_tasks("submit_agency_report") if t.agency == agency)


def test_nomination_needs_the_children_in_the_register_and_hands_on_ids_and_pseudonyms_only(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        [task] = audit.open_tasks("nominate_cases")
        with pytest.raises(FormInvalid, match="Enter each child in the case register first"):
            tasks.complete_task(task.id, people["nominator"], ANSWERS["nominate_cases"])
        audit.nominate(3)
        with pytest.raises(FormInvalid) as refused:
            tasks.complete_task(task.id, people["nominator"], ANSWERS["nominate_cases"])  # says four
        assert refused.value.errors == {"case_count": "The case register holds 3 case(s), not 4: add the missing "
                                                      "cases or correct the number"}
        audit.complete("nominate_cases")
        data = audit.data()
    assert data["pseudonyms"] == ["Child A", "Child B", "Child C", "Child D"]
    assert [set(case) for case in data["cases"]] == [{"id", "pseudonym"}] * 4
    assert "Example" not in str(data)  # no child's name in process data


def test_an_agency_audit_is_saved_part_done_and_the_report_waits_until_it_is_whole(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        lead = people["lead.police"]
        [child_a, child_b, *others] = [case.id for case in cases.list_cases(audit.instance_id, lead)]
        agency_audits.save_finding(audit.instance_id, "police", child_a, lead, {"involved": "yes",
                                                                                 "worked_well": "Sharing"})
        agency_audits.save_finding(audit.instance_id, "police", child_b, lead, {"involved": "no"})
        with pytest.raises(FormInvalid) as refused:
            tasks.complete_task(report_task(audit, "police").id, lead, {})
        message = refused.value.errors["_process"]
        assert message.startswith("The agency audit is not finished: Child A: the summary of involvement, "
                                  "areas for development, the voice of the child, recommendations, the grading missing")
        assert "Child B" not in message and "Child C: say whether the agency was involved" in message
        assert message.endswith("the agency summary, the senior manager's name, the senior manager's role, the "
                                "nominated practitioner missing")
        # saved part-done: what was entered is still there
        view = agency_audits.agency_audit(audit.instance_id, "police", people["bu"])
        assert view.cases[0][2]["worked_well"] == "Sharing" and view.cases[1][2]["involved"] is False

        for case_id in (child_a, *others):
            agency_audits.save_finding(audit.instance_id, "police", case_id, lead, FINDING)
        agency_audits.save_return(audit.instance_id, "police", lead, RETURN)
        tasks.complete_task(report_task(audit, "police").id, lead, {})
    assert [t.agency for t in audit.open_tasks("submit_agency_report")] == ["csc", "icb"]


def test_agency_audit_values_and_who_may_write_them(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        lead = people["lead.police"]
        case_id = cases.list_cases(audit.instance_id, lead)[0].id
        with pytest.raises(FormInvalid) as refused:
            agency_audits.save_finding(audit.instance_id, "police", case_id, lead,
                                       {"involved": "perhaps", "grading": "superb", "worked_well": ["a list"]})
        assert refused.value.errors == {
            "involved": "Say whether the agency was involved with this child: yes or no",
            "grading": "Choose a grading: Outstanding, Good, Requires improvement, Inadequate",
            "worked_well": "Write what worked well as text"}
        with pytest.raises(FormInvalid, match="Choose a practitioner of police"):
            agency_audits.save_return(audit.instance_id, "police", lead, {"practitioner": "practitioner.csc"})
        for outsider in (people["lead.csc"], people["practitioner.police"], people["qiip"]):
            with pytest.raises(NotFound):
                agency_audits.save_finding(audit.instance_id, "police", case_id, outsider, FINDING)
        with pytest.raises(NotFound):
            agency_audits.agency_audit(audit.instance_id, "police", people["lead.csc"])
        assert agency_audits.agency_audit(audit.instance_id, "police", people["bu"]).agency == "police"


def test_only_the_nominated_practitioner_gets_the_reading_task(app, people, deployed):
    other = identity.create_user("practitioner.police.2", "Another police practitioner", ["practitioner"],
                                 agency="police")
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        audit.complete("submit_agency_report")
        audit.complete("share_reports")
        reading = {t.agency: t for t in audit.open_tasks("read_reports")}
    assert reading["police"].assignee == "practitioner.police"
    assert [t.bpmn_id for t in tasks.inbox(people["practitioner.police"])] == ["read_reports"]
    assert tasks.inbox(other) == []
    # the nominated practitioners and the chair are told of the event; nobody else
    told = set(db.session.scalars(select(Notification.recipient).where(
        Notification.text.like("Reports shared: read them before the practitioner event%"))))
    assert told == {"practitioner.police", "practitioner.csc", "practitioner.icb", "chair"}


def test_a_report_that_arrives_closes_its_own_chase(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        audit.through_notice(clock)
        for agency in ("police", "csc"):
            audit.audit_cases(agency)
            tasks.complete_task(report_task(audit, agency).id, people[f"lead.{agency}"], {})
        due = datetime.fromisoformat(audit.data()["deadlines"]["audit_due"])
        clock.move_to(due + timedelta(minutes=1))
        fire_due_timers("w")
        [chase] = audit.open_tasks("chase_agency_report")
        audit.audit_cases("icb")
        tasks.complete_task(report_task(audit, "icb").id, people["lead.icb"], {})
        db.session.expire_all()
        assert db.session.get(HumanTask, chase.id).status == CANCELLED
        assert [t.bpmn_id for t in audit.open_tasks()] == ["share_reports"]  # the reports are not held up
        assert db.session.scalars(select(HumanTask).where(HumanTask.status == OPEN,
                                                          HumanTask.bpmn_id == "chase_agency_report")).all() == []
        instance = db.session.get(ProcessInstance, audit.instance_id)
        assert [view.bpmn_id for view in load_audit(instance, engine_limits()).user_tasks()] == ["share_reports"]
