"""The ``bpmn-audit`` command: Flask's CLI group plus the project's own commands."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from . import MIGRATIONS_DIR, create_app
from .engine.calendar import LONDON
from .engine.errors import EngineError, ModelValidationError
from .services.errors import ServiceError


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def main() -> None:
    """Run a safeguarding partnership's multi-agency case-file audit as a BPMN process."""


@main.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade(directory=MIGRATIONS_DIR)
    click.echo(f"Database ready: {current_app.config['SQLALCHEMY_DATABASE_URI']}")


@main.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "deployed_by", default=None, help="Who deploys (recorded with the version).")
@with_appcontext
def deploy_command(files: tuple[Path, ...], deployed_by: str | None) -> None:
    """Validate and deploy BPMN and DMN FILES together as new process versions."""
    from .services.deployments import deploy

    try:
        deployed = deploy([(path.name, path.read_bytes()) for path in files], deployed_by)
    except ModelValidationError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        raise click.ClickException(f"the model cannot be deployed:\n{lines}") from error
    except EngineError as error:
        raise click.ClickException(str(error)) from error
    for deployment in deployed:
        note = " unchanged: already deployed" if deployment.unchanged else ""
        click.echo(f"{deployment.process_key} version {deployment.version} ({deployment.name}){note}")


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def validate_command(files: tuple[Path, ...]) -> None:
    """Check BPMN and DMN FILES as deploy would, without deploying anything."""
    from .engine.limits import EngineLimits
    from .engine.validation import validate_models
    from .services.identity import GROUPS

    try:
        validate_models([(path.name, path.read_bytes()) for path in files], current_app.config["LANE_GROUPS"], GROUPS,
                        limits=EngineLimits.from_settings(current_app.config))
    except ModelValidationError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        raise click.ClickException(f"the model cannot be deployed:\n{lines}") from error
    except EngineError as error:
        raise click.ClickException(str(error)) from error
    click.echo("OK: no problems found")


@main.group("timers")
def timers_group() -> None:
    """Timer jobs."""


@timers_group.command("run-due")
@with_appcontext
def run_due() -> None:
    """Fire every timer that is due now (safe to run from several workers at once)."""
    from .services.timers import fire_due_timers

    click.echo(f"{fire_due_timers()} timer(s) fired")


@main.group("mail")
def mail_group() -> None:
    """The outbox of emails."""


@mail_group.command("send-due")
@with_appcontext
def mail_send_due() -> None:
    """Send every email due now by SMTP (MAIL_* settings); failures wait and are tried again later."""
    from .services.outbox import pending_count, send_due
    from .services.timers import default_worker_id

    sent = send_due(default_worker_id())
    click.echo(f"{sent} email(s) sent; {pending_count()} waiting")


