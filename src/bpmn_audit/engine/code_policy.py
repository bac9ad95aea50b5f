"""What model code may say, checked before it runs, and its compilation under the guarded policy.

Every expression and script is parsed, checked statically (RestrictedPython's policy plus our own
deny list, with human messages naming the line) and compiled with :class:`GuardedPolicy`, which adds
the budget's calls. Rejected code raises :class:`UnsafeCodeError`, never a ``SyntaxError`` (the DMN
engine treats ``SyntaxError`` as "retry with an implicit =="); code that does not parse raises
``SyntaxError``. Compiled code is cached by its text.
"""

from __future__ import annotations

import ast
import re
import textwrap
import types
from collections.abc import Callable
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec

from .errors import UnsafeCodeError
from .guarded_policy import GuardedPolicy
from .limits import DEFAULT_LIMITS

#: Names that must never be referenced, nor reachable at run time.
DENIED_NAMES = frozenset({
    "eval", "exec", "compile", "open", "globals", "locals", "vars", "getattr", "setattr", "delattr", "type",
    "__import__", "breakpoint", "input", "memoryview", "help", "dir", "exit", "quit",
    # Raising or catching these would escape `except Exception` and could stop a server worker.
    "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit",
})
#: Attributes refused although they do not start with '_': format strings reach private attributes;
#: ``mro`` hands out ``BaseException`` (``Exception.mro()[1]``).
DENIED_ATTRIBUTES = frozenset({"format", "format_map", "mro"})
#: The widest field or longest precision an f-string may ask for (a bigger one is an allocation bomb).
MAX_FORMAT_WIDTH = 10_000
_FORMAT_NUMBER = re.compile(r"\d+")


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
        elif isinstance(node, ast.Attribute) and node.attr in DENIED_ATTRIBUTES:
            problems.append(f"{where(node)} uses '.{node.attr}()', which is not allowed"
                            + (": it can reach private attributes; use an f-string instead"
                               if node.attr != "mro" else ": it reaches exceptions the sandbox withholds"))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = ", ".join(alias.name for alias in node.names)
            module = f"{node.module} ({names})" if isinstance(node, ast.ImportFrom) else names
            problems.append(f"{where(node)} imports {module}, which is not allowed: "
                            "modules cannot be imported")
        elif isinstance(node, ast.ClassDef):
            problems.append(f"{where(node)} defines the class '{node.name}', which is not allowed: "
                            "task data must stay plain values")
        else:
            problems.extend(_flow_problems(node, where))
    return list(dict.fromkeys(problems))


def _flow_problems(node: ast.AST, where: Callable[[ast.AST], str]) -> list[str]:
    """Exception handling and formatting that could swallow a stop or allocate without limit."""
    if isinstance(node, ast.ExceptHandler) and node.type is None:
        return [f"{where(node)} has a bare 'except:', which is not allowed: name what to catch, "
                "such as 'except ValueError:' or 'except Exception:'"]
    if isinstance(node, ast.ExceptHandler) and not _is_plain_names(node.type):
        return [f"{where(node)} catches a computed exception type, which is not allowed: name it, "
                "such as 'except ValueError:'"]
    if isinstance(node, ast.Try | ast.TryStar):
        leaves = [inner for statement in node.finalbody for inner in ast.walk(statement)
                  if isinstance(inner, ast.Return | ast.Break | ast.Continue)]
        if leaves:
            return [f"{where(leaves[0])} leaves a 'finally' block with return, break or continue, which is not "
                    "allowed: it would hide errors"]
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        return _format_spec_problems(node, where)
    return []


def _is_plain_names(node: ast.AST) -> bool:
    if isinstance(node, ast.Tuple):
        return all(isinstance(element, ast.Name) for element in node.elts)
    return isinstance(node, ast.Name)


def _format_spec_problems(node: ast.FormattedValue, where: Callable[[ast.AST], str]) -> list[str]:
    parts = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else [node.format_spec]
    if not all(isinstance(part, ast.Constant) for part in parts):
        return [f"{where(node)} computes an f-string format at run time, which is not allowed: write it out"]
    spec = "".join(str(part.value) for part in parts)
    if any(int(number) > MAX_FORMAT_WIDTH for number in _FORMAT_NUMBER.findall(spec)):
        return [f"{where(node)} formats with a width or precision over {MAX_FORMAT_WIDTH:,}, which is not allowed"]
    return []


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
def compile_code(text: str, mode: str) -> types.CodeType:
    """Parse, check and compile code; SyntaxError for bad syntax, UnsafeCodeError for forbidden code."""
    source = _prepare(text, mode)
    kind = "expression" if mode == "eval" else "script"
    tree = _parse(source, mode, kind, DEFAULT_LIMITS.code_chars)

    def where(node: ast.AST) -> str:
        return kind if mode == "eval" else f"script line {getattr(node, 'lineno', '?')}"

    problems = _static_problems(tree, where)
    if not problems:
        compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        result = compiler(tree, "<string>", policy=GuardedPolicy)
        if result.code is not None and not result.errors:
            return result.code
        problems = [f"{kind} is not allowed: {'; '.join(result.errors)}"]
    raise UnsafeCodeError("; ".join(problems))


def check_code(text: str, mode: str) -> None:
    """Raise SyntaxError if ``text`` does not parse, UnsafeCodeError if the sandbox refuses it."""
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    compile_code(text, mode)

