"""Deploy-time checks on the XML of a deployment: what the app cannot run is refused before SpiffWorkflow reads it.

SpiffWorkflow parses element types this app cannot run (a plain task waits for ever, a service task has no
implementation), answers some mistakes with a Python traceback (a business rule task with no decision) and
accepts values that hang or overflow once an audit starts (a timer 99,999,999 years away). Checking the
structure on the lxml tree first gives one plain message per problem, all at once, naming the element;
:mod:`.model_values` checks the values (timers, loops, priorities, forms, scripts) the same way.

Everything supported is listed here, in explicit tables: a flow node or event trigger not listed is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from .errors import ModelProblem
from .limits import DEFAULT_LIMITS, EngineLimits

#: The flow nodes the app runs.
SUPPORTED_FLOW_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "userTask", "scriptTask", "businessRuleTask", "subProcess", "callActivity",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway",
})

#: Flow nodes SpiffWorkflow would parse but this app cannot run, and what to use instead.
REFUSED_FLOW_NODES: dict[str, str] = {
    "task": "a plain task (with no type) does nothing and is given to nobody, so the audit would stop here for "
            "good: make it a user task so that someone does it, or a script task for an automatic step",
    "manualTask": "a manual task is given to nobody, so the audit would stop here for good: make it a user task "
                  "so that someone does it and confirms it in their inbox, or a script task for an automatic step",
    "serviceTask": "service tasks are not supported (the app calls no other systems): use a script task for an "
                   "automatic step, or a user task",
    "sendTask": "send tasks are not supported: use an intermediate throw event with a signal or a message",
    "receiveTask": "receive tasks are not supported: use an intermediate catch event with a signal or message "
                   "that this deployment throws, or a user task",
    "complexGateway": "complex gateways are not supported: use an exclusive, inclusive or parallel gateway",
    "eventBasedGateway": "event-based gateways are not supported (the timer sweep never sees their timers): put "
                         "boundary timer events on a user task instead",
    "transaction": "transaction subprocesses are not supported: use an embedded subprocess",
    "adHocSubProcess": "ad-hoc subprocesses are not supported: use an embedded subprocess whose tasks run in "
                       "parallel",
    **dict.fromkeys(("callChoreography", "choreographyTask", "subChoreography"),
                    "choreographies are not supported: model the steps as user tasks or script tasks"),
}

#: Parts of a process that are not steps: pictures and notes (the DI sits outside the process), lanes, data.
ARTIFACTS = frozenset({"textAnnotation", "association", "group", "dataObject", "dataObjectReference",
                       "dataStoreReference", "laneSet"})
#: The other children a process or subprocess element may have: its own settings and connections.
ELEMENT_PARTS = frozenset({
    "documentation", "extensionElements", "sequenceFlow", "auditing", "monitoring", "property", "resourceRole",
    "performer", "humanPerformer", "potentialOwner", "correlationSubscription", "supports", "supportedInterfaceRef",
    "ioSpecification", "ioBinding", "incoming", "outgoing", "dataInputAssociation", "dataOutputAssociation",
    "standardLoopCharacteristics", "multiInstanceLoopCharacteristics",
})
#: Elements whose children are flow nodes.
CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess")
#: Flow nodes that boundary events may be attached to.
ACTIVITIES = frozenset({"userTask", "scriptTask", "businessRuleTask", "subProcess", "callActivity", "task",
                        "manualTask", "serviceTask", "sendTask", "receiveTask", "transaction", "adHocSubProcess"})

#: The triggers each kind of event may have here ("none": no event definition).
EVENT_TRIGGERS: dict[str, frozenset[str]] = {
    "startEvent": frozenset({"none", "timer", "message", "signal"}),
    "endEvent": frozenset({"none", "terminate", "error", "escalation", "message"}),
    "intermediateCatchEvent": frozenset({"timer", "message", "signal"}),
    "intermediateThrowEvent": frozenset({"none", "message", "signal", "escalation"}),
    "boundaryEvent": frozenset({"timer", "message", "signal", "error", "escalation"}),
}
EVENT_LABELS = {"startEvent": "start event", "endEvent": "end event", "intermediateCatchEvent": "catch event",
                "intermediateThrowEvent": "throw event", "boundaryEvent": "boundary event"}
#: What to do instead, for a trigger this kind of event may not have: (event, trigger) first, then trigger.
TRIGGER_ADVICE: dict[tuple[str, str] | str, str] = {
    ("endEvent", "signal"): "a signal end event does not send its signal in this engine: put an intermediate "
                            "throw event with the signal just before a plain end event",
    ("intermediateCatchEvent", "none"): "this catch event waits for nothing, so the audit would stop here for "
                                        "good: give it a timer, a message or a signal, or remove it",
    ("boundaryEvent", "none"): "this boundary event has no trigger: give it a timer, message, signal, error or "
                               "escalation",
    "conditional": "conditional events are not supported: use an exclusive gateway with a condition, or a timer",
    "link": "link events are not supported: draw the sequence flow instead",
    "compensate": "compensation events are not supported",
    "cancel": "cancel events belong to transactions, which are not supported: use an error end event and an "
              "error boundary event",
}

#: Message and signal names the app itself sends into a running audit (name -> what sends it). A catch event
#: for any other name needs a throw event in the same deployment. Empty until a feature sends one (such as
#: "raise an immediate concern at any time"); add the name here, and to the process owner's guide, with it.
APP_TRIGGERED_EVENTS: dict[str, str] = {}

#: Task spec names SpiffWorkflow gives its own steps (bpmn_process_spec.py, ProcessParser, WorkflowSpec).
RESERVED_IDS: dict[str, str] = {
    "Start": "the start of every process",
    "End": "the end of every process: a task with this id would complete the audit at once",
    "Root": "the root of every audit's task tree",
    "StartEventSplit": "the step before the start events of a process with several",
    "StartEventJoin": "the step after the start events of a process with several",
}
#: Endings of the names SpiffWorkflow makes from an id: '<process id>.EndJoin', '<task id>.BoundaryEventSplit'.
RESERVED_SUFFIXES: dict[str, str] = {
    ".EndJoin": "the step that waits for a process's branches to end",
    ".BoundaryEventSplit": "the step before a task's boundary events",
    ".BoundaryEventJoin": "the step after a task's boundary events",
}


@dataclass(frozen=True)
class ModelDocument:
    """One file of a deployment, parsed safely: its name, its root element, and whether it is DMN (else BPMN)."""

    file_name: str
    root: etree._Element
    is_dmn: bool


@dataclass
class DeploymentSurvey:
    """What a check of one file needs to know about the whole deployment."""

    documents: list[ModelDocument]
    limits: EngineLimits
    #: the decision SpiffWorkflow reads from each DMN file (the first) -> its file; and the other decisions
    decisions: dict[str, str]
    unread_decisions: dict[str, str]
    #: process id -> (its file, its element)
    processes: dict[str, tuple[ModelDocument, etree._Element]]
    #: signal id -> name, across files (SpiffWorkflow resolves signals deployment-wide, messages per file)
    signals: dict[str, str | None]
    #: (message or signal, name) that some throw event of the deployment sends
    thrown: set[tuple[str, str]]


Check = Callable[[ModelDocument, DeploymentSurvey], Iterator[ModelProblem]]


def bpmn(name: str) -> str:
    """The Clark-notation tag of a BPMN element."""
    return f"{{{BPMN_MODEL_NS}}}{name}"


def camunda(name: str) -> str:
    """The Clark-notation name of a Camunda attribute or element."""
    return f"{{{CAMUNDA_MODEL_NS}}}{name}"


def local(node: etree._Element) -> str | None:
    """The element's BPMN name (``userTask``), or None for an element of another namespace."""
    name = etree.QName(node)
    return name.localname if name.namespace == BPMN_MODEL_NS else None