@main.group("users")
def users_group() -> None:
    """People and their groups."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--group", "groups", multiple=True, required=True, help="Repeat for several groups.")
@click.option("--agency", default=None, help="For agency staff: the agency code, e.g. police.")
@click.option("--email", default=None)
@with_appcontext
def create_user_command(username: str, name: str, groups: tuple[str, ...], agency: str | None,
                        email: str | None) -> None:
    """Add a user."""
    from .services.identity import create_user

    try:
        create_user(username, name, list(groups), agency=agency, email=email)
    except (ValueError, ServiceError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {username}")


@users_group.command("token")
@click.argument("username")
@click.option("--name", default="CLI", help="What the token is for, to tell it apart when revoking.")
@with_appcontext
def user_token_command(username: str, name: str) -> None:
    """Make a new API bearer token for USERNAME and print it (it is shown only this once)."""
    from .services.api_tokens import issue_token
    from .services.identity import get_user

    try:
        click.echo(issue_token(get_user(username), name))
    except ServiceError as error:
        raise click.ClickException(str(error)) from error


@main.group("instances")
def instances_group() -> None:
    """Audits (process instances): start, list, show, retry."""


@instances_group.command("start")
@click.argument("process_key")
@click.option("--as", "username", required=True, help="Who starts it (a business_unit or admin user).")
@click.option("--data", "data_json", default=None, help='Start data as a JSON object, e.g. \'{"title": "Neglect"}\'.')
@with_appcontext
def instances_start(process_key: str, username: str, data_json: str | None) -> None:
    """Start an audit on the latest version of PROCESS_KEY and print its id."""
    from .services import identity, runtime

    data = _json_object(data_json)
    try:
        instance = runtime.start_audit(identity.get_user(username), process_key, data)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    click.echo(instance.id)


def _json_object(text: str | None) -> dict | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise click.ClickException(f"--data is not valid JSON: {error.msg} (character {error.pos})") from None
    if not isinstance(value, dict):
        raise click.ClickException("--data must be a JSON object, like '{\"title\": \"Neglect\"}'")
    return value


@instances_group.command("list")
@click.option("--status", default=None, help="running, completed, or incident (audits with an open incident).")
@with_appcontext
def instances_list(status: str | None) -> None:
    """List audits, newest first."""
    from .services import runtime

    try:
        instances = runtime.list_instances(status)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    if not instances:
        click.echo("no audits")
    troubled = runtime.with_open_incidents([instance.id for instance in instances])
    for instance in instances:
        flag = "  INCIDENT" if instance.id in troubled else ""
        click.echo(f"{instance.id:>6}  {instance.status:<9}  {instance.process_key} v{instance.deployment.version}  "
                   f"{_local(instance.started_at)}  {instance.title or ''}{flag}".rstrip())


@instances_group.command("show")
@click.argument("instance_id", type=int)
@with_appcontext
def instances_show(instance_id: int) -> None:
    """Show an audit: status, open tasks, waiting timers and incidents."""
    from .services import runtime

    try:
        summary = runtime.describe_instance(instance_id)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    click.echo("\n".join(format_summary(summary)))


def format_summary(summary: object) -> list[str]:
    """An audit's summary as lines of text."""
    instance = summary.instance
    lines = [f"Audit {instance.id}: {instance.title or instance.process_key} "
             f"({instance.process_key} version {instance.deployment.version})",
             f"Status: {instance.status}; started {_local(instance.started_at)} by {instance.started_by or '-'}"]
    if instance.failed_attempts:
        retry = f"; next attempt {_local(instance.retry_at)}" if instance.retry_at else ""
        lines.append(f"Failed attempts: {instance.failed_attempts}{retry}; last error: {instance.last_error}")
    lines.append(f"Open tasks ({len(summary.open_tasks)}):")
    lines += [f"  - {task.name} [{task.bpmn_id}]{_for_agency(task.agency)}, for {_who(task)}"
              f"{', due ' + _local(task.due_at) if task.due_at else ''}" for task in summary.open_tasks]
    lines.append(f"Waiting timers ({len(summary.timers)}):")
    lines += [f"  - {timer.name} [{timer.bpmn_id}]{_for_agency(timer.agency)}, due {_local(timer.due_at)}"
              for timer in summary.timers]
    lines.append(f"Incidents ({len(summary.incidents)}):")
    lines += [f"  - at {incident.element_name or '-'} [{incident.bpmn_id or '-'}] since {_local(incident.created_at)} "
              f"after {incident.attempts} attempt(s): {incident.message}" for incident in summary.incidents]
    return lines


def _for_agency(agency: str | None) -> str:
    return f" (agency {agency})" if agency else ""


def _who(task: object) -> str:
    return task.assignee or ", ".join([*(task.candidate_groups or []), *(task.candidate_users or [])]) or "nobody"


@instances_group.command("retry")
@click.argument("instance_id", type=int)
@click.option("--as", "username", default="operator", show_default=True, help="Who retries (for the history).")
@with_appcontext
def instances_retry(instance_id: int, username: str) -> None:
    """Resolve an audit's open incidents and run its automatic work again now."""
    from .services.timers import retry_instance

    try:
        result = retry_instance(instance_id, username)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"resolved {result.resolved} incident(s); {result.fired} timer(s) fired")
    if result.incident is not None:
        raise click.ClickException(f"it failed again: {result.incident.message}")


@main.group("cases")
def cases_group() -> None:
    """The case register: children's identifying data, kept until each audit's retention date."""


@cases_group.command("purge-expired")
@with_appcontext
def cases_purge_expired() -> None:
    """Remove the identifying data of every audit whose retention date has passed (pseudonyms stay)."""
    from .services.cases import purge_expired

    click.echo(f"{purge_expired()} case(s) purged")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--sweep-seconds", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="How often due timers are fired.")
