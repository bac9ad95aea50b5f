"""The bounds a process model and its data must stay within, in one place.

Services build one :class:`EngineLimits` from the app's settings and hand it to the engine; the
deploy checks and the run-time guards read the same values, so what deploy accepts is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Largest integer process data may hold: a signed 64-bit value, like Camunda's ``long``.
MAX_DATA_INT = 2**63 - 1


@dataclass(frozen=True)
class EngineLimits:
    """Budgets for evaluating model code and bounds on what a model and its data may be."""

    #: wall-clock seconds one script or expression may run
    evaluation_seconds: float = 2.0
    #: automatic engine steps (scripts, gateways, events...) one start, completion or timer may run
    run_steps: int = 500
    #: loop and comprehension rounds, and function calls, one evaluation may make
    iterations: int = 1_000_000
    #: items (characters, list elements) one operation may create, and all of one evaluation's together
    sequence_items: int = 1_000_000
    allocated_items: int = 10_000_000
    #: bits an integer may have while a script computes (a 3,000-digit number)
    int_bits: int = 10_000
    #: growth of the process's resident memory one evaluation may cause (a backstop on Linux)
    memory_bytes: int = 256 * 1024 * 1024
    #: size of one audit's process data as JSON, and how deep lists and dicts in it may nest
    data_bytes: int = 1_000_000
    data_depth: int = 32
    #: instances one multi-instance activity may create
    max_instances: int = 100
    #: how far ahead a timer may be set (days; about 10 years)
    horizon_days: int = 3660
    #: characters of one script or expression
    code_chars: int = 100_000

    @classmethod
    def from_settings(cls, settings: dict) -> EngineLimits:
        """The limits named in the app's settings (``SCRIPT_SECONDS`` and friends); defaults elsewhere."""
        defaults = cls()
        return cls(
            evaluation_seconds=float(settings.get("SCRIPT_SECONDS", defaults.evaluation_seconds)),
            run_steps=int(settings.get("ENGINE_STEPS", defaults.run_steps)),
            data_bytes=int(settings.get("DATA_BYTES", defaults.data_bytes)),
            max_instances=int(settings.get("MAX_INSTANCES", defaults.max_instances)),
        )


DEFAULT_LIMITS = EngineLimits()
