"""Completing a task through the JSON API against the engine floor, on the same audits' state.

Twenty audits are run to their agency leads' confirmations. For each, the police lead's confirmation is
completed twice from the same saved state: once by plain SpiffWorkflow (restore the state on the
deployment's parsed spec, complete the task, run the engine, serialize the state: the floor no app can
go below) and once through the API (``POST /api/v1/tasks/{id}/complete``: token, access, form check,
workflow load, sandboxed completion, projections, history, save). Prints the medians and their ratio,
measured in this one run.

    make bench            # or: .venv/bin/python bench/bench_complete.py
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from sqlalchemy import select

from bench_inbox import partnership, run_audits
from bpmn_audit.engine.script_functions import SCRIPT_FUNCTIONS
from bpmn_audit.engine.serializer import SERIALIZER, _specs, dump_state
from bpmn_audit.models import HumanTask, ProcessInstance, db
from bpmn_audit.services import api_tokens

AUDITS = 20
ANSWERS = {"lead_name": "Police audit lead", "lead_email": "audit.lead@police.example"}


def _floor(spec_blob: bytes, state_blob: bytes, engine_task_id: str) -> float:
    """Plain SpiffWorkflow: restore, complete, run, serialize; the seconds it took."""
    started = time.perf_counter()
    document = json.loads(gzip.decompress(state_blob))
    spec, subprocess_specs = _specs(spec_blob)
    document.update(spec=spec, subprocess_specs=dict(subprocess_specs))
    workflow = SERIALIZER.from_dict(document)
    workflow.script_engine = PythonScriptEngine(environment=TaskDataEnvironment(dict(SCRIPT_FUNCTIONS)))
    task = workflow.get_task_from_id(UUID(engine_task_id))
    task.data.update(ANSWERS)
    task.run()
    workflow.do_engine_steps()
    dump_state(workflow)
    return time.perf_counter() - started


def main() -> None:
    """Measure and print."""
    with partnership() as (app, people):
        run_audits(AUDITS, people["bu"], people["nominator"])
        header = {"Authorization": f"Bearer {api_tokens.issue_token(people['lead'], 'bench')}"}
        client = app.test_client()
        floor, api = [], []
        for instance in db.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all():
            task = db.session.scalars(select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.bpmn_id == "confirm_audit_lead",
                HumanTask.agency == "police")).one()
            floor.append(_floor(instance.deployment.spec.blob, instance.state, task.engine_task_id))
            started = time.perf_counter()
            answer = client.post(f"/api/v1/tasks/{task.id}/complete", headers=header, json={"data": ANSWERS})
            api.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.json
        low, high = statistics.median(floor), statistics.median(api)
        print(f"completing a task, median of {AUDITS} audits:")
        print(f"  plain SpiffWorkflow {low * 1000:8.2f} ms   through the API {high * 1000:8.2f} ms   "
              f"ratio {high / low:5.2f}")


if __name__ == "__main__":
    main()
