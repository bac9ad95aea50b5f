"""What the app checks, and what it adds, when a user task completes: by name, where the model asks.

A model names them on a user task with Camunda properties: ``guard`` (checks that may refuse the
completion, each raising FormInvalid with the reason) and ``provide`` (records the app holds in its own
tables, copied into the task's data as it completes, so gateways, timers and later tasks can use them:
the case list after nomination, an agency's nominated practitioner). Both are explicit lookup tables;
the process owner's guide lists them. An unknown name refuses the completion and says which exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..models import HumanTask
from . import agency_audits, cases, concerns
from .errors import PROCESS_KEY, FormInvalid

Hook = Callable[[HumanTask, Mapping[str, Any]], Any]

#: guard name -> check of the task about to complete and its cleaned form values (raises FormInvalid)
GUARDS: dict[str, Hook] = {
    "no_open_concerns": lambda task, values: concerns.refuse_while_open(task.instance),
    "cases_nominated": cases.refuse_until_nominated,
    "agency_audit_complete": agency_audits.refuse_until_complete,
}
#: provider name -> the values it adds to the completing task's data
PROVIDERS: dict[str, Hook] = {
    "case_list": cases.case_list,
    "agency_return": agency_audits.agency_return,
    "practitioners": agency_audits.practitioners,
}


def run(task: HumanTask, values: Mapping[str, Any], guards: list[str], providers: list[str]) -> dict[str, Any]:
    """Check the task's guards, then gather what its providers add; raise FormInvalid to refuse."""
    for name in guards:
        _known(name, GUARDS, "check")(task, values)
    provided: dict[str, Any] = {}
    for name in providers:
        provided.update(_known(name, PROVIDERS, "record")(task, values))
    return provided


def _known(name: str, table: dict[str, Callable], what: str) -> Callable:
    if name not in table:
        raise FormInvalid({PROCESS_KEY: f"the model asks for a {what} '{name}' the app does not know; it knows "
                                        f"{', '.join(sorted(table)) or 'none'}"})
    return table[name]
