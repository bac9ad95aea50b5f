"""The one place that builds the script engine: SpiffWorkflow's, behind the RestrictedPython sandbox."""

from __future__ import annotations

from .sandbox import SandboxedScriptEngine
from .script_functions import SCRIPT_FUNCTIONS

_ENGINE: SandboxedScriptEngine | None = None


def script_engine() -> SandboxedScriptEngine:
    """The shared sandboxed engine (stateless, so one serves every workflow)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = SandboxedScriptEngine(functions=SCRIPT_FUNCTIONS)
    return _ENGINE
