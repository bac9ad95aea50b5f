"""bpmn-audit worker: rounds of timers and emails with a heartbeat per process, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import time_machine

from audit_driver import AuditDriver
from bpmn_audit.models import WorkerHeartbeat, db
from bpmn_audit.services import sweep, timers
from conftest import LAUNCH


def test_a_round_fires_what_is_due_and_notes_the_heartbeat(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        AuditDriver(people)
        due = timers.next_due_at()
        assert sweep.run_round(app, "worker@test:1") == 0
        first = db.session.get(WorkerHeartbeat, "worker@test:1")
        assert (first.host, first.pid, first.stopped_at) == ("test", 1, None)
        seen = first.last_seen_at
        clock.move_to(due + timedelta(minutes=1))
        assert sweep.run_round(app, "worker@test:1") >= 1
        db.session.expire_all()
        assert db.session.get(WorkerHeartbeat, "worker@test:1").last_seen_at > seen


def test_the_worker_command_beats_and_stops_cleanly_on_sigterm(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "BPMN_AUDIT_DATABASE_URL": f"sqlite:///{database}", "BPMN_AUDIT_INSTANCE_PATH": str(tmp_path)}
    command = [str(Path(sys.executable).parent / "bpmn-audit")]
    subprocess.run([*command, "init-db"], env=env, check=True, capture_output=True, timeout=60)
    worker = subprocess.Popen([*command, "worker", "--interval", "0.2"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        deadline = time.monotonic() + 30  # a hang guard while the process starts, not a timing assertion
        rows = []
        while not rows and time.monotonic() < deadline and worker.poll() is None:
            with engine.connect() as connection:
                rows = connection.execute(sa.text("SELECT name, pid, stopped_at FROM workers")).all()
            time.sleep(0.1)
        assert rows, worker.stdout.read() if worker.poll() is not None else "no heartbeat"
        [(name, pid, stopped_at)] = rows
        assert name.startswith("worker@") and pid == worker.pid and stopped_at is None
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "stopped" in output
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT stopped_at FROM workers")).scalar() is not None
    engine.dispose()
