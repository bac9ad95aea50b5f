"""The ``bpmn-audit`` command: Flask's CLI group plus the project's own commands."""

from __future__ import annotations

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
    from .engine.validation import validate_models
    from .services.identity import GROUPS

    try:
        validate_models([(path.name, path.read_bytes()) for path in files], current_app.config["LANE_GROUPS"], GROUPS)
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


@main.command("simulate")
@click.option("--agencies", default=6, show_default=True, help="How many agencies take part.")
@click.option("--cases", default=4, show_default=True, help="How many cases are nominated.")
@click.option("--start", default=None, help="Launch date (YYYY-MM-DD); default: next Monday.")
def simulate(agencies: int, cases: int, start: str | None) -> None:
    """Run one whole audit on a virtual clock, in a throwaway SQLite database, and print its timeline."""
    from .services import simulation

    launch = datetime.fromisoformat(start).replace(hour=9, tzinfo=LONDON) if start else None
    with tempfile.TemporaryDirectory(prefix="bpmn-audit-sim-") as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'simulation.sqlite3'}"})
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
               f"{result.escalations} escalation(s); QA returned the report {result.qa_returns} time(s).")
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
