"""The partnership's agencies (name and code): a list the Business Unit keeps, which audits choose from.

Anyone signed in may read it. The Business Unit (and admins) add agencies, rename them, and make them
inactive when they leave the partnership (and active again); a code never changes and an agency is never
deleted, since tasks, people and past audits carry its code. While the list is empty, any well-formed
code is taken (a new partnership can start an audit before it lists its agencies); once it holds agencies,
an audit's agencies must be active ones of the list.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..models import Agency, User, db
from .errors import Conflict, Forbidden, FormInvalid, NotFound
from .transaction import transaction

MANAGERS = frozenset({"business_unit", "admin"})
MAX_AGENCIES = 200
MAX_NAME = 200
_CODE = re.compile(r"[a-z0-9_-]{1,100}")


def list_agencies(include_inactive: bool = False) -> list[Agency]:
    """The agencies by name (active ones only, unless asked)."""
    query = select(Agency).order_by(Agency.name, Agency.code).limit(MAX_AGENCIES)
    if not include_inactive:
        query = query.where(Agency.active.is_(True))
    return list(db.session.scalars(query))


def active_codes() -> list[str]:
    """The codes an audit may choose from; empty while the partnership lists none."""
    return [agency.code for agency in list_agencies()]


def add_agency(actor: User, form: dict[str, Any]) -> Agency:
    """Add an agency from ``form`` (``code``, ``name``). Raises Forbidden, FormInvalid and Conflict."""
    _may_manage(actor)
    code, name = _code(form.get("code")), _name(form.get("name"))
    errors = {key: message for key, message in (("code", code[1]), ("name", name[1])) if message}
    if errors:
        raise FormInvalid(errors, dict(form))
    if db.session.scalar(select(Agency.id).where(Agency.code == code[0])) is not None:
        raise FormInvalid({"code": f"There is already an agency with the code {code[0]}"}, dict(form))
    if db.session.scalar(select(db.func.count()).select_from(Agency)) >= MAX_AGENCIES:
        raise Conflict(f"the partnership lists {MAX_AGENCIES} agencies already")
    with transaction():
        agency = Agency(code=code[0], name=name[0], active=True, updated_by=actor.username)
        db.session.add(agency)
    return agency


def update_agency(actor: User, agency_id: int, form: dict[str, Any]) -> Agency:
    """Rename an agency (``name``) and/or make it active or not (``active``: true or false)."""
    _may_manage(actor)
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"there is no agency {agency_id}")
    name = _name(form.get("name", agency.name))
    if name[1]:
        raise FormInvalid({"name": name[1]}, dict(form))
    active = form.get("active", agency.active)
    if isinstance(active, str):
        active = active.lower() in ("true", "yes", "on", "1")
    if not isinstance(active, bool):
        raise FormInvalid({"active": "Say whether the agency is active: true or false"}, dict(form))
    with transaction():
        agency.name, agency.active, agency.updated_by = name[0], active, actor.username
    return agency


def _may_manage(actor: User) -> None:
    if not actor.active or not MANAGERS & set(actor.groups or []):
        raise Forbidden("only the Business Unit manages the partnership's agencies")


def _code(value: Any) -> tuple[str, str | None]:
    code = value.strip().lower() if isinstance(value, str) else ""
    if not code:
        return "", "Enter the agency's code, like csc"
    if not _CODE.fullmatch(code):
        return code, "The code must be up to 100 letters, digits, _ or -, like csc"
    return code, None


def _name(value: Any) -> tuple[str, str | None]:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        return "", "Enter the agency's name"
    if len(name) > MAX_NAME:
        return name, f"The name must be {MAX_NAME} characters or fewer"
    return name, None