def problem(doc: ModelDocument, node: etree._Element, message: str) -> ModelProblem:
    """A problem at ``node``, named by its id and name, with its file and line."""
    return ModelProblem(message, node.get("id"), node.get("name"), doc.file_name, node.sourceline)


def survey(documents: list[ModelDocument], limits: EngineLimits = DEFAULT_LIMITS) -> DeploymentSurvey:
    """What the checks need to know about the whole deployment."""
    deployment = DeploymentSurvey(documents, limits, {}, {}, {}, {}, set())
    for doc in documents:
        if doc.is_dmn:
            decisions = _decisions(doc)
            deployment.decisions.update({d.get("id"): doc.file_name for d in decisions[:1]})
            deployment.unread_decisions.update({d.get("id"): doc.file_name for d in decisions[1:]})
            continue
        deployment.processes.update({p.get("id"): (doc, p) for p in doc.root.iter(bpmn("process"))})
        deployment.signals.update({s.get("id"): s.get("name") for s in doc.root.iter(bpmn("signal"))})
    for doc in documents:
        if not doc.is_dmn:
            deployment.thrown.update(_thrown(doc, deployment.signals))
    return deployment


def check_structure(deployment: DeploymentSurvey) -> list[ModelProblem]:
    """Every structural problem of the deployment's files."""
    problems: list[ModelProblem] = []
    for doc in deployment.documents:
        checks: tuple[Check, ...] = (_dmn_file,) if doc.is_dmn else STRUCTURE_CHECKS
        for check in checks:
            problems.extend(check(doc, deployment))
    problems.extend(_call_cycles(deployment))
    return problems


