"""A hostile script cannot take the server's memory: each probe runs in a subprocess of its own, which
reports how much its peak resident memory grew while the engine ran the model (less than 500 MB)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import DATA

PROBE = """
import resource, sys
from pathlib import Path
from bpmn_audit.engine.errors import ScriptRuntimeError
from bpmn_audit.engine.parser import parse_models
from bpmn_audit.engine.serializer import dump_spec
from bpmn_audit.engine.workflow import RunningAudit

path = Path(sys.argv[1])
[(spec, subprocess_specs)] = parse_models([(path.name, path.read_bytes())]).processes.values()
blob = dump_spec(spec, subprocess_specs)[1]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    RunningAudit.start(blob)
    print("no error")
except ScriptRuntimeError as error:
    print("error:", error)
print("growth_mb", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("model", ["hostile_big_comprehension", "hostile_string_repeat", "hostile_list_repeat",
                                   "hostile_dict_comprehension", "hostile_doubling", "hostile_big_power"])
def test_a_hostile_script_grows_memory_by_less_than_500_mb(model):
    done = subprocess.run([sys.executable, "-c", PROBE, str(DATA / f"{model}.bpmn")], capture_output=True,
                          text=True, timeout=50, check=True)
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("error: the script of 'Hostile script' (hostile)"), done.stdout
    growth = int(lines[-1].split()[-1])
    assert growth < 500, f"{model}: peak memory grew by {growth} MB"
