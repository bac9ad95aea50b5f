"""Test helper: drive an audit through the real services, task by task, as the right person."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bpmn_audit.engine.calendar import LONDON, add_working_days, working_hours_after
from bpmn_audit.models import HumanTask, ProcessInstance, db
from bpmn_audit.models.task import OPEN
from bpmn_audit.services import cases, runtime, sample_records, tasks
from bpmn_audit.services.timers import fire_due_timers
from conftest import LAUNCH

SET_UP = {
    "title": "Neglect in under-fives", "theme": "Neglect", "scope": "Recognising neglect",
    "complexity": "standard", "agencies": "police, csc, icb", "launch_date": "2027-01-04",
    "chair": "chair", "independent_chair": "false",
}
QA_APPROVED = {"qa_findings_evidenced": "true", "qa_factual_accuracy": "true", "qa_no_identifying_detail": "true",
               "qa_recommendations_owned": "true", "qa_concerns_closed": "true", "qa_decision": "approve"}
ANSWERS = {
    "confirm_audit_lead": {"lead_name": "Lead", "lead_email": "lead@agency.example"},
    "nominate_cases": {"case_count": "4", "agencies": "police, csc, icb", "nominating_system": "CSC record"},
    "collate_audit_pack": {"pack_reference": "PACK-1", "pack_distributed_on": "2027-01-08"},
    "brief_audit_leads": {"briefing_sent_on": "2027-01-11"},
    "submit_agency_report": {
        "involvement_summary": "Involved", "worked_well": "Sharing", "areas_for_development": "Recording",
        "voice_of_child": "Heard", "grading": "good", "agency_recommendations": "Training",
        "practitioner_name": "P", "practitioner_email": "p@agency.example"},
    "chase_agency_report": {"chase_notes": "Promised by Friday"},
    "share_reports": {"reports_shared_on": "2027-02-23"},
    "read_reports": {},
    "chair_reads_reports": {"chair_questions": "Why did the plans drift?"},
    "record_event_part_1": {"attendees": "All", "recording_reference": "REC-1", "themes": "Drift"},
    "record_event_part_2": {"learning": "L", "event_findings": "F", "key_questions": "Q"},
    "write_analysis_report": {"findings": "F1", "strengths": "S", "areas_for_improvement": "A",
                              "recommendations": "R1"},
    "chase_analysis_report": {"chase_notes": "Tomorrow"},
    "revise_analysis_report": {"revision_notes": "Evidence traced"},
    "record_actions": {"actions": "Roll out the toolkit | MACFA | csc | 2027-09-30"},
}


class AuditDriver:
    """Starts one audit and completes its tasks as the people in ``people``."""

    def __init__(self, people: dict, set_up: dict | None = None):
        """``set_up`` overrides SET_UP; its ``agencies`` are given with the nomination, as the process asks."""
        self.people = people
        set_up = {**SET_UP, **(set_up or {})}
        self.agencies = set_up.pop("agencies")
        self.instance_id = runtime.start_audit(people["bu"]).id
        self.complete("set_up_audit", set_up)

    def open_tasks(self, bpmn_id: str | None = None) -> list[HumanTask]:
        db.session.expire_all()
        query = select(HumanTask).where(HumanTask.instance_id == self.instance_id, HumanTask.status == OPEN)
        if bpmn_id:
            query = query.where(HumanTask.bpmn_id == bpmn_id)
        return list(db.session.scalars(query.order_by(HumanTask.id)))

    def person_for(self, task: HumanTask):
        """Whom the task is for: its group's person in ``people`` (``people["chair"]`` must be the named chair)."""
        group = task.candidate_groups[0]
        key = {"business_unit": "bu", "chair": "chair", "qiip": "qiip", "nominating_partner": "nominator",
               "agency_lead": f"lead.{task.agency}", "practitioner": f"practitioner.{task.agency}"}[group]
        return self.people[key]

    def complete(self, bpmn_id: str, values: dict | None = None) -> None:
        """Complete every open task with this id (each agency's, for per-agency tasks), first doing in the
        app's pages what the task needs: cases in the register, each agency's audit of them."""
        found = self.open_tasks(bpmn_id)
        assert found, f"no open task {bpmn_id}; open: {[t.bpmn_id for t in self.open_tasks()]}"
        if values is None:
            values = ANSWERS[bpmn_id]
            if bpmn_id == "nominate_cases":
                values = {**values, "agencies": self.agencies}
        if bpmn_id == "nominate_cases":
            self.nominate(int(values.get("case_count", 4)))
        for task in found:
            if bpmn_id == "submit_agency_report":
                self.audit_cases(task.agency)
            tasks.complete_task(task.id, self.person_for(task), values)

    def nominate(self, count: int) -> None:
        """Enter made-up children in the audit's case register, up to ``count``."""
        have = len(cases.list_cases(self.instance_id, self.people["bu"]))
        if have < count:
            sample_records.nominate_cases(self.instance_id, self.people["nominator"], count - have, LAUNCH.date())

    def audit_cases(self, agency: str) -> None:
        """The agency's finding on every case and its return, nominating its practitioner."""
        sample_records.complete_agency_audit(self.instance_id, agency, self.people[f"lead.{agency}"],
                                             f"practitioner.{agency}")

    def data(self) -> dict:
        from bpmn_audit.services.persistence import engine_limits, load_audit

        return load_audit(db.session.get(ProcessInstance, self.instance_id), engine_limits()).data

    def through_notice(self, clock) -> None:
        """Confirm leads, nominate, collate, brief, and let the notice period end."""
        for bpmn_id in ("nominate_cases", "collate_audit_pack", "confirm_audit_lead", "brief_audit_leads"):
            self.complete(bpmn_id)
        self.pass_deadline(clock, "notice_due")

    def pass_deadline(self, clock, key: str) -> None:
        """Move the clock a minute past a planned deadline and fire what is due."""
        self.pass_moment(clock, self.data()["deadlines"][key])

    def pass_moment(self, clock, moment: str) -> None:
        """Move the clock a minute past ``moment`` (ISO) and fire what is due."""
        clock.move_to(moment)
        clock.shift(timedelta(minutes=1))
        fire_due_timers("tests")

    def meet_qiip(self, clock) -> None:
        """Book the report into QiiP's next meeting (the next working day) and let that morning come."""
        day = add_working_days(datetime.now(LONDON).date(), 1)
        self.complete("book_qiip_meeting", {"qiip_meeting_on": day.isoformat()})
        self.pass_moment(clock, working_hours_after(day, 0))

    def through_reading(self, clock) -> None:
        """From launch to the practitioners and the chair having read the reports: every agency on time."""
        self.through_notice(clock)
        for bpmn_id in ("submit_agency_report", "share_reports", "read_reports", "chair_reads_reports"):
            self.complete(bpmn_id)

    def through_event(self, clock) -> None:
        """On to the practitioner event's day (as booked in ``event_at``), and both parts recorded."""
        self.through_reading(clock)
        self.pass_moment(clock, self.data()["event_at"])
        for bpmn_id in ("record_event_part_1", "record_event_part_2"):
            self.complete(bpmn_id)

    def through_analysis(self, clock) -> None:
        """From launch to the chair's analysis report submitted: every agency on time."""
        self.through_event(clock)
        self.complete("write_analysis_report")

    def through_sign_off(self, clock) -> None:
        """From launch to QiiP's sign-off: QA approves first time, QiiP at its next meeting."""
        self.through_analysis(clock)
        self.signed_off(clock)

    def signed_off(self, clock) -> None:
        """From the analysis report submitted to QiiP's sign-off: QA approves, QiiP at its next meeting."""
        self.complete("qa_analysis_report", QA_APPROVED)
        self.meet_qiip(clock)
        self.complete("qiip_sign_off", {"qiip_quorate": "true", "qiip_decision": "approve"})

    def to_the_end(self, clock) -> None:
        """From the chair's analysis report open to the audit completed: written, approved, signed off, actions."""
        self.complete("write_analysis_report")
        self.signed_off(clock)
        self.complete("record_actions")
