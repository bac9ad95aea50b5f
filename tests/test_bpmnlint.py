"""Every shipped model passes bpmnlint, the linter behind Camunda Modeler and bpmn.io, with its recommended rules.

Runs the bpmnlint that ``make test`` installs from npm (``package.json``) with the repository's ``.bpmnlintrc``
(``bpmnlint:recommended``). Errors fail the test; warnings are allowed, and each one left in a shipped model is
explained in the process owner's guide. Skips with a clear message where npm (so bpmnlint) is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PROCESSES, ROOT

BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"
CONFIG = ROOT / ".bpmnlintrc"
# one line per problem: "  element_id  error  message  rule-name"
ERROR_LINE = re.compile(r"^\s*(\S+)\s+error\s+(.*?)\s+(\S+)\s*$")

pytestmark = [
    pytest.mark.skipif(not BPMNLINT.exists(),
                       reason="npm is not installed: no node_modules/.bin/bpmnlint (`make install` installs it "
                              "from package.json where npm exists)"),
    pytest.mark.skipif(not shutil.which("node"), reason="Node.js is not installed: bpmnlint runs on it"),
]


def _bpmnlint(path: Path) -> tuple[int, str, list[tuple[str, str]]]:
    """bpmnlint's exit code, its output, and (element id, rule) of each error it reports."""
    result = subprocess.run([str(BPMNLINT), "--config", str(CONFIG), str(path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=50, env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"})
    output = result.stdout + result.stderr
    errors = [(m.group(1), m.group(3)) for m in map(ERROR_LINE.match, output.splitlines()) if m]
    return result.returncode, output, errors


@pytest.mark.timeout(60)
@pytest.mark.parametrize("model", sorted(PROCESSES.glob("*.bpmn")), ids=lambda path: path.name)
def test_the_shipped_model_has_no_bpmnlint_error(model):
    returncode, output, errors = _bpmnlint(model)
    assert returncode == 0 and errors == [], f"bpmnlint reports errors on {model.name}:\n{output}"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("old", "new", "expected"), [
    ("      <bpmn:incoming>flow_to_qa</bpmn:incoming>\n", "", ("qa_analysis_report", "no-implicit-start")),
    ('<bpmn:endEvent id="audit_closed" name="Audit closed">', '<bpmn:endEvent id="audit_closed">',
     ("audit_closed", "label-required")),
], ids=["a missing bpmn:incoming", "an unlabelled event"])
def test_bpmnlint_reports_a_broken_copy_of_the_model(tmp_path, old, new, expected):
    """The check above can fail: a copy of the audit with one mistake gives a bpmnlint error naming the element."""
    text = (PROCESSES / "multi_agency_audit.bpmn").read_text()
    assert text.count(old) == 1, f"the model no longer contains {old!r} once"
    broken = tmp_path / "multi_agency_audit.bpmn"
    broken.write_text(text.replace(old, new))
    returncode, output, errors = _bpmnlint(broken)
    assert returncode != 0 and expected in errors, output
