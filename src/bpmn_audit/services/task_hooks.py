"""What the app checks, and what it adds, when a user task completes: by name, where the model asks.

A model names them on a user task with Camunda properties: ``guard`` (checks that may refuse the
completion, each raising FormInvalid with the reason) and ``provide`` (records the app holds in its own
tables, copied into the task's data as it completes, so gateways, timers and later tasks can use them:
the case list after nomination, an agency's nominated practitioner). Both are explicit lookup tables;
the process owner's guide lists them. An unknown name refuses the completion and says which exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..models import HumanTask
from . import concerns
from .errors import PROCESS_KEY, FormInvalid

#: guard name -> check of the task about to complete (raises FormInvalid to refuse)
GUARDS: dict[str, Callable[[HumanTask], None]] = {
    "no_open_concerns": lambda task: concerns.refuse_while_open(task.instance),
}
#: provider name -> the values it adds to the completing task's data
PROVIDERS: dict[str, Callable[[HumanTask], dict[str, Any]]] = {}


def run(task: HumanTask, guards: list[str], providers: list[str]) -> dict[str, Any]:
    """Check the task's guards, then gather what its providers add; raise FormInvalid to refuse."""
    for name in guards:
        _known(name, GUARDS, "check")(task)
    provided: dict[str, Any] = {}
    for name in providers:
        provided.update(_known(name, PROVIDERS, "record")(task))
    return provided


def _known(name: str, table: dict[str, Callable], what: str) -> Callable:
    if name not in table:
        raise FormInvalid({PROCESS_KEY: f"the model asks for a {what} '{name}' the app does not know; it knows "
                                        f"{', '.join(sorted(table)) or 'none'}"})
    return table[name]
