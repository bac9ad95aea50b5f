"""Reads BPMN and DMN files into process specs: hardened XML, schema validation, Camunda assignment.

SpiffWorkflow's CamundaParser reads forms, properties, multi-instance and DMN but ignores the
assignment attributes; :class:`AuditParser` also reads ``camunda:candidateGroups``,
``candidateUsers``, ``assignee``, ``dueDate`` and ``priority`` into the task spec's ``extensions``
under ``camunda:``-prefixed keys, so they survive serialization with the spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnValidator
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .errors import ModelProblem, ModelValidationError
from .safe_xml import parse_xml
from .specs import LocalParallelMultiInstanceTask, LocalSequentialMultiInstanceTask

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


def parse_models(files: list[tuple[str, bytes]]) -> ParsedModels:
    """Parse BPMN and DMN files, safely, into the specs of every executable process they define.

    Raises UnsafeXMLError / MalformedXMLError for a hostile or broken document, and
    ModelValidationError naming the element for anything the schema or SpiffWorkflow rejects.
    """
    parser = AuditParser(validator=BpmnValidator())
    bpmn_files = []
    for file_name, content in files:
        root = parse_xml(content, file_name).getroot()
        try:
            if is_dmn(root):
                parser.add_dmn_xml(root, file_name)
            else:
                parser.add_bpmn_xml(root, file_name)
                bpmn_files.append(file_name)
        except ValidationException as error:
            raise ModelValidationError([_problem_from(error, file_name)]) from error
    if not bpmn_files:
        raise ModelValidationError([ModelProblem("a deployment needs at least one BPMN file")])
    executable = [pid for pid, pp in parser.process_parsers.items() if pp.node.get("isExecutable") == "true"]
    if not executable:
        raise ModelValidationError([ModelProblem("no process is marked executable (isExecutable=\"true\")",
                                                 file_name=bpmn_files[0])])
    processes = {}
    for process_id in executable:
        try:
            processes[process_id] = (parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
        except ValidationException as error:
            raise ModelValidationError([_problem_from(error, bpmn_files[0])]) from error
        except SpiffWorkflowException as error:
            raise ModelValidationError([ModelProblem(str(error), element_id=process_id)]) from error
    return ParsedModels(processes)
