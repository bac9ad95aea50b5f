"""Each audit's state is saved compressed, without its spec, with versions beside it, and comes back
exactly as it was."""

from __future__ import annotations

import gzip
import json

import time_machine
from sqlalchemy import func, select

from audit_driver import AuditDriver
from bpmn_audit.engine.serializer import LIBRARY_VERSION, SERIALIZER_VERSION
from bpmn_audit.models import Deployment, HistoryEvent, ProcessInstance, ProcessSpec, db
from bpmn_audit.services import deployments
from bpmn_audit.services.persistence import engine_limits, load_audit
from conftest import LAUNCH, PROCESSES, both_backends


@both_backends
def test_state_is_stored_without_the_spec_and_restores_unchanged(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        first = AuditDriver(people)
        second = AuditDriver(people, {"agencies": "police"})
        first.through_notice(clock)
    # each process's spec is stored once (the audit's and the immediate concern's), however many audits
    assert db.session.scalar(select(func.count()).select_from(ProcessSpec)) == 2
    instance = db.session.get(ProcessInstance, first.instance_id)
    state = json.loads(gzip.decompress(instance.state))
    assert "spec" not in state and "subprocess_specs" not in state
    assert (instance.serializer_version, instance.library_version) == (SERIALIZER_VERSION, LIBRARY_VERSION)
    assert LIBRARY_VERSION == "3.2.0"
    assert len(instance.state) < 20_000  # a running 3-agency audit, compressed

    # mid-run: load, save, load again: nothing changes
    audit = load_audit(instance, engine_limits())
    assert audit.dump() == instance.state
    again = load_audit(instance, engine_limits())
    assert [t.task_id for t in again.user_tasks()] == [t.task_id for t in audit.user_tasks()]
    assert again.data == audit.data
    assert [(t.bpmn_id, t.due_at) for t in again.timers()] == [(t.bpmn_id, t.due_at) for t in audit.timers()]
    assert db.session.get(ProcessInstance, second.instance_id).title == "Neglect in under-fives"


def test_deploying_an_unchanged_model_keeps_its_version_and_a_change_makes_a_new_one(app, people):
    v1 = {d.process_key: d for d in deployments.deploy_directory(PROCESSES)}["multi_agency_audit"]
    again = {d.process_key: d for d in deployments.deploy_directory(PROCESSES)}["multi_agency_audit"]
    assert (again.id, again.version) == (v1.id, 1)
    bpmn = (PROCESSES / "multi_agency_audit.bpmn").read_bytes().replace(b'name="Set up the audit"',
                                                                         b'name="Set up the new audit"')
    [v2] = deployments.deploy([("multi_agency_audit.bpmn", bpmn),
                               ("audit_durations.dmn", (PROCESSES / "audit_durations.dmn").read_bytes())])
    assert (v2.process_key, v2.version) == ("multi_agency_audit", 2)
    assert [f.file_name for f in v2.files] == ["multi_agency_audit.bpmn", "audit_durations.dmn"]
    assert db.session.scalar(select(func.count()).select_from(ProcessSpec)) == 3  # v1, v2 and the concern

    # a running audit stays on the version it started on
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
    instance = db.session.get(ProcessInstance, audit.instance_id)
    assert instance.deployment.version == 2
    assert db.session.get(Deployment, v1.id).version == 1
    kinds = db.session.scalars(select(HistoryEvent.kind).where(HistoryEvent.instance_id == audit.instance_id)
                               .order_by(HistoryEvent.id)).all()
    assert kinds[:3] == ["process_started", "task_completed", "automatic_task"]
