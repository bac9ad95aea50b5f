"""A RestrictedPython sandbox for every expression and script in a BPMN or DMN model.

SpiffWorkflow's default engine runs model code with plain ``eval``/``exec`` and full builtins,
so an uploaded model could run any Python on the server. Here every expression and script is
checked statically (RestrictedPython's policy plus our own deny list, with human messages),
compiled by RestrictedPython and run with a small set of builtins and RestrictedPython's guards.
Rejected code raises :class:`UnsafeCodeError`, never a ``SyntaxError`` (the DMN engine treats
``SyntaxError`` as "retry with an implicit ==").
"""

from __future__ import annotations

import ast
import builtins
import operator
import re
import textwrap
import types
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from RestrictedPython import PrintCollector, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine

from .errors import UnsafeCodeError
from .limits import DEFAULT_LIMITS

#: Names that must never be referenced, nor reachable at run time.
DENIED_NAMES = frozenset({
    "eval", "exec", "compile", "open", "globals", "locals", "vars", "getattr", "setattr", "delattr", "type",
    "__import__", "breakpoint", "input", "memoryview", "help", "dir", "exit", "quit",
    # Raising these would escape SpiffWorkflow's `except Exception` and could stop a server worker.
    "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit",
})
_EXTRA_BUILTINS = ("len", "min", "max", "sum", "sorted", "any", "all", "enumerate", "zip", "range", "list",
                   "dict", "set", "tuple", "str", "int", "float", "bool", "round", "abs", "isinstance",
                   "reversed", "map", "filter")
_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items()
                             if not k.startswith("_") and k not in DENIED_NAMES}
_BUILTINS.update({name: getattr(builtins, name) for name in _EXTRA_BUILTINS})
_FORMAT_ATTRS = frozenset({"format", "format_map"})
_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}

