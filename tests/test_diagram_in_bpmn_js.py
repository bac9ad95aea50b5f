"""The shipped diagram opens cleanly in bpmn-js, the modeller behind Camunda Modeler, in a real browser.

Needs Debian's chromium and the npm packages (``make test`` installs them where npm exists; CI
installs chromium); skips with a clear message where either is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from browsing import CHROMIUM
from conftest import PROCESSES, ROOT

BPMN_JS = ROOT / "node_modules" / "bpmn-js" / "dist"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{dist}/assets/diagram-js.css"><link rel="stylesheet" href="{dist}/assets/bpmn-js.css">
</head><body><div id="canvas" style="width:1600px;height:900px"></div>
<script src="{dist}/bpmn-modeler.production.min.js"></script><script>
window.openDiagram = async (xml) => {{
  const modeler = new BpmnJS({{container: '#canvas'}});
  const result = await modeler.importXML(xml);
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const planes = {{}};
  for (const root of canvas.getRootElements()) {{
    planes[root.id] = registry.filter(e => e !== root && !e.labelTarget && canvas.findRoot(e) === root)
                              .map(e => e.businessObject.id);
  }}
  const {{ xml: saved }} = await modeler.saveXML({{format: true}});
  return {{warnings: result.warnings.map(w => w.message), planes, saved}};
}};
</script></body></html>"""

pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="no Chromium here: apt-get install chromium (CI does)"),
    pytest.mark.skipif(not (BPMN_JS / "bpmn-modeler.production.min.js").exists(),
                       reason="bpmn-js is not installed: run `make install` (needs npm)"),
]


def _open_in_bpmn_js(browser, tmp_path: Path, xml: str) -> dict:
    """Open ``xml`` in the bpmn-js modeller in the session's Chromium: its warnings, its planes, its save."""
    page_file = tmp_path / "modeller.html"
    page_file.write_text(PAGE.format(dist=BPMN_JS.as_uri()))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        return page.evaluate("xml => openDiagram(xml)", xml)
    finally:
        context.close()


def test_the_audit_diagram_opens_without_warnings_and_shows_every_element(browser, tmp_path):
    xml = (PROCESSES / "multi_agency_audit.bpmn").read_text()
    result = _open_in_bpmn_js(browser, tmp_path, xml)
    assert result["warnings"] == []

    tree = etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    drawn = {el.get("bpmnElement") for el in tree.iter("{*}BPMNShape", "{*}BPMNEdge")}
    shown = {element_id for ids in result["planes"].values() for element_id in ids}
    assert drawn - {"audit_partnership"} <= shown | {"audit_partnership"}
    # the per-agency work is on its own drill-down plane, as Camunda Modeler shows collapsed subprocesses
    assert "submit_agency_report" in result["planes"]["agency_audit_plane"]
    assert "submit_agency_report" not in result["planes"]["audit_collaboration"]
    # and the modeller writes back every Camunda extension it read
    for attribute in ("camunda:candidateGroups", "camunda:formData", "camunda:collection", "camunda:dueDate"):
        assert attribute in result["saved"]


def test_the_immediate_concern_diagram_opens_and_shows_its_escalation(browser, tmp_path):
    xml = (PROCESSES / "immediate_concern.bpmn").read_text()
    result = _open_in_bpmn_js(browser, tmp_path, xml)
    assert result["warnings"] == []
    shown = set(result["planes"]["concern_collaboration"])
    assert {"respond_to_concern", "b_not_claimed", "business_unit_told", "to_business_unit_told"} <= shown
    assert "camunda:candidateGroups" in result["saved"] and "unless_claimed" in result["saved"]


def test_a_diagram_with_a_dangling_reference_is_reported(browser, tmp_path):
    """The check above can fail: bpmn-js warns about what it cannot draw."""
    xml = (PROCESSES / "multi_agency_audit.bpmn").read_text().replace(
        'bpmnElement="flow_start"', 'bpmnElement="flow_that_does_not_exist"')
    assert _open_in_bpmn_js(browser, tmp_path, xml)["warnings"] != []
