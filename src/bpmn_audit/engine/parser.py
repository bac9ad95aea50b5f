"""Reads BPMN and DMN files into process specs: hardened XML, schema validation, Camunda assignment.

SpiffWorkflow's CamundaParser reads forms, properties, multi-instance and DMN but ignores the
assignment attributes; :class:`AuditParser` also reads ``camunda:candidateGroups``,
``candidateUsers``, ``assignee``, ``dueDate`` and ``priority`` into the task spec's ``extensions``
under ``camunda:``-prefixed keys, so they survive serialization with the spec.

Before SpiffWorkflow sees a model, the schemas and the app's own checks on the XML (``model_checks.py``,
``model_values.py``) refuse what the app cannot run; whatever SpiffWorkflow's parser still raises is
turned into a :class:`ModelProblem`, never passed on as a Python exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .errors import ModelProblem, ModelValidationError
from .limits import DEFAULT_LIMITS, EngineLimits
from .model_checks import ModelDocument, bpmn, check_structure, survey
from .model_values import check_values
from .safe_xml import parse_xml
from .specs import LocalParallelMultiInstanceTask, LocalSequentialMultiInstanceTask

log = logging.getLogger(__name__)

MI_PREFIX = "bpmn:multiInstanceLoopCharacteristics"
ASSIGNMENT_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "dueDate", "priority")
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/", "http://www.omg.org/spec/DMN/")


def _strip_expression(text: str) -> str:
    text = text.strip()
    if text[:2] in ("${", "#{") and text.endswith("}"):
        return text[2:-1].strip()
    return text


class Camunda7MultiInstance:
    """Camunda 7's multi-instance semantics: ``camunda:collection`` is read, never written.

    SpiffWorkflow's Camunda parser uses the collection as input *and* output; for a multi-instance
    subprocess that appends every instance's element to the collection, so a later multi-instance
    over the same collection runs twice per agency. Here the collection is input only, each instance
    gets ``camunda:elementVariable``, and instance data stays local (see specs.py).
    """

    def _add_multiinstance_task(self, loop_characteristics: etree._Element) -> None:
        collection = self.attribute("collection", "camunda", loop_characteristics)
        if collection is None:
            return super()._add_multiinstance_task(loop_characteristics)
        element_var = self.attribute("elementVariable", "camunda", loop_characteristics)
        condition = self.xpath(f"./{MI_PREFIX}/bpmn:completionCondition")
        original = self.spec.task_specs.pop(self.task.name)
        params = {
            "task_spec": "",
            "data_input": TaskDataReference(_strip_expression(collection)),
            "input_item": TaskDataReference(element_var) if element_var else None,
            "condition": condition[0].text if len(condition) > 0 else None,
        }
        mi_class = (LocalSequentialMultiInstanceTask if loop_characteristics.get("isSequential") == "true"
                    else LocalParallelMultiInstanceTask)
        self.task = mi_class(self.spec, original.name, **params)
        self._copy_task_attrs(original, loop_characteristics)


class CamundaExtensions:
    """``camunda:properties`` of the element itself, plus its assignment attributes.

    SpiffWorkflow's Camunda parser looks for properties anywhere below the element, so an embedded
    subprocess collects its children's properties too; and its event parsers read none at all.
    """

    def parse_extensions(self, node: etree._Element | None = None) -> dict:
        """This element's own properties and ``camunda:<attribute>`` for each assignment attribute."""
        extensions = {}
        for prop in self.xpath("./bpmn:extensionElements/camunda:properties/camunda:property"):
            extensions[prop.get("name")] = prop.get("value")
        for attribute in ASSIGNMENT_ATTRIBUTES:
            value = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}{attribute}")
            if value is not None and value.strip():
                extensions[f"camunda:{attribute}"] = value.strip()
        return extensions


def _audit_parser(tag: str, parser_class: type) -> type:
    bases = (CamundaExtensions, Camunda7MultiInstance, parser_class) if tag in MI_TAGS else \
        (CamundaExtensions, parser_class)
    return type(f"Audit{parser_class.__name__}", bases, {"__doc__": f"{parser_class.__doc__ or tag} (bpmn-audit)"})


MI_TAGS = {full_tag("userTask"), full_tag("subProcess")}


class AuditParser(CamundaParser):
    """CamundaParser with element-own extensions, assignment attributes and Camunda 7 multi-instance."""

    OVERRIDE_PARSER_CLASSES = {
        tag: (_audit_parser(tag, parser_class), spec_class)
        for tag, (parser_class, spec_class) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()
    }


@dataclass
class ParsedModels:
    """The executable processes of one deployment: each process id with its spec and subprocess specs."""

    processes: dict[str, tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]]


def is_dmn(root: etree._Element) -> bool:
    """True if the document's root element is a DMN ``definitions``."""
    return any(str(root.tag).startswith("{" + ns) for ns in DMN_NAMESPACES)


