"""Errors the services raise; the web layer turns each into one HTTP answer in one handler."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class; ``status`` is the HTTP status the web layer answers with."""

    status = 400


class NotFound(ServiceError):
    """The thing asked for does not exist (or the user may not know it exists)."""

    status = 404


class Forbidden(ServiceError):
    """The user may not do this."""

    status = 403


class Conflict(ServiceError):
    """Someone else changed it first: the task was completed, or a race was lost too often."""

    status = 409


#: the key of FormInvalid's errors under which a failure of the process (not of one field) is reported
PROCESS_KEY = "_process"


class FormInvalid(ServiceError):
    """Form values are wrong; ``errors`` maps each field id (or PROCESS_KEY) to its message, ``values``
    keeps the input."""

    status = 400

    def __init__(self, errors: dict[str, str], values: dict | None = None):
        self.errors = errors
        self.values = values or {}
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class ProcessFailed(ServiceError):
    """The process could not go on (a script, a timer or the engine failed); nothing was saved.

    ``element_id`` and ``element_name`` say where, when known.
    """

    status = 422

    def __init__(self, message: str, element_id: str | None = None, element_name: str | None = None):
        super().__init__(message)
        self.element_id = element_id
        self.element_name = element_name
