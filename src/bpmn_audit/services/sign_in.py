"""Checking a password, with repeated failures slowed and then locked out for a while.

After ``slow_after`` wrong passwords in a row, each further attempt must wait ``slow_seconds`` after the
last failure; after ``lock_after``, the account is locked for ``lock_minutes``. A good password clears
the count. The answer never says whether the username exists: an unknown name and a wrong password read
the same, and an unknown name is checked against a dummy hash so both take as long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import User, db
from .transaction import transaction

WRONG = "Enter a correct username and password"
_DUMMY_HASH = generate_password_hash("not a password of anyone")
MAX_PASSWORD = 200


@dataclass(frozen=True)
class SignInRules:
    """How failures are slowed and locked (from the config, read at the web layer's edge)."""

    slow_after: int = 3
    slow_seconds: int = 30
    lock_after: int = 6
    lock_minutes: int = 15


@dataclass(frozen=True)
class SignInResult:
    """The user signed in, or the message to show."""

    user: User | None
    message: str | None = None


def attempt_sign_in(username: str, password: str, now: datetime, rules: SignInRules = SignInRules()) -> SignInResult:
    """Check ``password`` for ``username`` at ``now``; count a failure, or clear the count."""
    user = db.session.scalar(select(User).where(User.username == username.strip()[:200]))
    if user is None or not user.password_hash or not user.active:
        check_password_hash(_DUMMY_HASH, password[:MAX_PASSWORD])
        return SignInResult(None, WRONG)
    if user.locked_until is not None and now < user.locked_until:
        return SignInResult(None, "Too many wrong passwords: this account is locked. Try again after "
                                  f"{_minutes(user.locked_until - now)}, or ask the Business Unit.")
    if user.failed_sign_ins >= rules.slow_after and user.last_failed_at is not None \
            and now < user.last_failed_at + timedelta(seconds=rules.slow_seconds):
        return SignInResult(None, f"Too many wrong passwords: wait {rules.slow_seconds} seconds and try again")
    with transaction():
        if check_password_hash(user.password_hash, password[:MAX_PASSWORD]):
            user.failed_sign_ins, user.last_failed_at, user.locked_until = 0, None, None
            return SignInResult(user)
        user.failed_sign_ins += 1
        user.last_failed_at = now
        if user.failed_sign_ins >= rules.lock_after:
            user.locked_until = now + timedelta(minutes=rules.lock_minutes)
            user.failed_sign_ins = 0
    if user.locked_until is not None and now < user.locked_until:
        return SignInResult(None, f"Too many wrong passwords: this account is locked for {rules.lock_minutes} "
                                  "minutes")
    return SignInResult(None, WRONG)


def _minutes(left: timedelta) -> str:
    minutes = max(1, int(left.total_seconds() // 60) + (1 if left.total_seconds() % 60 else 0))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
