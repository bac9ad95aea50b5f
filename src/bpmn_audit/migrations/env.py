"""Alembic environment for Flask-Migrate: migrations run against the app's own database and models."""

from alembic import context
from flask import current_app

from bpmn_audit.models import db

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=str(db.engine.url).replace("%", "%%"), target_metadata=db.metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if current_app:  # Flask-Migrate always runs inside an app context
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
