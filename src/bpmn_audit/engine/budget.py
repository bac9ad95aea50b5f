"""Budgets for model code: time, rounds, allocation and memory, enforced in whichever thread evaluates.

Every script and expression runs with a fresh :class:`Budget`. The sandbox's compiler (see
``guarded_policy.py``) makes the code call it: ``_tick_()`` at the top of every ``while`` body and
function, ``_getiter_`` around everything a ``for`` loop or comprehension walks, and guarded
operators and builtins wherever code could make something big (``*``, ``**``, ``<<``, ``+``, ``%``,
``range``, ``pow``, ``sum``, ``join``, ``ljust`` ...). So the budget is checked by the evaluating thread
itself, which works in web request threads (no ``SIGALRM``) and on Python 3.11 (no ``sys.monitoring``).

Memory is bounded by refusing big allocations before they happen (one operation may make at most
``sequence_items`` items; all of an evaluation's guarded allocations together at most
``allocated_items``; integers at most ``int_bits`` bits) rather than by time: two seconds of a list
comprehension is already hundreds of megabytes. As a backstop, the resident memory of the process is
read every 1,024 rounds on Linux, and an evaluation that grew it by more than ``memory_bytes`` stops.

A script can catch the budget's error with ``except Exception``, but cannot get past it: once broken, a
budget fails every later round, and the sandbox raises its error again when the code returns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from typing import Any

from .errors import BudgetExceededError
from .limits import DEFAULT_LIMITS, EngineLimits

_limits: ContextVar[EngineLimits] = ContextVar("engine_limits", default=DEFAULT_LIMITS)
_SEQUENCES = (str, bytes, list, tuple)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
#: widths and precisions in %-formatting; a number this long or a '*' is refused
_BIG_FORMAT = re.compile(r"%[-#0 +]*(?:\*|\d{6,})|%[-#0 +]*\d*\.(?:\*|\d{6,})")


def current_limits() -> EngineLimits:
    """The limits in force in this thread (the defaults unless a caller set others)."""
    return _limits.get()


@contextmanager
def limits_in_force(limits: EngineLimits) -> Iterator[None]:
    """Evaluate with ``limits`` for the length of the block, in this thread only."""
    token = _limits.set(limits)
    try:
        yield
    finally:
        _limits.reset(token)


def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class Budget:
    """What one evaluation may still spend. ``broken`` holds the reason once it is spent."""

    def __init__(self, limits: EngineLimits | None = None):
        self.limits = limits or current_limits()
        self.deadline = monotonic() + self.limits.evaluation_seconds
        self.rounds = self.limits.iterations
        self.allocated = self.limits.allocated_items
        self.broken: str | None = None
        self._memory_at_start = _resident_bytes()

    # -- spending ---------------------------------------------------------------------------------------
    def fail(self, reason: str) -> None:
        """Break the budget for good and raise."""
        self.broken = self.broken or reason
        raise BudgetExceededError(self.broken)

    def tick(self) -> None:
        """One loop round or function call; the clock is read every 64th (a round is bounded work)."""
        self.rounds -= 1
        if not self.rounds & 63:
            self.check()

    def check(self) -> None:
        """Raise if the budget is spent: rounds, time, memory, or broken before."""
        if self.broken or self.rounds < 0 or monotonic() > self.deadline:
            self._overspent()
        if not self.rounds & 1023:
            self._check_memory()

    def _overspent(self) -> None:
        if self.broken:
            self.fail(self.broken)
        if self.rounds < 0:
            self.fail(f"made more than {self.limits.iterations:,} loop rounds or function calls")
        self.fail(f"ran for more than {self.limits.evaluation_seconds:g} s")

    def _check_memory(self) -> None:
        now = _resident_bytes()
        if now is not None and self._memory_at_start is not None \
                and now - self._memory_at_start > self.limits.memory_bytes:
            self.fail(f"used more than {self.limits.memory_bytes // 2**20} MB of memory")

    def charge(self, items: int) -> None:
        """Account for an allocation of ``items`` characters or elements, refusing it if too big."""
        if items > self.limits.sequence_items:
            self.fail(f"would make a text or list of {items:,} items, more than the "
                      f"{self.limits.sequence_items:,} allowed")
        self.allocated -= items
        if self.allocated < 0:
            self.fail(f"made more than {self.limits.allocated_items:,} items of text and lists in all")
        if items > 65536:
            self._check_memory()

    def sized(self, value: Any) -> Any:
        """``value`` (text or a list just made), counted against the allocation budget."""
        self.charge(len(value))
        return value

    def check_int(self, bits: int) -> None:
        """Refuse an integer result of ``bits`` bits when it is too big."""
        if bits > self.limits.int_bits:
            self.fail(f"would make a number of more than {self.limits.int_bits:,} bits "
                      f"(about {int(self.limits.int_bits * 0.30103):,} digits)")

    # -- guarded iteration ------------------------------------------------------------------------------
    def iterate(self, iterable: Iterable) -> Iterator:
        """``_getiter_``: every item a loop or comprehension takes is a round (``tick``, inlined)."""
        for item in iterable:
            self.rounds -= 1
            if not self.rounds & 63:
                self.check()
            yield item

    # -- guarded operators ------------------------------------------------------------------------------
    def add(self, left: Any, right: Any) -> Any:
        """``left + right`` without runaway text, lists or integers."""
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            self.charge(len(left) + len(right))
        elif type(left) is int and type(right) is int:
            self.check_int(max(left.bit_length(), right.bit_length()) + 1)
        return left + right

    def mul(self, left: Any, right: Any) -> Any:
        """``left * right``: repetition and integer products are sized before they are made."""
        if type(left) is int and type(right) is int:
            self.check_int(left.bit_length() + right.bit_length())
        elif isinstance(left, _SEQUENCES) and isinstance(right, int):
            self.charge(len(left) * max(right, 0))
        elif isinstance(right, _SEQUENCES) and isinstance(left, int):
            self.charge(len(right) * max(left, 0))
        return left * right

    def pow(self, base: Any, exponent: Any, modulo: Any = None) -> Any:
        """``base ** exponent`` (and ``pow``) sized before it is computed."""
        if modulo is None and type(base) is int and type(exponent) is int and exponent > 0 and abs(base) > 1:
            self.check_int((base.bit_length() - 1) * exponent + 1)
        return pow(base, exponent) if modulo is None else pow(base, exponent, modulo)

    def lshift(self, left: Any, right: Any) -> Any:
        """``left << right`` sized before it is computed."""
        if type(left) is int and type(right) is int and right > 0 and left:
            self.check_int(left.bit_length() + right)
        return left << right

    def mod(self, left: Any, right: Any) -> Any:
        """``left % right``: %-formatting may not ask for huge widths."""
        if isinstance(left, str | bytes):
            text = left if isinstance(left, str) else left.decode("latin-1")
            if _BIG_FORMAT.search(text):
                self.fail("uses a %-format with a width or precision of 100,000 or more, or a '*'")
            result = left % right
            self.charge(len(result))
            return result
        return left % right

    INPLACE: dict[str, str] = {"+=": "add", "*=": "mul", "**=": "pow", "<<=": "lshift", "%=": "mod"}

    # -- guarded builtins -------------------------------------------------------------------------------
    def range(self, *args: int) -> range:
        """``range``, at most ``sequence_items`` numbers long."""
        numbers = range(*args)
        if len(numbers) > self.limits.sequence_items:
            self.fail(f"asks for a range of {len(numbers):,} numbers, more than the "
                      f"{self.limits.sequence_items:,} allowed")
        return numbers

    def sum(self, iterable: Iterable, start: Any = 0) -> Any:
        """``sum`` with each addition guarded (summing lists would otherwise copy without limit)."""
        total = start
        for item in self.iterate(iterable):
            total = self.add(total, item)
        return total

    def round(self, number: Any, ndigits: int | None = None) -> Any:
        """``round``; a huge ``ndigits`` would compute a huge power of ten."""
        if ndigits is not None and abs(ndigits) > 1000:
            self.fail(f"rounds to {ndigits:,} digits")
        return round(number) if ndigits is None else round(number, ndigits)

    def counted(self, make: Callable) -> Callable:
        """A builtin such as ``list`` or ``str`` whose result counts against the allocation budget."""
        def build(*args: Any, **kwargs: Any) -> Any:
            result = make(*args, **kwargs)
            try:
                self.charge(len(result))
            except TypeError:
                pass  # an int() or float(): nothing sized
            return result
        return build

    def builtins(self, base: dict[str, Any]) -> dict[str, Any]:
        """``base`` with the budget-aware builtins in place."""
        sized = {name: self.counted(base[name]) for name in ("list", "tuple", "set", "dict", "sorted", "str", "repr")
                 if name in base}
        return {**base, **sized, "range": self.range, "pow": self.pow, "sum": self.sum, "round": self.round}

    def inplace_operators(self, plain: dict[str, Callable[[Any, Any], Any]]) -> dict[str, Callable[[Any, Any], Any]]:
        """Augmented assignment operator -> function: the guarded operator where there is one."""
        return {**plain, **{op: getattr(self, name) for op, name in self.INPLACE.items()}}

    # -- guarded methods --------------------------------------------------------------------------------
    def method(self, obj: Any, name: str, bound: Any) -> Any:
        """A method that can make big things, wrapped to size its result first; others as they are."""
        owner = obj if isinstance(obj, type) else type(obj)
        check = _SIZED_METHODS.get(name) if owner in (str, bytes, list, int) else None
        if check is None:
            return bound
        budget = self

        unbound = isinstance(obj, type)  # str.join(sep, items) rather than sep.join(items)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            subject, rest = (args[0], args[1:]) if unbound else (obj, args)
            rest = check(budget, subject, *rest, **kwargs) or rest
            return bound(subject, *rest, **kwargs) if unbound else bound(*rest, **kwargs)
        return guarded


def _width(budget: Budget, subject: Any, width: int = 0, *_rest: Any, **_kw: Any) -> None:
    if isinstance(width, int):
        budget.charge(max(width, len(subject)) if hasattr(subject, "__len__") else width)


def _expandtabs(budget: Budget, subject: Any, tabsize: int = 8, **_kw: Any) -> None:
    if isinstance(subject, str | bytes) and isinstance(tabsize, int):
        tab = "\t" if isinstance(subject, str) else b"\t"
        budget.charge(len(subject) + subject.count(tab) * max(tabsize, 0))


def _replace(budget: Budget, subject: Any, old: Any = "", new: Any = "", count: int = -1, **_kw: Any) -> None:
    if isinstance(subject, str | bytes) and isinstance(new, str | bytes) and isinstance(old, str | bytes):
        hits = subject.count(old) if old else len(subject) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        budget.charge(len(subject) + hits * max(len(new) - len(old), 0))


def _join(budget: Budget, separator: Any, items: Any = (), **_kw: Any) -> tuple:
    items = items if isinstance(items, list | tuple) else list(budget.iterate(items))
    sizes = [len(item) for item in items if isinstance(item, str | bytes)]
    budget.charge(sum(sizes) + len(separator) * max(len(sizes) - 1, 0))
    return (items,)


def _translate(budget: Budget, subject: Any, table: Any = None, *_rest: Any, **_kw: Any) -> None:
    longest = max((len(v) for v in table.values() if isinstance(v, str | bytes)), default=1) \
        if isinstance(table, dict) else 1
    budget.charge(len(subject) * max(longest, 1))


def _extend(budget: Budget, subject: Any, items: Any = (), *_rest: Any, **_kw: Any) -> None:
    size = len(items) if hasattr(items, "__len__") else 0
    budget.charge(len(subject) + size)


def _to_bytes(budget: Budget, subject: Any, length: int = 1, *_rest: Any, **_kw: Any) -> None:
    if isinstance(length, int):
        budget.charge(length)


#: method name -> a check that sizes the result first (and may return the arguments to call with instead)
_SIZED_METHODS: dict[str, Callable[..., tuple | None]] = {
    "ljust": _width, "rjust": _width, "center": _width, "zfill": _width,
    "expandtabs": _expandtabs, "replace": _replace, "join": _join, "translate": _translate,
    "extend": _extend, "to_bytes": _to_bytes,
}
