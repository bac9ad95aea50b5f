"""The ``bpmn-audit`` commands: init-db, deploy, timers run-due, users create, and the simulation."""

from __future__ import annotations

import re

import time_machine
from click.testing import CliRunner
from sqlalchemy import inspect

from bpmn_audit.cli import main
from bpmn_audit.models import db
from bpmn_audit.services import deployments, runtime, tasks
from conftest import LAUNCH, PROCESSES


def test_simulate_runs_a_whole_audit_and_prints_its_timeline():
    result = CliRunner().invoke(main, ["simulate", "--agencies", "6", "--cases", "4", "--start", "2027-01-04"])
    assert result.exit_code == 0, result.output
    out = result.output
    header = out.splitlines()[0]
    assert all(word in header for word in ("Phase", "Task", "Lane / agency", "Due", "Completed", "By"))
    # every role did its part, each agency its own report
    for who in ("bu.officer", "csc.nominator", "chair", "qiip.member", "lead.police", "practitioner.icb"):
        assert who in out
    assert len(re.findall(r"Audit the cases and submit the agency report", out)) == 6
    # a reminder before the target date, and an escalation when the late agency missed it
    assert "Reminder sent to the audit lead" in out and "Reminder sent to the chair" in out
    assert "Agency report overdue" in out and "Chase the overdue agency report" in out
    assert len(re.findall(r"Quality-assure the analysis report", out)) == 2  # QA returned it once
    assert out.rstrip().endswith("QA returned the report 1 time(s).")
    assert ("reached its end; 3 action(s) on the tracker; 7 reminder(s); 1 escalation(s); 1 immediate concern(s) "
            "raised and closed") in out
    # the late agency's report is announced when it arrives, after the others were shared at the deadline
    assert re.search(r"Agency audit\s+Late report in\s+community_health", out) or "Late report in" in out
    # the concern: raised by the first agency to report, answered by the Business Unit within the hour
    assert re.search(r"Immediate concern\s+Respond to the immediate concern\s+Business Unit / csc .* bu\.officer", out)
    # timers fire after their moment, never before: the notice period ends at 17:00 on Mon 18 Jan
    assert re.search(r"Notice period ends\s+Mon 18 Jan 2027 17:01\s+process", out)


def test_simulate_refuses_impossible_sizes():
    result = CliRunner().invoke(main, ["simulate", "--agencies", "40"])
    assert result.exit_code != 0
    assert "--agencies must be between 1 and" in result.output


def test_init_db_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    from bpmn_audit import create_app

    fresh = create_app({"SQLALCHEMY_DATABASE_URI": url})
    result = fresh.test_cli_runner().invoke(main, ["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    with fresh.app_context():
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"deployments", "process_instances", "human_tasks", "timer_jobs", "history_events"} <= tables


def test_deploy_prints_versions_and_explains_a_broken_model(runner, app, tmp_path):
    result = runner.invoke(main, ["deploy", str(PROCESSES / "multi_agency_audit.bpmn"),
                                  str(PROCESSES / "audit_durations.dmn")])
    assert result.exit_code == 0, result.output
    assert "multi_agency_audit version 1" in result.output
    again = runner.invoke(main, ["deploy", str(PROCESSES / "multi_agency_audit.bpmn"),
                                 str(PROCESSES / "audit_durations.dmn")])
    assert "multi_agency_audit version 1 (Multi-agency case file audit) unchanged: already deployed" in again.output

    broken = tmp_path / "broken.bpmn"
    broken.write_text((PROCESSES / "multi_agency_audit.bpmn").read_text().replace(
        'pseudonyms = [case["pseudonym"] for case in cases]', 'pseudonyms = [case["pseudonym"] for case in cases'))
    result = runner.invoke(main, ["deploy", str(broken), str(PROCESSES / "audit_durations.dmn")])
    assert result.exit_code != 0
    assert ("element 'assign_pseudonyms' (List the cases and the agencies): the script is not valid Python"
            in result.output)
    checked = runner.invoke(main, ["validate", str(broken), str(PROCESSES / "audit_durations.dmn")])
    assert checked.exit_code != 0 and checked.output == result.output
    good = runner.invoke(main, ["validate", str(PROCESSES / "multi_agency_audit.bpmn"),
                                str(PROCESSES / "audit_durations.dmn")])
    assert (good.exit_code, good.output) == (0, "OK: no problems found\n")
    assert [d.version for d in deployments.list_deployments()] == [1]


def test_timers_run_due_fires_what_is_due(runner, app, people, deployed):
    from audit_driver import AuditDriver

    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        for bpmn_id in ("nominate_cases", "collate_audit_pack", "confirm_audit_lead", "brief_audit_leads"):
            audit.complete(bpmn_id)
        assert runner.invoke(main, ["timers", "run-due"]).output.strip() == "0 timer(s) fired"
        clock.move_to("2027-01-18T17:01:00+00:00")
        assert runner.invoke(main, ["timers", "run-due"]).output.strip() == "1 timer(s) fired"
    assert {t.bpmn_id for t in tasks.inbox(people["lead.police"])} == {"submit_agency_report"}
    assert runtime.get_instance(audit.instance_id).status == "running"


def test_users_create_checks_groups(runner, app):
    ok = runner.invoke(main, ["users", "create", "ann", "--name", "Ann", "--group", "agency_lead",
                              "--agency", "police"])
    assert ok.exit_code == 0 and "created ann" in ok.output
    bad = runner.invoke(main, ["users", "create", "bob", "--name", "Bob", "--group", "wizard"])
    assert bad.exit_code != 0 and "unknown group(s): wizard" in bad.output
    taken = runner.invoke(main, ["users", "create", "ann", "--name", "Ann", "--group", "chair"])
    assert taken.exit_code != 0 and "the username 'ann' is taken" in taken.output


def test_http_errors_are_json_under_the_api(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    missing = client.get("/api/v1/no/such/route")
    assert missing.status_code == 404 and "error" in missing.get_json()
    page = client.get("/no/such/page")  # pages answer with a page
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