# -- element types ---------------------------------------------------------------------------------------------
def flow_nodes(container: etree._Element) -> Iterator[etree._Element]:
    """The steps directly inside a process or subprocess (not its artifacts, flows or settings)."""
    for child in container.iterchildren(etree.Element):
        tag = local(child)
        if tag and tag not in ARTIFACTS and tag not in ELEMENT_PARTS:
            yield child


def containers(doc: ModelDocument) -> Iterator[etree._Element]:
    """Every process and subprocess of the file."""
    yield from doc.root.iter(*(bpmn(tag) for tag in CONTAINERS))


def _element_types(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for container in containers(doc):
        for node in flow_nodes(container):
            tag = local(node)
            if tag == "subProcess" and node.get("triggeredByEvent") == "true":
                yield problem(doc, node, "event subprocesses are not supported (the engine would start this one "
                                         "with the audit): put a boundary event on a task or subprocess instead")
            elif tag not in SUPPORTED_FLOW_NODES:
                yield problem(doc, node, REFUSED_FLOW_NODES.get(tag) or
                              f"'{tag}' elements are not supported: use user tasks, script tasks, business rule "
                              "tasks, subprocesses, call activities, gateways and events")


# -- events ----------------------------------------------------------------------------------------------------
def _triggers(event: etree._Element) -> list[etree._Element]:
    return [child for child in event.iterchildren(etree.Element)
            if (local(child) or "").endswith("EventDefinition")]


def _kind(definition: etree._Element) -> str:
    return (local(definition) or "").removesuffix("EventDefinition")


def _messages(doc: ModelDocument) -> dict[str, str | None]:
    return {message.get("id"): message.get("name") for message in doc.root.iter(bpmn("message"))}


def _trigger_name(definition: etree._Element, kind: str, messages: dict[str, str | None],
                  signals: dict[str, str | None]) -> tuple[str | None, str | None]:
    """(the name throw and catch events match on, or None; what is wrong when there is no usable name)."""
    attribute, defined, scope = (("messageRef", messages, "this file") if kind == "message"
                                 else ("signalRef", signals, "this deployment"))
    ref = definition.get(attribute)
    if not ref:
        return None, (f"this event names no {kind}: choose or create one in the Modeler ({kind.title()} -> "
                      f"Global {kind} reference)")
    if ref not in defined:
        return None, f"the {kind} '{ref}' is not defined in {scope}"
    if not defined[ref]:
        return None, (f"the {kind} '{ref}' has no name: give it one (throw and catch events are matched by the "
                      f"{kind}'s name)")
    return defined[ref], None


def _thrown(doc: ModelDocument, signals: dict[str, str | None]) -> Iterator[tuple[str, str]]:
    messages = _messages(doc)
    for event in doc.root.iter(bpmn("intermediateThrowEvent"), bpmn("endEvent")):
        for definition in _triggers(event):
            kind = _kind(definition)
            if kind in EVENT_TRIGGERS[local(event)] and kind in ("message", "signal"):
                name, _ = _trigger_name(definition, kind, messages, signals)
                if name:
                    yield kind, name


def _events(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    messages = _messages(doc)
    for container in containers(doc):
        for event in flow_nodes(container):
            tag = local(event)
            if tag not in EVENT_TRIGGERS:
                continue
            message = _trigger_problem(event, tag, messages, deployment)
            if message:
                yield problem(doc, event, message)


def _trigger_problem(event: etree._Element, tag: str, messages: dict[str, str | None],
                     deployment: DeploymentSurvey) -> str | None:
    """What is wrong with the event's trigger, or None."""
    if event.find(bpmn("eventDefinitionRef")) is not None:
        return "event definitions by reference (eventDefinitionRef) are not supported: define the trigger on the event"
    definitions = _triggers(event)
    if len(definitions) > 1:
        return "an event with several triggers (a 'multiple' event) is not supported: use one event per trigger"
    kind = _kind(definitions[0]) if definitions else "none"
    if kind not in EVENT_TRIGGERS[tag]:
        allowed = ", ".join(sorted(EVENT_TRIGGERS[tag] - {"none"}))
        return (TRIGGER_ADVICE.get((tag, kind)) or TRIGGER_ADVICE.get(kind) or
                f"a {kind} {EVENT_LABELS[tag]} is not supported: a {EVENT_LABELS[tag]} here may have {allowed}")
    if kind not in ("message", "signal"):
        return None
    name, wrong = _trigger_name(definitions[0], kind, messages, deployment.signals)
    if wrong:
        return wrong
    if tag in ("intermediateThrowEvent", "endEvent"):
        if kind == "message" and not (definitions[0].get(camunda("expression")) or "").strip():
            return ("a message throw event needs camunda:expression, the value it sends (Implementation: "
                    "Expression, e.g. ${agency}); or throw a signal, which needs none")
        return None
    if (kind, name) not in deployment.thrown and name not in APP_TRIGGERED_EVENTS:
        return (f"nothing can trigger this event: no throw event in this deployment sends the {kind} '{name}' and "
                "the app does not send it itself, so it would wait for ever; throw it from an intermediate throw "
                "event, or use a timer or a user task")
    return None


# -- ids and references ----------------------------------------------------------------------------------------
def _reserved_ids(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for process in doc.root.iter(bpmn("process")):
        for node in process.iter(etree.Element):
            element_id = node.get("id")
            if not element_id or not local(node):
                continue
            why = RESERVED_IDS.get(element_id) or next(
                (why for suffix, why in RESERVED_SUFFIXES.items() if element_id.endswith(suffix)), None)
            if why:
                yield problem(doc, node, f"the id '{element_id}' is one the engine uses for its own steps ({why}): "
                                         "give this element another id")


def _flows(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    everywhere = {node.get("id") for node in doc.root.iter(etree.Element) if node.get("id")}
    for container in containers(doc):
        nodes = {node.get("id"): local(node) for node in flow_nodes(container)}
        where = "process" if local(container) == "process" else "subprocess"
        for flow in container.iterchildren(bpmn("sequenceFlow")):
            for attribute, verb in (("sourceRef", "comes from"), ("targetRef", "leads to")):
                ref = flow.get(attribute)
                if ref not in nodes:
                    elsewhere = " (it is in another process or subprocess)" if ref in everywhere else ""
                    yield problem(doc, flow, f"the sequence flow {verb} '{ref}', which is not a task, event or "
                                             f"gateway of this {where}{elsewhere}: reconnect it in the Modeler")
        for event in container.iterchildren(bpmn("boundaryEvent")):
            if nodes.get(event.get("attachedToRef")) not in ACTIVITIES:
                yield problem(doc, event, f"this boundary event is attached to '{event.get('attachedToRef')}', "
                                          f"which is not a task or subprocess of this {where}: attach it to one")


def _business_rules(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for task in doc.root.iter(bpmn("businessRuleTask")):
        ref = (task.get(camunda("decisionRef")) or "").strip()
        if not ref:
            yield problem(doc, task, "this business rule task names no decision: set camunda:decisionRef "
                                     "(Implementation: DMN, Decision reference) to the id of a decision in a .dmn "
                                     "file deployed with it")
        elif ref in deployment.unread_decisions:
            yield problem(doc, task, f"camunda:decisionRef '{ref}' is not the first decision of "
                                     f"{deployment.unread_decisions[ref]}, and the engine reads only the first "
                                     "decision of each DMN file: put it in a file of its own")
        elif ref not in deployment.decisions:
            known = ", ".join(sorted(deployment.decisions))
            hint = (f"the decisions are {known}" if known else
                    "no DMN file is deployed with this model: deploy the .bpmn and .dmn files together")
            yield problem(doc, task, f"camunda:decisionRef '{ref}' names no decision of this deployment; {hint}")


def _call_activities(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    for call in doc.root.iter(bpmn("callActivity")):
        called = (call.get("calledElement") or "").strip()
        if not called:
            yield problem(doc, call, "this call activity names no process: set Called element to the id of a "
                                     "process deployed with it")
        elif called not in deployment.processes:
            yield problem(doc, call, f"this call activity calls process '{called}', which is not in this "
                                     "deployment: deploy its .bpmn file together with this one")


def _calls(process: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    for call in process.iter(bpmn("callActivity")):
        yield call, (call.get("calledElement") or "").strip()


def _call_cycles(deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    """Call activities that can reach their own process again: each audit would start copies of itself."""
    graph = {pid: [called for _, called in _calls(node) if called in deployment.processes]
             for pid, (_, node) in deployment.processes.items()}
    for pid, (doc, process) in deployment.processes.items():
        for call, called in _calls(process):
            path = _path(graph, called, pid)
            if not path:
                continue
            calls = (f"calls its own process '{pid}'" if called == pid else
                     f"calls '{called}', which leads back to '{pid}' ({' -> '.join([pid, *path])})")
            yield problem(doc, call, f"this call activity {calls}: each audit would start copies of itself "
                                     "without end; remove the call or call another process")


def _path(graph: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """The processes from ``start`` to ``goal`` through calls (breadth first), or None if there is no way."""
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        if path[-1] == goal:
            return path
        for called in graph.get(path[-1], []):
            if called not in seen:
                seen.add(called)
                paths.append([*path, called])
    return None


# -- DMN ------------------------------------------------------------------------------------------------------
def _decisions(doc: ModelDocument) -> list[etree._Element]:
    namespace = etree.QName(doc.root).namespace
    return list(doc.root.iterchildren(f"{{{namespace}}}decision"))


def _dmn_file(doc: ModelDocument, deployment: DeploymentSurvey) -> Iterator[ModelProblem]:
    decisions = _decisions(doc)
    if not decisions:
        yield ModelProblem("this DMN file holds no decision: add a decision table", file_name=doc.file_name)
        return
    namespace = etree.QName(doc.root).namespace
    tables = len(decisions[0].findall(f"{{{namespace}}}decisionTable"))
    if tables != 1:
        yield problem(doc, decisions[0], f"the decision has {tables} decision tables; the engine runs decisions "
                                         "with exactly one decision table")


STRUCTURE_CHECKS: tuple[Check, ...] = (_element_types, _events, _reserved_ids, _flows, _business_rules,
                                       _call_activities)
