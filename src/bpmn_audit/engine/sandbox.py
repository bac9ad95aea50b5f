"""A RestrictedPython sandbox, with budgets, for every expression and script in a BPMN or DMN model.

SpiffWorkflow's default engine runs model code with plain ``eval``/``exec`` and full builtins, so an
uploaded model could run any Python on the server. Here every expression and script is checked and
compiled by ``code_policy.py`` and run with a small set of builtins, RestrictedPython's guards and a
fresh :class:`~.budget.Budget` (time, rounds, allocation, memory).

Whatever goes wrong comes out as one :class:`ScriptRuntimeError` naming the element, the kind of code
(script, condition, timer...) and the reason in plain English. A ``BaseException`` that is not an
``Exception`` (``GeneratorExit``, or ``BaseException`` itself) never leaves the sandbox; only the
process's own ``KeyboardInterrupt`` and ``SystemExit`` pass, so a worker can still be stopped.
"""

from __future__ import annotations

import builtins
import operator
import traceback
import types
from collections.abc import Callable
from typing import Any

from RestrictedPython import safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine

from .budget import Budget
from .code_policy import DENIED_ATTRIBUTES, DENIED_NAMES, check_code, compile_code, normalize_expression
from .elements import element_of
from .errors import BudgetExceededError, ScriptRuntimeError, UnsafeCodeError, plain_reason
from .evaluation_checks import check_result, purpose_of

__all__ = ["SandboxEnvironment", "SandboxedScriptEngine", "check_code", "normalize_expression"]

_EXTRA_BUILTINS = ("len", "min", "max", "sum", "sorted", "any", "all", "enumerate", "zip", "range", "list",
                   "dict", "set", "tuple", "str", "int", "float", "bool", "round", "abs", "isinstance",
                   "reversed", "map", "filter")
_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items()
                             if not k.startswith("_") and k not in DENIED_NAMES}
_BUILTINS.update({name: getattr(builtins, name) for name in _EXTRA_BUILTINS})
_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}
#: exceptions that belong to the process running the engine, not to model code
_PROCESS_STOPS = (KeyboardInterrupt, SystemExit)


def _guarded_getattr(obj: Any, name: str) -> Any:
    if name.startswith("_") or name in DENIED_ATTRIBUTES:
        raise UnsafeCodeError(f"access to the attribute '.{name}' is not allowed")
    return safer_getattr_raise(obj, name)


class _DiscardingPrinter:
    """``print()`` works in scripts, but what it prints goes nowhere (and so cannot pile up)."""

    def __init__(self, _getattr: Any = None):
        pass

    def _call_print(self, *_objects: Any, **_options: Any) -> None:
        return None

    def __call__(self) -> str:
        return ""


def _guards(budget: Budget) -> dict[str, Any]:
    """The names compiled code calls, bound to this evaluation's budget."""
    def getattr_(obj: Any, name: str) -> Any:
        return budget.method(obj, name, _guarded_getattr(obj, name))

    operators = budget.inplace_operators(_INPLACE_OPS)

    def inplacevar(op: str, target: Any, value: Any) -> Any:
        if op not in operators:
            raise UnsafeCodeError(f"the operator '{op}' is not allowed")
        return operators[op](target, value)

    return {
        "__builtins__": budget.builtins(_BUILTINS),
        "_getattr_": getattr_,
        "_getitem_": operator.getitem,
        "_getiter_": budget.iterate,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": inplacevar,
        "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
        "_print_": _DiscardingPrinter,
        "_tick_": budget.tick,
        "_add_": budget.add, "_mul_": budget.mul, "_pow_": budget.pow, "_lshift_": budget.lshift,
        "_mod_": budget.mod, "_sized_": budget.sized,
    }


