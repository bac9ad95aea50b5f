"""Errors raised by the engine layer; they wrap SpiffWorkflow's so callers never import it."""

from __future__ import annotations


class EngineError(Exception):
    """Base class for every error the engine layer raises."""


class UnsafeCodeError(EngineError):
    """An expression or script uses something the sandbox forbids.

    Deliberately not a SyntaxError: SpiffWorkflow's DMN engine treats SyntaxError as
    "try again with an implicit ==", which must never happen for rejected code.
    """


class UnsafeXMLError(EngineError):
    """An uploaded XML document uses a DOCTYPE, entities or other forbidden constructs."""


class ModelValidationError(EngineError):
    """A BPMN/DMN model cannot be deployed; ``problems`` lists each element and what is wrong."""

    def __init__(self, problems: list[ModelProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ModelProblem:
    """One thing wrong with one element of a model."""

    def __init__(self, message: str, element_id: str | None = None, element_name: str | None = None,
                 file_name: str | None = None, line: int | None = None, severity: str = "error"):
        self.message = message
        self.severity = severity  # "error": it cannot be deployed; "warning": a matter of style
        self.element_id = element_id
        self.element_name = element_name
        self.file_name = file_name
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.file_name:
            where.append(self.file_name + (f" line {self.line}" if self.line else ""))
        if self.element_id:
            label = f"element '{self.element_id}'"
            if self.element_name and self.element_name != self.element_id:
                label += f" ({self.element_name})"
            where.append(label)
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def to_dict(self) -> dict:
        """The problem as JSON-ready data for the API."""
        return {"message": self.message, "element_id": self.element_id, "element_name": self.element_name,
                "file": self.file_name, "line": self.line, "severity": self.severity}


class TaskNotReadyError(EngineError):
    """The task to complete does not exist or is no longer ready (someone else completed it)."""


class ScriptRuntimeError(EngineError):
    """The process could not go on: a script or expression failed, or the engine ran away.

    ``element_id`` and ``element_name`` say where, when known; the message is plain English.
    """

    def __init__(self, message: str, element_id: str | None = None, element_name: str | None = None):
        super().__init__(message)
        self.element_id = element_id
        self.element_name = element_name


class BudgetExceededError(EngineError):
    """Model code went past its time, round or memory budget (raised inside the sandbox)."""


#: plain-English reasons for the errors model code commonly makes, by exception type
_REASONS: dict[type, str] = {
    NameError: "it uses a name that is not defined (no process variable or function has it)",
    ZeroDivisionError: "it divides by zero",
    IndexError: "it uses a position past the end of a list",
    RecursionError: "it calls itself too deeply",
    MemoryError: "it ran out of memory",
    OverflowError: "it made a number too big to handle",
    StopIteration: "it asked for the next item of something that had none left",
}


def plain_reason(error: BaseException) -> str:
    """What went wrong, in words a process owner can act on, without Python's exception class names."""
    if isinstance(error, EngineError):
        return str(error)
    if isinstance(error, KeyError):
        return f"it looks up {error.args[0]!r}, which is not there" if error.args else "it looks up a missing key"
    if isinstance(error, NameError) and getattr(error, "name", None):
        return f"it uses the name '{error.name}', which is not defined (no process variable or function has it)"
    for kind, reason in _REASONS.items():
        if isinstance(error, kind):
            return reason
    text = str(error).strip()
    return text or "failed"
