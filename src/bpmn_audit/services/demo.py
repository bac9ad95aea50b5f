"""A demo partnership in an empty database: its people, the shipped process, and two audits with work.

The partnership's agencies listed; six of them with their audit leads and practitioners, a Business Unit
officer, a nominating partner, two chairs, two QiiP members, a process owner and an admin, all with one
password made for this demo. One audit is just launched (its cases wait to be nominated); the other was
launched weeks ago, so that it is now part-way through the agency audit: the agency reports were due
within the last week, one agency is overdue, the Business Unit has yet to share the reports, and the
immediate concern one agency raised is still open. That audit is driven by the simulation's people on a
virtual clock up to now.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from ..engine.calendar import LONDON, plan_deadlines
from ..models import User, db
from ..models.base import utcnow
from . import agencies, deployments, identity, runtime, tasks
from .errors import Conflict
from .simulation import SAMPLE_AGENCIES, Behaviour, create_people, drive

AGENCIES = SAMPLE_AGENCIES[:6]
#: the standard audit's phases in weeks (the decision table's "standard" row): notice, audit, review...
STANDARD_WEEKS = (2, 5, 2, 2, 1)


@dataclass
class DemoResult:
    """What the demo made: the password, each person, and the two audits' ids."""

    password: str
    people: list[User]
    launched_id: int
    in_progress_id: int


def seed(processes_dir: str | Path, now: datetime | None = None) -> DemoResult:
    """Seed the demo partnership. Needs an app context and a database with nobody in it (else Conflict)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        raise Conflict("this database already has people in it: the demo needs an empty one "
                       "(point BPMN_AUDIT_DATABASE_URL at a new database and run bpmn-audit init-db)")
    now = now or utcnow()
    password = secrets.token_urlsafe(9)
    launch = _launch_for_reports_due_before(now)
    with time_machine.travel(launch, tick=False) as clock:
        deployments.deploy_directory(processes_dir, deployed_by="demo")
        people = create_people(AGENCIES, password)
        for username, name, group in [("chair.two", "Second chair", "chair"),
                                      ("qiip.two", "Second QiiP member", "qiip"),
                                      ("process.owner", "Process owner", "process_owner"), ("admin", "Admin", "admin")]:
            people[username] = identity.create_user(username, name, [group], password=password,
                                                    email=f"{username}@partnership.example")
        for code, name in SAMPLE_AGENCIES:  # the partnership lists all; each audit chooses some
            agencies.add_agency(people["business_unit"], {"code": code, "name": name})
        in_progress = runtime.start_audit(people["business_unit"])
        late = AGENCIES[-1][0]
        held = frozenset({("submit_agency_report", late), ("respond_to_concern", None), ("share_reports", None)})
        person = Behaviour(AGENCIES, 4, launch, never=held, password=password)
        drive(in_progress.id, person, people, clock, until=now)
    launched = runtime.start_audit(people["business_unit"])
    [set_up] = tasks.inbox(people["business_unit"], only=tasks.InboxFilter(audit_id=launched.id))
    answers = Behaviour(AGENCIES, 4, now).answers(set_up) | {
        "title": "Exploitation of teenagers outside the home", "theme": "Extra-familial harm",
        "scope": "How agencies worked together with teenagers at risk of exploitation.",
        "launch_date": now.astimezone(LONDON).date().isoformat(), "chair": "chair.two", "independent_chair": "false"}
    tasks.complete_task(set_up.id, people["business_unit"], answers)
    return DemoResult(password, sorted(people.values(), key=lambda user: user.username), launched.id,
                      in_progress.id)


def _launch_for_reports_due_before(now: datetime) -> datetime:
    """The latest Monday, 9:00 London, whose standard audit had its agency reports due before ``now``."""
    day = now.astimezone(LONDON).date() - timedelta(days=now.astimezone(LONDON).weekday())
    for _week in range(30):
        due = datetime.fromisoformat(plan_deadlines(day, *STANDARD_WEEKS)["audit_due"])
        if due < now:
            return datetime.combine(day, time(9, 0), tzinfo=LONDON)
        day -= timedelta(days=7)
    raise ValueError("no launch date puts the agency reports in the past")