_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = (rf"P(?=[\dT])(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
             rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?")
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATETIME = rf"{_DATE}T\d{{2}}:\d{{2}}(?::\d{{2}}(?:[.,]\d+)?)?(?:Z|[+-]\d{{2}}(?::?\d{{2}})?)?"
_POINT = rf"(?:{_DATETIME}|{_DATE}|{_DURATION})"
_ISO_VALUE = re.compile(rf"(?:{_DATETIME}|{_DATE}|{_DURATION}|R\d*/{_POINT}(?:/{_POINT})?)")
_EL_WRAPPED = re.compile(r"[$#]\{(.*)\}", re.DOTALL)


def normalize_expression(text: str) -> str:
    """Forgive common modeller habits: bare ISO 8601 values become string literals, ``${x}`` becomes ``x``."""
    text = text.strip()
    if _ISO_VALUE.fullmatch(text):
        return repr(text)
    wrapped = _EL_WRAPPED.fullmatch(text)
    if wrapped:
        inner = wrapped.group(1).strip()
        try:
            ast.parse(inner, mode="eval")  # "${a} + ${b}" is not one wrapped expression
        except SyntaxError:
            return text
        return inner
    return text


def _prepare(text: str, mode: str) -> str:
    """Expressions are normalized; scripts are only dedented (leading lines kept so line numbers match)."""
    return normalize_expression(text) if mode == "eval" else textwrap.dedent(text).rstrip()


def _static_problems(tree: ast.AST, where: Callable[[ast.AST], str]) -> list[str]:
    """Human-readable reasons why the parsed code is refused (empty when it looks fine)."""
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            problems.append(f"{where(node)} uses the name '{node.id}', which is not allowed: "
                            "names starting with '_' are forbidden")
        elif isinstance(node, ast.Name) and node.id in DENIED_NAMES:
            problems.append(f"{where(node)} uses the name '{node.id}', which is not allowed in "
                            "model expressions and scripts")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            problems.append(f"{where(node)} uses the attribute '.{node.attr}', which is not allowed: "
                            "attributes starting with '_' are forbidden")
        elif isinstance(node, ast.Attribute) and node.attr in _FORMAT_ATTRS:
            problems.append(f"{where(node)} uses '.{node.attr}()', which is not allowed: it can reach "
                            "private attributes; use an f-string instead")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = ", ".join(alias.name for alias in node.names)
            module = f"{node.module} ({names})" if isinstance(node, ast.ImportFrom) else names
            problems.append(f"{where(node)} imports {module}, which is not allowed: "
                            "modules cannot be imported")
        elif isinstance(node, ast.ClassDef):
            problems.append(f"{where(node)} defines the class '{node.name}', which is not allowed: "
                            "task data must stay plain values")
    return list(dict.fromkeys(problems))


#: How deeply code may nest (brackets, operators, blocks): RestrictedPython's checks recurse per level.
MAX_NESTING = 100


def _nesting(tree: ast.AST) -> int:
    """The depth of the syntax tree, measured without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _parse(source: str, mode: str, kind: str, max_chars: int) -> ast.AST:
    """The syntax tree of ``source``; SyntaxError for bad syntax, UnsafeCodeError when too long or deep."""
    if len(source) > max_chars:
        raise UnsafeCodeError(f"the {kind} is {len(source):,} characters long, more than the {max_chars:,} allowed")
    try:
        tree = ast.parse(source, "<string>", mode)  # a genuine SyntaxError propagates unchanged
    except (RecursionError, MemoryError):
        tree = None
    if tree is None or _nesting(tree) > MAX_NESTING:
        raise UnsafeCodeError(f"the {kind} nests more than {MAX_NESTING} levels deep (brackets, operators or "
                              "blocks inside each other): split it into simpler steps")
    return tree


@lru_cache(maxsize=1024)
def _compile(text: str, mode: str) -> types.CodeType:
    """Parse, check and compile code; SyntaxError for bad syntax, UnsafeCodeError for forbidden code."""
    source = _prepare(text, mode)
    kind = "expression" if mode == "eval" else "script"
    tree = _parse(source, mode, kind, DEFAULT_LIMITS.code_chars)

    def where(node: ast.AST) -> str:
        return kind if mode == "eval" else f"script line {getattr(node, 'lineno', '?')}"

    problems = _static_problems(tree, where)
    if not problems:
        compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        result = compiler(source, "<string>")
        if result.code is not None and not result.errors:
            return result.code
        problems = [f"{kind} is not allowed: {'; '.join(result.errors)}"]
    raise UnsafeCodeError("; ".join(problems))


def check_code(text: str, mode: str) -> None:
    """Raise SyntaxError if ``text`` does not parse, UnsafeCodeError if the sandbox refuses it."""
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    _compile(text, mode)


def _guarded_getattr(obj: Any, name: str) -> Any:
    if name.startswith("_") or (name in _FORMAT_ATTRS and (
            isinstance(obj, str) or (isinstance(obj, type) and issubclass(obj, str)))):
        raise UnsafeCodeError(f"access to the attribute '.{name}' is not allowed")
    return safer_getattr_raise(obj, name)


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    if op not in _INPLACE_OPS:
        raise UnsafeCodeError(f"the operator '{op}' is not allowed")
    return _INPLACE_OPS[op](target, value)


_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
    "_print_": PrintCollector,  # print() works but its output is discarded
}


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates expressions and runs scripts against task data inside the RestrictedPython sandbox."""

    def __init__(self, functions: dict[str, Callable] | None = None):
        super().__init__()
        self.functions: dict[str, Callable] = dict(functions or {})
        self.globals = self.functions

    def _globals(self, context: dict, external_context: dict | None) -> dict[str, Any]:
        # Guards go last so task data can never replace them.
        return {**self.functions, **(external_context or {}), **context, **_GUARDS}

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Return the value of ``expression``; task data and ``external_context`` are visible as names."""
        code = _compile(expression, "eval")
        return eval(code, self._globals(context, external_context))

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run ``script``; variables it creates, changes or deletes are written back to ``context``."""
        external_context = external_context or {}
        shadowed = (set(self.functions) | set(external_context)) & set(context)
        if shadowed:
            raise ValueError("You have task data that overwrites a predefined function(s). Please change the "
                             f"following variable or field name(s) to something else: {sorted(shadowed)}")
        code = _compile(script, "exec")
        scope = self._globals(context, external_context)
        exec(code, scope)  # one dict: comprehensions and functions see task data
        for name in [k for k in context if k not in scope]:
            del context[name]
        for name, value in scope.items():
            if (name.startswith("_") or name in self.functions or name in external_context
                    or callable(value) or isinstance(value, types.ModuleType)):
                continue
            if name not in context or context[name] is not value:
                context[name] = value
        return True


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine whose expressions and scripts all run in the sandbox."""

    def __init__(self, functions: dict[str, Callable] | None = None):
        super().__init__(environment=SandboxEnvironment(functions))

    def validate(self, expression: str) -> None:
        """SyntaxError for bad syntax (the DMN engine relies on it), UnsafeCodeError for forbidden code."""
        check_code(expression, "eval")

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as wte:
            cause = wte.__context__
            if not isinstance(cause, UnsafeCodeError):
                raise
            # SpiffWorkflow's message would drop the reason; keep it.
            raise WorkflowTaskException(f"{wte}: {cause}", task=task, exception=cause) from cause

    def execute(self, task: Any, script: str, external_context: dict | None = None) -> Any:
        try:
            return super().execute(task, script, external_context)
        except WorkflowTaskException as wte:
            if isinstance(wte.__context__, UnsafeCodeError):
                raise wte from wte.__context__
            raise
