"""The one place that builds the script engine: SpiffWorkflow's, behind the RestrictedPython sandbox."""

from __future__ import annotations

from functools import cache

from .sandbox import SandboxedScriptEngine
from .script_functions import SCRIPT_FUNCTIONS


@cache
def script_engine() -> SandboxedScriptEngine:
    """The shared sandboxed engine (stateless, so one serves every workflow)."""
    return SandboxedScriptEngine(functions=SCRIPT_FUNCTIONS)
