"""The inbox with 10 running audits against 10,000: one agency lead, whose agency takes part in 10 of them.

Ten audits are run for real (set up and nominated, so each agency has its lead-confirmation task); the
other 9,990 are copies of their rows (process instances, human tasks, candidates) given to other
agencies, as a busy partnership's database would hold them. Prints the median time of the lead's
inbox (a page of 50) and its count, and the ratio between the two sizes, measured in this one run.

    make bench            # or: .venv/bin/python bench/bench_inbox.py [--audits N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import time_machine
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from bpmn_audit import MIGRATIONS_DIR, create_app
from bpmn_audit.models import HumanTask, ProcessInstance, TaskCandidate, User, db
from bpmn_audit.services import deployments, identity, runtime, sample_records, tasks

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = date(2027, 1, 4)
SET_UP = {"title": "Neglect in under-fives", "theme": "Neglect", "scope": "Recognising neglect",
          "complexity": "standard", "launch_date": LAUNCH.isoformat(), "independent_chair": "false"}


def run_audits(count: int, bu: object, nominator: object) -> None:
    """``count`` real audits in which police, csc and icb take part, up to their leads' confirmations."""
    for _ in range(count):
        instance = runtime.start_audit(bu)
        set_up = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        tasks.complete_task(set_up.id, bu, SET_UP)
        sample_records.nominate_cases(instance.id, nominator, 2, LAUNCH)
        nominate = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                              HumanTask.bpmn_id == "nominate_cases")).one()
        tasks.complete_task(nominate.id, nominator, {"case_count": "2", "agencies": "police, csc, icb",
                                                     "nominating_system": "CSC record"})


def _copy_audits(copies: int) -> None:
    """Copy the real audits' rows ``copies`` times over, for agencies other than police."""
    template = db.session.scalars(select(ProcessInstance)).first()
    open_tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == template.id)).all()
    instance_columns = {c.key: getattr(template, c.key) for c in ProcessInstance.__table__.columns if c.key != "id"}
    for start in range(0, copies, 500):
        batch = min(500, copies - start)
        ids = [db.session.execute(insert(ProcessInstance.__table__).values(**instance_columns)).inserted_primary_key[0]
               for _ in range(batch)]
        task_rows, candidate_rows = [], []
        for offset, instance_id in enumerate(ids):
            agency = f"agency_{(start + offset) % 40}"
            for task in open_tasks:
                task_rows.append({c.key: getattr(task, c.key) for c in HumanTask.__table__.columns if c.key != "id"}
                                 | {"instance_id": instance_id, "agency": agency if task.agency else None,
                                    "engine_task_id": f"{task.engine_task_id[:24]}{instance_id:012d}"})
        db.session.execute(insert(HumanTask.__table__), task_rows)
        new_tasks = db.session.execute(select(HumanTask.id, HumanTask.agency, HumanTask.candidate_groups)
                                       .where(HumanTask.instance_id.in_(ids))).all()
        for task_id, agency, groups in new_tasks:
            candidate_rows += [{"task_id": task_id, "kind": "group", "name": group,
                                "agency": agency if group == "agency_lead" else None} for group in groups or []]
        db.session.execute(insert(TaskCandidate.__table__), candidate_rows)
        db.session.commit()


@contextmanager
def partnership() -> Iterator[tuple[Flask, dict[str, User]]]:
    """An app on a throwaway SQLite database, the processes deployed, a Business Unit officer, a CSC
    nominating partner and the police lead, on the launch morning (an app context is active)."""
    with tempfile.TemporaryDirectory(prefix="bpmn-audit-bench-") as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3", "CASE_KEY_THROWAWAY": True})
        with app.app_context(), time_machine.travel(time.mktime(LAUNCH.timetuple()) + 9 * 3600, tick=False):
            upgrade(directory=MIGRATIONS_DIR)
            deployments.deploy_directory(ROOT / "processes", deployed_by="bench")
            yield app, {
                "bu": identity.create_user("bu", "Business Unit", ["business_unit"]),
                "nominator": identity.create_user("nominator", "Nominator", ["nominating_partner"], agency="csc"),
                "lead": identity.create_user("lead.police", "Police lead", ["agency_lead"], agency="police")}
            db.session.remove()
            db.engine.dispose()


def _median_inbox(lead: object, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        tasks.inbox(lead, limit=50)
        tasks.count_inbox(lead)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    options = parser.parse_args()
    with partnership() as (_app, people):
        lead = people["lead"]
        run_audits(10, people["bu"], people["nominator"])
        few = _median_inbox(lead, options.rounds)
        mine = tasks.count_inbox(lead)
        _copy_audits(options.audits - 10)
        many = _median_inbox(lead, options.rounds)
        assert tasks.count_inbox(lead) == mine, "the copies must belong to other agencies"
        audits = db.session.query(ProcessInstance).count()
        print(f"inbox of one agency lead ({mine} tasks), page of 50 and count, median of {options.rounds}:")
        print(f"  {10:>6} audits {few * 1000:8.2f} ms   {audits:>6} audits {many * 1000:8.2f} ms   "
              f"ratio {many / few:5.2f} (target 1.2)")


if __name__ == "__main__":
    main()
