"""bpmn-audit serve: refuses to start without a case key, serves pages and API, and sweeps due timers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import time_machine
from click.testing import CliRunner
from cryptography.fernet import Fernet

from audit_driver import AuditDriver
from bpmn_audit.cli import main
from bpmn_audit.services import timers
from bpmn_audit.web.serving import TimerSweep
from conftest import LAUNCH


def test_serve_refuses_to_start_without_a_case_key(tmp_path, monkeypatch):
    monkeypatch.delenv("BPMN_AUDIT_CASE_KEY", raising=False)
    monkeypatch.setenv("BPMN_AUDIT_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("BPMN_AUDIT_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "BPMN_AUDIT_CASE_KEY is not set" in result.output


def test_the_sweep_fires_what_fell_due(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        AuditDriver(people)
        due = timers.next_due_at()
        sweep = TimerSweep(app, 60)
        assert sweep.sweep() == 0  # nothing due yet
        clock.move_to(due + timedelta(minutes=1))
        assert sweep.sweep() >= 1
        assert timers.next_due_at() is None or timers.next_due_at() > due


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_pages_and_the_api(tmp_path):
    env = {**os.environ, "BPMN_AUDIT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "BPMN_AUDIT_INSTANCE_PATH": str(tmp_path), "BPMN_AUDIT_CASE_KEY": Fernet.generate_key().decode()}
    command = [str(Path(sys.executable).parent / "bpmn-audit")]
    subprocess.run([*command, "init-db"], env=env, check=True, capture_output=True, timeout=60)
    port = _free_port()
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--sweep-seconds", "5"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30  # a hang guard while the server starts, not a timing assertion
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=5) as answer:
            assert "Sign in" in answer.read().decode()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/me", timeout=5)
            raise AssertionError("the API answered without a token")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
