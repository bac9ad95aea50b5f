// The modeller page: bpmn-js's Modeler with the Camunda 7 properties panel, opening the process's draft (or its
// latest version), and dmn-js's Modeler for its decision table (the phase durations). Save a draft, validate (problems come back as markers on the diagram, at the element, and as
// a list), deploy with a note, and download or upload a .bpmn file to work on in Camunda Modeler. Bundled by
// esbuild (make) into static/modeller/modeller.js; the page posts with its session and its CSRF token.
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviors from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import DmnModeler from "dmn-js/lib/Modeler";

const page = document.getElementById("modeller");
const say = (text) => { document.getElementById("modeller-status").textContent = text; };
const base = page.getAttribute("data-base");
const token = page.getAttribute("data-csrf");
let files = [];  // every file of the model: the .bpmn in the modeller, the rest (decision tables) kept as they are
let bpmnName = null;
let dmnName = null;
const tables = new DmnModeler({ container: "#modeller-dmn" });

const modeler = new BpmnModeler({
  container: "#modeller-canvas",
  propertiesPanel: { parent: "#modeller-properties" },
  additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule, CamundaBehaviors],
  moddleExtensions: { camunda: camundaModdle },
});

async function call(path, body) {
  const answer = await fetch(base + path, {
    method: body === undefined ? "GET" : "POST", credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": token },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await answer.json().catch(() => ({ error: "the server's answer could not be read" }));
  return { ok: answer.ok, status: answer.status, json };
}

async function current() {
  const { xml } = await modeler.saveXML({ format: true });
  const table = dmnName ? (await tables.saveXML({ format: true })).xml : null;
  return files.map((file) => (file.name === bpmnName ? { name: file.name, xml }
    : file.name === dmnName ? { name: file.name, xml: table } : file));
}

let marked = [];
function showProblems(errors, warnings) {
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  marked.forEach(([id, marker]) => canvas.removeMarker(id, marker));
  marked = [];
  const list = document.getElementById("modeller-problems");
  list.replaceChildren();
  const items = [...errors.map((p) => ["error", p]), ...warnings.map((p) => ["warning", p])];
  items.forEach(([severity, problem]) => {
    const item = document.createElement("li");
    item.className = "app-problem app-problem--" + severity;
    const where = problem.element_id ? `${problem.element_name || problem.element_id} (${problem.element_id})`
      : (problem.file || "the model");
    item.textContent = `${severity === "error" ? "Error" : "Warning"} at ${where}: ${problem.message}`;
    if (problem.element_id && registry.get(problem.element_id)) {
      canvas.addMarker(problem.element_id, "app-marker-" + severity);
      marked.push([problem.element_id, "app-marker-" + severity]);
      item.setAttribute("data-element-id", problem.element_id);
      const show = document.createElement("button");
      show.type = "button";
      show.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-0 govuk-!-margin-left-2";
      show.textContent = "Show";
      show.addEventListener("click", () => {
        modeler.get("selection").select(registry.get(problem.element_id));
        canvas.scrollToElement(registry.get(problem.element_id));
      });
      item.appendChild(show);
    }
    list.appendChild(item);
  });
  page.setAttribute("data-problems", String(items.length));
}

async function open(model) {
  files = model.files;
  const bpmn = files.find((file) => file.name.toLowerCase().endsWith(".bpmn"));
  if (!bpmn) { say("This process has no .bpmn file to open."); return; }
  bpmnName = bpmn.name;
  await modeler.importXML(bpmn.xml);
  modeler.get("canvas").zoom("fit-viewport");
  const dmn = files.find((file) => file.name.toLowerCase().endsWith(".dmn"));
  if (dmn) {  // the first decision table opens, to edit in place
    dmnName = dmn.name;
    document.getElementById("modeller-dmn-section").hidden = false;  // dmn-js measures its container
    await tables.importXML(dmn.xml);
    const view = tables.getViews().find((each) => each.type === "decisionTable");
    if (view) { await tables.open(view); }
    document.getElementById("modeller-dmn-name").textContent = dmn.name;
    document.getElementById("modeller-dmn-section").hidden = false;
  }
  say(model.draft ? `Opened the draft saved by ${model.draft.saved_by}.` : `Opened version ${model.version}.`);
  page.setAttribute("data-ready", "true");
}

document.getElementById("modeller-save").addEventListener("click", async () => {
  const { ok, json } = await call("/draft", { files: await current() });
  say(ok ? "The draft is saved. Nothing is deployed until you deploy it." : `Not saved: ${json.error}`);
  if (!ok && json.errors) { showProblems(json.errors, []); }
});

document.getElementById("modeller-validate").addEventListener("click", async () => {
  const { ok, json } = await call("/validate", { files: await current() });
  if (!ok) { say(`Not checked: ${json.error}`); return; }
  showProblems(json.errors, json.warnings);
  say(json.ok ? `It can be deployed (${json.warnings.length} warning(s)).`
    : `It cannot be deployed: ${json.errors.length} error(s), ${json.warnings.length} warning(s).`);
});

document.getElementById("modeller-deploy").addEventListener("click", async () => {
  const note = document.getElementById("modeller-note").value;
  const { ok, json } = await call("/deploy", { files: await current(), note });
  if (ok) {
    showProblems([], []);
    say("Deployed: " + json.deployed.map((d) => d.text).join("; ") + ". New audits start on it.");
  } else {
    if (json.errors) { showProblems(json.errors, []); }
    say(`Not deployed: ${json.error}`);
  }
});

document.getElementById("modeller-download").addEventListener("click", async () => {
  const { xml } = await modeler.saveXML({ format: true });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
  link.download = bpmnName || "process.bpmn";
  link.click();
  URL.revokeObjectURL(link.href);
});

document.getElementById("modeller-upload").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (!file) { return; }
  const xml = await file.text();
  try {
    await modeler.importXML(xml);
    files = files.filter((f) => f.name !== bpmnName).concat([{ name: bpmnName, xml }]);
    say(`Opened ${file.name} in place of the diagram: save or deploy it to keep it.`);
  } catch (error) {
    say(`${file.name} could not be opened: ${error.message}`);
  }
});

call("/model").then(({ ok, json }) => (ok ? open(json) : say(`The model could not be opened: ${json.error}`)))
  .catch((error) => say(`The model could not be opened: ${error.message}`));