def _problem_from(error: ValidationException, file_name: str) -> ModelProblem:
    message = str(error.args[0]) if error.args else str(error)
    return ModelProblem(message, element_id=getattr(error, "id", None) or None,
                        element_name=getattr(error, "name", None) or None,
                        file_name=getattr(error, "file_name", None) or file_name,
                        line=getattr(error, "line_number", None) or None)


def _unreadable(error: BaseException) -> str:
    """A plain message for an exception SpiffWorkflow's parser should not have raised (never its class name)."""
    if isinstance(error, RecursionError):
        return ("the engine could not read the process from this element on: too many steps follow one another; "
                "put some of them in an embedded subprocess")
    return ("the engine could not read this element: its type or settings are not ones this app supports; "
            "compare it with 'What the engine supports' in the process owner's guide")


def _engine_problem(error: Exception, file_name: str, element_id: str | None = None) -> ModelProblem:
    """What SpiffWorkflow raised while reading a model, as a problem in plain English naming where it was."""
    if isinstance(error, ValidationException):
        found = _problem_from(error, file_name)
        cause = error.__context__  # TaskParser wraps any other exception as ValidationException(repr(cause))
        if cause is not None and not isinstance(cause, SpiffWorkflowException) and found.message == repr(cause):
            log.warning("SpiffWorkflow failed to read %s", file_name, exc_info=cause)
            found.message = _unreadable(cause)
        return found
    if isinstance(error, SpiffWorkflowException):
        return ModelProblem(str(error), element_id=element_id, file_name=file_name)
    log.warning("SpiffWorkflow failed to read %s", file_name, exc_info=error)
    return ModelProblem(_unreadable(error), element_id=element_id, file_name=file_name)


def _raise_if(problems: list[ModelProblem]) -> None:
    if problems:
        raise ModelValidationError(problems)


def read_documents(files: list[tuple[str, bytes]]) -> list[ModelDocument]:
    """Each file parsed safely; UnsafeXMLError / MalformedXMLError for a hostile or broken one."""
    documents = []
    for file_name, content in files:
        root = parse_xml(content, file_name).getroot()
        documents.append(ModelDocument(file_name, root, is_dmn(root)))
    return documents


def _schema_problems(documents: list[ModelDocument]) -> list[ModelProblem]:
    """What the BPMN and DMN schemas say about each file (SpiffWorkflow's own validators)."""
    bpmn_validator = BpmnValidator()
    problems = []
    for doc in documents:
        if doc.is_dmn:
            schema = DMN_SCHEMAS.get(etree.QName(doc.root).namespace)
            validator = BpmnValidator(schema) if schema else None
        else:
            validator = bpmn_validator
        try:
            if validator is not None:
                validator.validate(doc.root, doc.file_name)
        except ValidationException as error:
            problems.append(_problem_from(error, doc.file_name))
    return problems


def parse_models(files: list[tuple[str, bytes]], limits: EngineLimits = DEFAULT_LIMITS) -> ParsedModels:
    """Parse BPMN and DMN files, safely, into the specs of every executable process they define.

    Raises UnsafeXMLError / MalformedXMLError for a hostile or broken document, and ModelValidationError
    naming each element for anything the schema, the app's own checks (model_checks.py, model_values.py;
    every problem at once) or SpiffWorkflow reject. Nothing SpiffWorkflow raises escapes as anything else.
    """
    documents = read_documents(files)
    bpmn_files = [doc.file_name for doc in documents if not doc.is_dmn]
    if not bpmn_files:
        raise ModelValidationError([ModelProblem("a deployment needs at least one BPMN file")])
    _raise_if(_schema_problems(documents))
    if not any(process.get("isExecutable") == "true" for doc in documents if not doc.is_dmn
               for process in doc.root.iter(bpmn("process"))):
        raise ModelValidationError([ModelProblem("no process is marked executable (isExecutable=\"true\")",
                                                 file_name=bpmn_files[0])])
    deployment = survey(documents, limits)
    _raise_if(check_structure(deployment) + check_values(deployment))
    return ParsedModels(_engine_specs(documents))


def _engine_specs(documents: list[ModelDocument]) -> dict[str, tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]]:
    """SpiffWorkflow's specs of every executable process, once the app's own checks have passed.

    Anything SpiffWorkflow raises becomes a ModelValidationError: its parser raises KeyError,
    RecursionError and the like on models it does not expect, and those must not reach the user as such.
    """
    parser = AuditParser()  # no validator: parse_models has checked the schemas
    problems = []
    for doc in documents:
        try:
            (parser.add_dmn_xml if doc.is_dmn else parser.add_bpmn_xml)(doc.root, doc.file_name)
        except Exception as error:  # the backstop: see _engine_problem
            problems.append(_engine_problem(error, doc.file_name))
    _raise_if(problems)
    processes = {}
    executable = {pid: reader.filename for pid, reader in parser.process_parsers.items()
                  if reader.node.get("isExecutable") == "true"}
    for process_id, file_name in executable.items():  # get_spec adds parsers for subprocesses: iterate a copy
        try:
            processes[process_id] = (parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
        except Exception as error:  # the backstop: see _engine_problem
            problems.append(_engine_problem(error, file_name, process_id))
    _raise_if(problems)
    return processes
