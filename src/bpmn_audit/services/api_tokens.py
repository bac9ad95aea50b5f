"""Bearer tokens for the JSON API: made, looked up and revoked (only a digest of each is stored)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select

from ..models import ApiToken, User, db
from ..models.base import utcnow
from .errors import Conflict, NotFound
from .transaction import transaction

#: tokens start with this, so a leaked one is recognisable (secret scanners, logs)
PREFIX = "bpa_"
#: the most live tokens one user may hold
MAX_TOKENS = 20
MAX_NAME = 100
#: the longest Authorization value looked at: anything longer is no token of ours
MAX_TOKEN_LENGTH = 200


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str = "API") -> str:
    """A new token for ``user``, returned once (only its digest is kept). Raises Conflict at MAX_TOKENS."""
    name = (name or "API").strip()[:MAX_NAME] or "API"
    live = db.session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))) or 0
    if live >= MAX_TOKENS:
        raise Conflict(f"you hold {MAX_TOKENS} tokens already; revoke one first")
    token = PREFIX + secrets.token_urlsafe(32)
    with transaction():
        db.session.add(ApiToken(user_id=user.id, name=name, digest=_digest(token)))
    return token


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, or the user deactivated)."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user


def list_tokens(user: User) -> list[ApiToken]:
    """The user's live tokens, newest first (names and dates only: the tokens themselves are not kept)."""
    return list(db.session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id.desc())))


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens; raises NotFound for a token that is not theirs or not live."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(f"you have no token {token_id}")
    with transaction():
        row.revoked_at = utcnow()
