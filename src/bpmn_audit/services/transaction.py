"""The one way a service commits: everything in the block, or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..models import db


@contextmanager
def transaction() -> Iterator[None]:
    """Commit when the block ends; roll back and re-raise if it raises."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