def _run(code: types.CodeType, scope: dict[str, Any], mode: str) -> Any:
    """Run compiled code against ``scope`` under its budget; only Exceptions come out."""
    budget: Budget = scope["_tick_"].__self__
    try:
        result = eval(code, scope) if mode == "eval" else exec(code, scope)
    except _PROCESS_STOPS:
        raise
    except Exception:
        if budget.broken:
            raise BudgetExceededError(budget.broken) from None
        raise
    except BaseException:
        raise UnsafeCodeError("raised an exception the sandbox does not allow (only errors such as "
                              "ValueError may be raised)") from None
    if budget.broken:  # spent, then caught by the code itself
        raise BudgetExceededError(budget.broken)
    return result


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates expressions and runs scripts against task data inside the sandbox."""

    def __init__(self, functions: dict[str, Callable] | None = None):
        super().__init__()
        self.functions: dict[str, Callable] = dict(functions or {})
        self.globals = self.functions

    def _globals(self, context: dict, external_context: dict | None) -> dict[str, Any]:
        # Guards go last so task data can never replace them.
        return {**self.functions, **(external_context or {}), **context, **_guards(Budget())}

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Return the value of ``expression``; task data and ``external_context`` are visible as names."""
        return _run(compile_code(expression, "eval"), self._globals(context, external_context), "eval")

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run ``script``; variables it creates, changes or deletes are written back to ``context``."""
        external_context = external_context or {}
        shadowed = (set(self.functions) | set(external_context)) & set(context)
        if shadowed:
            raise ValueError(f"process data uses the name(s) {', '.join(sorted(shadowed))}, which belong to "
                             "functions scripts can call: rename the form field or variable")
        scope = self._globals(context, external_context)
        _run(compile_code(script, "exec"), scope, "exec")  # one dict: comprehensions and functions see data
        for name in [k for k in context if k not in scope]:
            del context[name]
        for name, value in scope.items():
            if (name.startswith("_") or name in self.functions or name in external_context
                    or callable(value) or isinstance(value, types.ModuleType)):
                continue
            if name not in context or context[name] is not value:
                context[name] = value
        return True


def _script_line(error: BaseException) -> int | None:
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == "<string>"]
    return lines[-1] if lines else None


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine, with every evaluation in the sandbox and every failure explained."""

    def __init__(self, functions: dict[str, Callable] | None = None):
        super().__init__(environment=SandboxEnvironment(functions))

    def validate(self, expression: str) -> None:
        """SyntaxError for bad syntax (the DMN engine relies on it), UnsafeCodeError for forbidden code."""
        check_code(expression, "eval")

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        """The value of ``expression`` for ``task``, checked for what the expression is for (a timer...)."""
        what = purpose_of(task, expression)
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
        except Exception as error:
            raise self._failure(task, what, error) from error
        problem = check_result(task, what, value)
        if problem:
            bpmn_id, name, label = element_of(task.task_spec)
            raise ScriptRuntimeError(f"the {what} of {label} {problem}", bpmn_id, name)
        return value

    def execute(self, task: Any, script: str, external_context: dict | None = None) -> bool:
        """Run ``script`` on ``task``'s data."""
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except Exception as error:
            raise self._failure(task, "script", error) from error

    @staticmethod
    def _failure(task: Any, what: str, error: Exception) -> ScriptRuntimeError:
        bpmn_id, name, label = element_of(task.task_spec)
        if isinstance(error, ScriptRuntimeError):
            return error
        if isinstance(error, BudgetExceededError):
            return ScriptRuntimeError(f"the {what} of {label} {error}", bpmn_id, name)
        if isinstance(error, UnsafeCodeError):
            return ScriptRuntimeError(f"the {what} of {label} is not allowed: {error}", bpmn_id, name)
        if isinstance(error, SyntaxError):
            return ScriptRuntimeError(f"the {what} of {label} is not valid Python ({error.msg})", bpmn_id, name)
        line = _script_line(error) if what == "script" else None
        where = f" on line {line}" if line else ""
        return ScriptRuntimeError(f"the {what} of {label} failed{where}: {plain_reason(error)}", bpmn_id, name)