@with_appcontext
def serve_command(host: str, port: int, sweep_seconds: float) -> None:
    """Serve the app (pages and JSON API) with the timer sweep running inside it."""
    from .services.case_crypto import CaseKeyError
    from .web.serving import serve

    click.echo(f"Serving on http://{host}:{port} (timers swept every {sweep_seconds:g} s); Ctrl-C stops")
    try:
        serve(current_app._get_current_object(), host, port, sweep_seconds)
    except CaseKeyError as error:
        raise click.ClickException(str(error)) from error


@main.command("worker")
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between rounds.")
@with_appcontext
def worker_command(interval: float) -> None:
    """Fire due timers and send due emails in a loop, with a heartbeat, until SIGTERM or Ctrl-C."""
    import signal
    import threading

    from .services.sweep import run_until, worker_name

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    name = worker_name("worker")
    click.echo(f"Worker {name}: a round every {interval:g} s; SIGTERM or Ctrl-C stops it after the round")
    run_until(current_app._get_current_object(), name, interval, stop)
    click.echo(f"Worker {name} stopped")


@main.command("demo")
@with_appcontext
def demo() -> None:
    """Seed a demo partnership in an empty database and print each sign-in."""
    from flask import current_app

    from .services import demo as demo_service

    try:
        made = demo_service.seed(current_app.config["PROCESSES_DIR"])
    except (ValueError, LookupError, EngineError, ServiceError) as error:
        raise click.ClickException(f"the demo could not be seeded: {error}") from error
    click.echo(f"Audit {made.launched_id}: just launched, its cases waiting to be nominated.")
    click.echo(f"Audit {made.in_progress_id}: in the agency audit; one agency's report is overdue and an immediate "
               "concern is open.\n")
    click.echo(f"Every demo account's password: {made.password}\n")
    for user in made.people:
        role = ", ".join(user.groups or []) + (f" ({user.agency})" if user.agency else "")
        click.echo(f"  {user.username:32} {role}")


@main.command("simulate")
@click.option("--agencies", default=6, show_default=True, help="How many agencies take part.")
@click.option("--cases", default=4, show_default=True, help="How many cases are nominated.")
@click.option("--start", default=None, help="Launch date (YYYY-MM-DD); default: next Monday.")
def simulate(agencies: int, cases: int, start: str | None) -> None:
    """Run one whole audit on a virtual clock, in a throwaway SQLite database, and print its timeline."""
    from .services import simulation

    launch = datetime.fromisoformat(start).replace(hour=9, tzinfo=LONDON) if start else None
    with tempfile.TemporaryDirectory(prefix="bpmn-audit-sim-") as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'simulation.sqlite3'}",
                          "CASE_KEY_THROWAWAY": True})
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
            try:
                result = simulation.run(app.config["PROCESSES_DIR"], agencies=agencies, cases=cases, start=launch)
            except (ValueError, LookupError, EngineError, ServiceError) as error:
                raise click.ClickException(f"the simulation stopped: {error}") from error
            from .models import db

            db.session.remove()
            db.engine.dispose()
    click.echo(format_timeline(result))
    ok = result.completed and result.tracker_actions > 0
    click.echo(f"\nAudit {'reached its end' if result.completed else 'did NOT reach its end'}; "
               f"{result.tracker_actions} action(s) on the tracker; {result.reminders} reminder(s); "
               f"{result.escalations} escalation(s); {result.concerns_closed} immediate concern(s) raised and closed; "
               f"QA returned the report {result.qa_returns} time(s).")
    sys.exit(0 if ok else 1)


def format_timeline(result: object) -> str:
    """The simulation's timeline as a fixed-width table, in London time."""
    headers = ("Phase", "Task", "Lane / agency", "Due", "Completed", "By")
    rows = [(r.phase, r.task, r.who_for, _local(r.due), _local(r.done), r.by) for r in result.timeline]
    widths = [min(max(len(str(row[i])) for row in [headers, *rows]), 60) for i in range(len(headers))]
    lines = ["  ".join(str(cell)[:60].ljust(widths[i]) for i, cell in enumerate(row)) for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if moment else ""
