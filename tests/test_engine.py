"""The engine adapter on its own: Camunda assignment attributes, modeller-friendly timer text,
and a workflow that survives a save and load at every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from bpmn_audit.config import DEFAULT_LANE_GROUPS
from bpmn_audit.engine.serializer import dump_spec
from bpmn_audit.engine.validation import validate_models
from bpmn_audit.engine.workflow import RunningAudit
from conftest import DATA

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def _blob() -> bytes:
    models = validate_models([("engine_probe.bpmn", (DATA / "engine_probe.bpmn").read_bytes())], DEFAULT_LANE_GROUPS)
    return dump_spec(*models.processes["engine_probe"])[1]


def _reload(audit: RunningAudit, blob: bytes) -> RunningAudit:
    again = RunningAudit.load(blob, audit.dump())
    assert again.dump() == audit.dump()  # nothing changes across a save and load
    return again


def test_assignment_attributes_timer_texts_and_round_trips():
    blob = _blob()
    with time_machine.travel(START, tick=False) as clock:
        audit = _reload(RunningAudit.start(blob), blob)
        [by_lane] = audit.user_tasks()
        assert (by_lane.lane, by_lane.candidate_groups, by_lane.assignee) == ("Chair", [], None)
        assert [(f.id, f.type) for f in by_lane.form] == [("review_on", "date")]
        audit.complete(by_lane.task_id, {"review_on": "2027-03-01"})
        audit = _reload(audit, blob)

        # a bare ISO 8601 date is that literal date
        [literal] = audit.timers()
        assert (literal.bpmn_id, literal.due_at) == ("wait_literal", datetime(2027, 1, 31, 9, 0, tzinfo=UTC))
        clock.move_to(literal.due_at - timedelta(minutes=1))
        assert [e.kind for e in audit.fire_due_timers()] == []
        clock.move_to(literal.due_at + timedelta(minutes=1))
        assert [e.bpmn_id for e in audit.fire_due_timers()] == ["wait_literal"]
        audit = _reload(audit, blob)

        # a bare ISO 8601 duration runs from the moment the timer starts
        [duration] = audit.timers()
        assert duration.due_at == literal.due_at + timedelta(minutes=1, days=14)
        clock.move_to(duration.due_at + timedelta(seconds=1))
        audit.fire_due_timers()
        audit = _reload(audit, blob)

        # ${expression} reads process data
        [dollar] = audit.timers()
        assert dollar.due_at == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
        clock.move_to(dollar.due_at + timedelta(seconds=1))
        audit.fire_due_timers()
        [assigned] = _reload(audit, blob).user_tasks()
    assert assigned.assignee == "ann"
    assert assigned.candidate_users == ["ann", "bob"]
    assert assigned.candidate_groups == ["chair", "qiip"]
    assert assigned.priority == 75
    assert assigned.due_at == datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


def test_a_timer_reading_missing_data_is_a_clear_engine_error():
    import pytest

    from bpmn_audit.engine.errors import ScriptRuntimeError

    bpmn = (DATA / "engine_probe.bpmn").read_bytes().replace(b"${review_on + 'T12:00:00+00:00'}",
                                                             b"deadlines['review']")
    models = validate_models([("engine_probe.bpmn", bpmn)], DEFAULT_LANE_GROUPS)
    blob = dump_spec(*models.processes["engine_probe"])[1]
    with time_machine.travel(START, tick=False) as clock:
        audit = RunningAudit.start(blob)
        audit.complete(audit.user_tasks()[0].task_id, {"review_on": "2027-03-01"})
        clock.move_to(datetime(2027, 2, 1, tzinfo=UTC))
        audit.fire_due_timers()  # the fixed date; the two-week wait starts
        clock.move_to(datetime(2027, 2, 16, tzinfo=UTC))
        with pytest.raises(ScriptRuntimeError, match="wait_dollar"):
            audit.fire_due_timers()  # the two weeks are up; the next timer reads data that is not there
