"""bpmn-audit: a safeguarding partnership's multi-agency case-file audit, run as a BPMN process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, then ``config`` (tests pass theirs here).

    Without a case key, an app with ``TESTING`` or ``CASE_KEY_THROWAWAY`` set (tests, ``demo``,
    ``simulate``) gets a throwaway one: what the case register encrypts under it dies with the app.
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("BPMN_AUDIT_INSTANCE_PATH") or None)
    from .config import load_config

    app.config.from_mapping(load_config(app.instance_path))
    if config:
        app.config.update(config)
    if not app.config.get("CASE_KEY") and (app.config.get("TESTING") or app.config.get("CASE_KEY_THROWAWAY")):
        from .services.case_crypto import throwaway_key

        app.config["CASE_KEY"] = throwaway_key()
    from .engine.calendar import use_region

    use_region(app.config["BANK_HOLIDAYS"])  # one partnership per process: its bank holidays
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from flask_migrate import Migrate

    from .models import db

    db.init_app(app)
    Migrate(app, db, directory=MIGRATIONS_DIR)

    from .web import register

    register(app)
    return app
