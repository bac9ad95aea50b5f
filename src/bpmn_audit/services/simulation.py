"""A whole audit on a virtual clock: every task done by the right person, every timer fired on time.

The simulation drives the real services (deploy, start, complete, fire timers) against a real
database; each step loads the workflow from the database and saves it back. Time moves with
time-machine, because SpiffWorkflow reads the system clock. People behave plausibly: most work is
done a little before its deadline, one agency is late (so its reminder and the Business Unit's
escalation happen), the chair cuts it close (so the chair's reminder fires), and QA sends the
first draft back once. The audit asks for an independent chair, whom the Business Unit adds as a user
of the chair group and names while the notice work goes on; the chair's tasks are then theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from ..engine.calendar import LONDON, roll_forward
from ..models import Concern, HistoryEvent, HumanTask, TrackerAction, User, db
from ..models.base import utcnow
from ..models.instance import COMPLETED
from ..models.task import OPEN
from . import cases as case_register
from . import concerns, deployments, identity, runtime, sample_records, tasks, timers

SAMPLE_AGENCIES = [
    ("csc", "Children's Social Care"), ("police", "Police"), ("icb", "Integrated Care Board"),
    ("education", "Education"), ("acute_trust", "Acute hospital trust"),
    ("community_health", "Community health trust"), ("early_help", "Early Help"),
    ("youth_justice", "Youth Justice"), ("substance_misuse", "Drug and alcohol services"),
    ("probation", "Probation"), ("fire", "Fire and rescue"), ("housing", "Housing"),
]
MAX_STEPS = 2000
#: the username of the independent chair the Business Unit sources (and adds as a user of the chair group)
INDEPENDENT_CHAIR = "independent.chair"


@dataclass
class TimelineRow:
    """One line of the printed timeline."""

    phase: str
    task: str
    who_for: str
    due: datetime | None
    done: datetime
    by: str


@dataclass
class SimulationResult:
    """What happened, for the CLI to print and the tests to check."""

    instance_id: int
    completed: bool
    tracker_actions: int
    reminders: int
    escalations: int
    qa_returns: int
    concerns_closed: int = 0
    timeline: list[TimelineRow] = field(default_factory=list)


def run(processes_dir: str | Path, agencies: int = 6, cases: int = 4,
        start: datetime | None = None) -> SimulationResult:
    """Run one audit from set-up to the action tracker. Needs an app context with an empty database."""
    if not 1 <= agencies <= len(SAMPLE_AGENCIES):
        raise ValueError(f"--agencies must be between 1 and {len(SAMPLE_AGENCIES)}")
    if not 1 <= cases <= 26:
        raise ValueError("--cases must be between 1 and 26")
    start = start or _next_monday_morning(datetime.now(LONDON))
    chosen = SAMPLE_AGENCIES[:agencies]
    with time_machine.travel(start, tick=False) as clock:
        deployments.deploy_directory(processes_dir, deployed_by="simulation")
        people = create_people(chosen)
        instance = runtime.start_audit(people["business_unit"])
        drive(instance.id, Behaviour(chosen, cases, start), people, clock)
        return _result(instance.id)


def drive(instance_id: int, person: Behaviour, people: dict[str, User], clock: time_machine.Coordinates,
          until: datetime | None = None) -> None:
    """Do each open task when ``person`` would, firing timers as they fall due, until the audit ends (or the
    clock would pass ``until``); tasks ``person`` holds back stay open."""
    planned: dict[int, datetime] = {}
    for _step in range(MAX_STEPS):
        db.session.expire_all()
        if runtime.get_instance(instance_id).status == COMPLETED:
            return
        open_tasks = [task for task in db.session.scalars(select(HumanTask).where(HumanTask.status == OPEN))
                      if not person.holds_back(task)]
        for task in open_tasks:
            planned.setdefault(task.id, person.when(task))
        next_action = min((planned[t.id] for t in open_tasks), default=None)
        next_timer = timers.next_due_at()
        if next_timer is not None:
            next_timer += timedelta(minutes=1)
        moments = [m for m in (next_action, next_timer) if m is not None]
        if not moments or (until is not None and min(moments) > until):
            return  # nothing more to do before ``until`` (or at all)
        clock.move_to(max(min(moments), utcnow()))
        timers.fire_due_timers("simulation")
        for task in open_tasks:
            if planned[task.id] <= utcnow() and db.session.get(HumanTask, task.id).status == OPEN:
                person.prepare(task, instance_id, people)
                tasks.complete_task(task.id, someone_for(task, people), person.answers(task))


class Behaviour:
    """When each person does their task, and what they write. ``never`` holds back for good the tasks of
    these (BPMN id, agency) pairs, agency None for any, as the demo does to leave work open."""

    def __init__(self, agencies: list[tuple[str, str]], cases: int, start: datetime,
                 never: frozenset[tuple[str, str | None]] = frozenset(), password: str | None = None):
        self.agencies = agencies
        self.late_agency = agencies[-1][0]
        self.cases = cases
        self.start = start
        self.never = never
        self.password = password  # of the people this person adds as users (the independent chair)
        self.qa_rounds = 0
        self.concern_raised = False

    def holds_back(self, task: HumanTask) -> bool:
        """True for a task this person leaves undone."""
        return (task.bpmn_id, None) in self.never or (task.bpmn_id, task.agency) in self.never

    def when(self, task: HumanTask) -> datetime:
        """When the person does the task: on a working day, as people do."""
        moment = self._when(task).astimezone(LONDON)
        day = roll_forward(moment.date())
        return moment if day == moment.date() else datetime.combine(day, time(10, 0), tzinfo=LONDON)

    def _when(self, task: HumanTask) -> datetime:
        created = task.created_at
        stagger = timedelta(hours=[code for code, _ in self.agencies].index(task.agency)) if task.agency else \
            timedelta(0)
        if task.bpmn_id == "submit_agency_report":
            if task.agency == self.late_agency:
                return task.due_at + timedelta(days=2)
            return task.due_at - timedelta(days=4) + stagger
        if task.bpmn_id == "write_analysis_report":
            return task.due_at - timedelta(days=1)
        if task.bpmn_id in ("chase_agency_report", "chase_analysis_report"):
            return created + timedelta(hours=2)
        if task.bpmn_id == "respond_to_concern":  # within the hour, before it is escalated
            return created + timedelta(hours=1)
        if task.bpmn_id in ("confirm_audit_lead", "read_reports", "chair_reads_reports"):
            return created + timedelta(days=2) + stagger
        if task.bpmn_id in ("record_event_part_1", "record_event_part_2"):  # on the day: part 1, the break, part 2
            return created + timedelta(hours=3)
        if task.bpmn_id in ("set_up_audit",):
            return created + timedelta(hours=1)
        return created + timedelta(days=1)

    def prepare(self, task: HumanTask, audit_id: int, people: dict[str, User]) -> None:
        """What people do in the app's pages before completing a task: enter the children in the case
        register, audit each case for their agency, add the independent chair they sourced as a user; and the
        first agency to report raises a concern."""
        if task.bpmn_id == "source_independent_chair":
            people["independent_chair"] = identity.create_user(INDEPENDENT_CHAIR, "R. Patel, independent reviewer",
                                                               ["chair"], password=self.password)
        elif task.bpmn_id == "nominate_cases":
            sample_records.nominate_cases(audit_id, people["nominating_partner"], self.cases,
                                          self.start.astimezone(LONDON).date())
        elif task.bpmn_id == "submit_agency_report":
            lead = people[f"agency_lead:{task.agency}"]
            sample_records.complete_agency_audit(audit_id, task.agency, lead, f"practitioner.{task.agency}")
            if not self.concern_raised:
                self.concern_raised = True
                first_case = case_register.list_cases(audit_id, lead)[0]
                concerns.raise_concern(audit_id, lead, f"Bruising on {first_case.pseudonym} seen while reading the "
                                                       "records was not followed up", case_id=first_case.id)

    def answers(self, task: HumanTask) -> dict[str, str]:
        agency_name = dict(self.agencies).get(task.agency or "", "")
        sample = {
            "set_up_audit": {
                "title": "Neglect in families with children under five", "theme": "Neglect",
                "scope": "How agencies recognised and responded to neglect of children under five.",
                "complexity": "standard",
                "launch_date": self.start.astimezone(LONDON).date().isoformat(),
                "chair": "", "independent_chair": "true"},
            "source_independent_chair": {"sourced_chair": INDEPENDENT_CHAIR,
                                         "independent_chair_organisation": "Independent reviewer",
                                         "independent_chair_confirmed_on": _today()},
            "confirm_audit_lead": {"lead_name": f"{agency_name} audit lead",
                                   "lead_email": f"audit.lead@{task.agency}.example"},
            "nominate_cases": {"case_count": str(self.cases), "agencies": ", ".join(code for code, _ in self.agencies),
                               "nominating_system": "Children's social care record",
                               "selection_rationale": "Children under five on a neglect plan in the last year."},
            "collate_audit_pack": {"pack_reference": "MACFA-2027-01-PACK", "pack_distributed_on": _today()},
            "brief_audit_leads": {"briefing_sent_on": _today(), "briefing_notes": "Theme, scope and timescales."},
            "submit_agency_report": {
                "involvement_summary": f"{agency_name} was involved with every nominated child.",
                "worked_well": "Timely information sharing at strategy discussions.",
                "areas_for_development": "Recording the lived experience of the child.",
                "voice_of_child": "Captured for Child A and Child B; absent for the others.",
                "grading": "requires_improvement", "agency_recommendations": "Refresh neglect training.",
                "practitioner_name": f"{agency_name} practitioner",
                "practitioner_email": f"practitioner@{task.agency}.example", "immediate_concern": "false"},
            "chase_agency_report": {"chase_notes": "Agency lead promised the report within two days."},
            "respond_to_concern": {"outcome": "referral_made", "referral_reference": "MASH-2027-0142",
                                   "action_taken": "Referred to the MASH with the agency lead; strategy discussion "
                                                   "held the same day."},
            "share_reports": {"reports_shared_on": _today()},
            "read_reports": {"questions_for_event": "How was the child's voice captured?"},
            "chair_reads_reports": {"chair_questions": "Why did neglect plans drift in three of the cases?"},
            "record_event_part_1": {"attendees": "Chair, one practitioner per agency, Business Unit",
                                    "recording_reference": "REC-2027-001",
                                    "themes": "Drift in neglect plans; missed health appointments."},
            "record_event_part_2": {"learning": "Chronologies help agencies see cumulative harm.",
                                    "event_findings": "Neglect recognised late in three of four cases.",
                                    "key_questions": "How do agencies share concerns below threshold?"},
            "write_analysis_report": {"findings": "F1: cumulative harm recognised late (CSC, Health).",
                                      "strengths": "Strong multi-agency strategy discussions.",
                                      "areas_for_improvement": "Use of chronologies.",
                                      "recommendations": "R1: neglect toolkit in use by all agencies by June."},
            "chase_analysis_report": {"chase_notes": "Chair will submit tomorrow."},
            "revise_analysis_report": {"revision_notes": "Traced every finding to agency evidence."},
            "book_qiip_meeting": {"qiip_meeting_on": _today(days=2)},
            "qiip_sign_off": {"qiip_quorate": "true", "qiip_decision": "approve"},
            "record_actions": {"actions": "\n".join([
                "Roll out the neglect toolkit to all agencies | MACFA | csc | 2027-09-30",
                "Chronology training for health visitors | LCSPR | icb | 2027-10-31",
                "Check rapid review learning on missed appointments is embedded | Rapid Review | police | "
                "2027-08-31"])},
        }
        if task.bpmn_id == "qa_analysis_report":
            self.qa_rounds += 1
            approve = self.qa_rounds > 1
            return {"qa_findings_evidenced": str(approve).lower(), "qa_factual_accuracy": "true",
                    "qa_no_identifying_detail": "true", "qa_recommendations_owned": "true",
                    "qa_concerns_closed": "true", "qa_decision": "approve" if approve else "return",
                    "qa_comments": "" if approve else "Trace each finding to the agency evidence."}
        return sample.get(task.bpmn_id, {})


def create_people(agencies: list[tuple[str, str]], password: str | None = None) -> dict[str, User]:
    """The people of a partnership, keyed by group (``group:agency`` for agency staff)."""
    def person(username: str, name: str, group: str, agency: str | None = None) -> User:
        return identity.create_user(username, name, [group], agency=agency, password=password,
                                    email=f"{username}@partnership.example")

    people = {
        "business_unit": person("bu.officer", "Business Unit officer", "business_unit"),
        "chair": person("chair", "Audit chair", "chair"),
        "qiip": person("qiip.member", "QiiP member", "qiip"),
        "nominating_partner": person("csc.nominator", "CSC nominating officer", "nominating_partner", "csc"),
    }
    for code, name in agencies:
        people[f"agency_lead:{code}"] = person(f"lead.{code}", f"{name} audit lead", "agency_lead", code)
        people[f"practitioner:{code}"] = person(f"practitioner.{code}", f"{name} practitioner", "practitioner", code)
    return people



def someone_for(task: HumanTask, people: dict[str, User]) -> User:
    if task.assignee:  # named on the task (the audit's chair, an agency's practitioner)
        for user in people.values():
            if user.username == task.assignee:
                return user
    for group in task.candidate_groups:
        for key in (f"{group}:{task.agency}", group):
            if key in people and identity.can_work_on(people[key], task):
                return people[key]
    raise LookupError(f"nobody in the simulation can do '{task.name}' ({task.candidate_groups}, {task.agency})")


def _result(instance_id: int) -> SimulationResult:
    instance = runtime.get_instance(instance_id)
    history = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                                 .order_by(HistoryEvent.at, HistoryEvent.id)).all()
    concern_processes = select(Concern.process_id).where(Concern.audit_id == instance_id)
    done = db.session.scalars(select(HumanTask).where(
        (HumanTask.instance_id == instance_id) | HumanTask.instance_id.in_(concern_processes),
        HumanTask.completed_by.is_not(None))).all()
    rows = [TimelineRow(t.phase or "", t.name, _lane_and_agency(t.lane, t.agency), t.due_at, t.completed_at,
                        t.completed_by) for t in done]
    rows += [TimelineRow((e.detail or {}).get("phase") or "", e.name, _lane_and_agency(None, e.agency), None, e.at,
                         "process") for e in history if e.kind in ("timer_fired", "notification")]
    rows.sort(key=lambda row: row.done)
    actions = db.session.scalar(select(func.count()).where(TrackerAction.instance_id == instance_id)) or 0
    return SimulationResult(
        instance_id=instance_id, completed=instance.status == COMPLETED, tracker_actions=actions,
        reminders=sum(1 for e in history if e.kind == "timer_fired" and e.bpmn_id.startswith("b_remind_")),
        escalations=sum(1 for t in done if t.bpmn_id.startswith("chase_")),
        qa_returns=sum(1 for t in done if t.bpmn_id == "qa_analysis_report"
                       and (t.form_data or {}).get("qa_decision") == "return"),
        concerns_closed=sum(1 for t in done if t.bpmn_id == concerns.RESPONSE_TASK), timeline=rows)


def _lane_and_agency(lane: str | None, agency: str | None) -> str:
    return " / ".join(part for part in (lane, agency) if part)


def _today(days: int = 0) -> str:
    return (utcnow().astimezone(LONDON).date() + timedelta(days=days)).isoformat()


def _next_monday_morning(now: datetime) -> datetime:
    days = (7 - now.weekday()) % 7 or 7
    return datetime.combine(now.date() + timedelta(days=days), time(9, 0), tzinfo=LONDON)
