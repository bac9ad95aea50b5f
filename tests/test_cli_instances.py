"""The operator's commands: ``bpmn-audit instances start|list|show|retry``."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import time_machine

from bpmn_audit.cli import main
from bpmn_audit.services import deployments
from conftest import DATA

BEFORE = datetime.fromisoformat("2027-01-11T08:00:00+00:00")


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def deploy(name: str) -> None:
    deployments.deploy([(f"{name}.bpmn", (DATA / f"{name}.bpmn").read_bytes())])


def test_start_prints_the_new_audits_id_or_exits_1_with_the_reason(runner, app, people):
    deploy("timer_then_script")
    started = runner.invoke(main, ["instances", "start", "timer_then_script", "--as", "bu.officer",
                                   "--data", '{"poison": false}'])
    assert started.exit_code == 0, started.output
    assert started.output.strip().isdigit()

    for args, reason in [
        (["nope", "--as", "bu.officer"], "no process 'nope' has been deployed"),
        (["timer_then_script", "--as", "lead.police"], "only the Business Unit can start an audit"),
        (["timer_then_script", "--as", "nobody"], "there is no user 'nobody'"),
        (["timer_then_script", "--as", "bu.officer", "--data", "[1]"], "--data must be a JSON object"),
        (["timer_then_script", "--as", "bu.officer", "--data", "{oops"], "--data is not valid JSON"),
        (["timer_then_script", "--as", "bu.officer", "--data", json.dumps({"x": nested(40)})], "more than 32 levels"),
    ]:
        refused = runner.invoke(main, ["instances", "start", *args])
        assert refused.exit_code == 1, (args, refused.output)
        assert reason in refused.output and "Traceback" not in refused.output


def test_start_of_a_model_that_fails_says_where(runner, app, people):
    deploy("hostile_while_true")
    failed = runner.invoke(main, ["instances", "start", "hostile_while_true", "--as", "bu.officer"])
    assert failed.exit_code == 1
    assert re.search(r"the script of 'Hostile script' \(hostile\) (made more than 1,000,000 loop rounds|ran for more "
                     r"than 2 s)", failed.output), failed.output


def test_list_show_and_retry_clear_an_incident_once_the_cause_is_fixed(runner, app, people):
    deploy("timer_then_script")
    app.config["MAX_INSTANCES"] = 3
    with time_machine.travel(BEFORE, tick=False) as clock:
        audit = runner.invoke(main, ["instances", "start", "timer_then_script", "--as", "bu.officer",
                                     "--data", '{"poison": false}']).output.strip()
        shown = runner.invoke(main, ["instances", "show", audit]).output
        assert "Status: running" in shown
        assert "Waiting timers (1):\n  - Wait for the day [wait], due Mon 11 Jan 2027 09:00" in shown
        assert "Incidents (0):" in shown

        clock.move_to(BEFORE + timedelta(hours=2))
        for _ in range(3):
            runner.invoke(main, ["timers", "run-due"])
            clock.shift(timedelta(minutes=5))
        listed = runner.invoke(main, ["instances", "list", "--status", "incident"]).output
        assert f"{audit}  running    timer_then_script v1" in listed and "INCIDENT" in listed
        shown = runner.invoke(main, ["instances", "show", audit]).output
        assert "Incidents (1):\n  - at Agency report [report]" in shown
        assert "after 3 attempt(s): the collection 'agencies' of 'Agency report' (report) has 5 items; one " \
               "activity may have at most 3 instances" in shown

        again = runner.invoke(main, ["instances", "retry", audit, "--as", "admin.ann"])
        assert again.exit_code == 1 and "it failed again" in again.output

        app.config["MAX_INSTANCES"] = 10
        fixed = runner.invoke(main, ["instances", "retry", audit, "--as", "admin.ann"])
        assert fixed.exit_code == 0, fixed.output
        assert fixed.output.strip() == "resolved 1 incident(s); 1 timer(s) fired"
        shown = runner.invoke(main, ["instances", "show", audit]).output
        assert "Open tasks (5):" in shown and "Incidents (0):" in shown and "Waiting timers (0):" in shown
        assert "Agency report [report] (agency police), for agency_lead" in shown
    assert "no audits" in runner.invoke(main, ["instances", "list", "--status", "incident"]).output
    assert audit in runner.invoke(main, ["instances", "list", "--status", "running"]).output
    assert "no audits" in runner.invoke(main, ["instances", "list", "--status", "completed"]).output
    bad = runner.invoke(main, ["instances", "list", "--status", "sleeping"])
    assert bad.exit_code == 1 and "there is no status 'sleeping'" in bad.output
    missing = runner.invoke(main, ["instances", "show", "999"])
    assert missing.exit_code == 1 and "there is no audit 999" in missing.output
