"""People and what they may do (Camunda's IdentityService): users, groups, agencies, task access."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..models import HumanTask, User, db
from .errors import Conflict, Forbidden, NotFound
from .transaction import transaction

GROUPS = ("business_unit", "chair", "agency_lead", "practitioner", "nominating_partner", "qiip",
          "process_owner", "admin")
# Groups whose members act for one agency: they see only their own agency's per-agency tasks.
AGENCY_SCOPED_GROUPS = {"agency_lead", "practitioner", "nominating_partner"}
#: the operators: they inspect and mend running audits, and are told when one is held up
ADMIN = "admin"


def require_group(user: User, groups: frozenset[str] | set[str], refusal: str) -> None:
    """Raise Forbidden (saying ``refusal``) unless ``user`` is active and in one of ``groups``."""
    if not user.active or not groups & set(user.groups or []):
        raise Forbidden(refusal)


def create_user(username: str, name: str, groups: list[str], agency: str | None = None,
                email: str | None = None, password: str | None = None) -> User:
    """Add a user. Raises ValueError for an unknown group and Conflict if the username is taken."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown group(s): {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"the username '{username}' is taken")
    user = User(username=username, name=name, groups=list(groups), agency=agency, email=email,
                password_hash=generate_password_hash(password) if password else None)
    with transaction():
        db.session.add(user)
    return user


def get_user(username: str) -> User:
    """A user by username; raises NotFound."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"there is no user '{username}'")
    return user


def usernames_in(group: str, limit: int = 500, agency: str | None = None) -> list[str]:
    """The usernames of the active members of ``group`` (of ``agency``, if given), alphabetically (at most
    ``limit``)."""
    query = select(User).where(User.active.is_(True)).order_by(User.username)
    if agency is not None:
        query = query.where(User.agency == agency)
    people = db.session.scalars(query)
    return [user.username for user in people if group in (user.groups or [])][:limit]


def candidates_for(task: HumanTask, limit: int = 500) -> list[str]:
    """The usernames of the active people ``task`` is offered to (whom the Business Unit may give it to)."""
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [user.username for user in people if is_candidate(user, task)][:limit]


def can_work_on(user: User, task: HumanTask) -> bool:
    """True if ``user`` may see and complete ``task``.

    The assignee, a candidate user, or a member of a candidate group may. For a per-agency task, a
    member of an agency-scoped group qualifies only for their own agency; partnership staff (the
    Business Unit, the chair, QiiP) qualify for every agency's task given to their group.
    """
    if not user.active:
        return False
    if task.assignee:
        return task.assignee == user.username
    return is_candidate(user, task)


def is_candidate(user: User, task: HumanTask) -> bool:
    """True if ``user`` is among the people ``task`` is offered to, whoever has claimed it since."""
    if user.username in (task.candidate_users or []):
        return True
    for group in set(task.candidate_groups or []).intersection(user.groups or []):
        if group not in AGENCY_SCOPED_GROUPS or not task.agency or task.agency == user.agency:
            return True
    return False


def set_email_digest(user: User, digest: bool) -> User:
    """Choose emails once a day (``True``) or as things happen; urgent ones always go at once."""
    with transaction():
        user.email_digest = bool(digest)
    return user
