"""The one place that turns workflows into bytes and back.

The process spec is serialized once per deployment (:func:`dump_spec`, stored by its hash); each
save of a running instance stores only its state (:func:`dump_state`), gzip-compressed JSON without
the spec. Serialized state is tied to the pinned SpiffWorkflow and serializer versions, which the
persistence layer stores beside it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache
from importlib.metadata import version

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG

from .script_engine import script_engine
from .specs import LocalParallelMultiInstanceTask, LocalSequentialMultiInstanceTask

# The parser builds our own multi-instance specs for camunda:collection (see specs.py).
_CONFIG = {**DEFAULT_CONFIG, LocalParallelMultiInstanceTask: MultiInstanceTaskConverter,
           LocalSequentialMultiInstanceTask: MultiInstanceTaskConverter}
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))
SERIALIZER_VERSION = SERIALIZER.VERSION
LIBRARY_VERSION = version("SpiffWorkflow")
_SPEC_KEYS = ("spec", "subprocess_specs")


def dump_spec(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> tuple[str, bytes]:
    """The spec and its subprocess specs as (sha256 hex digest, gzip JSON)."""
    registry = SERIALIZER.registry
    document = {
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(sub) for name, sub in subprocess_specs.items()},
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), gzip.compress(text.encode(), mtime=0)


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """The workflow's state, without its spec, as gzip JSON."""
    registry = SERIALIZER.registry
    registry._encoder_mode = True  # what serialize_json does: task deltas hold raw datetimes
    try:
        document = SERIALIZER.to_dict(workflow)
        for key in _SPEC_KEYS:
            document.pop(key)
        # SpiffWorkflow restores subprocesses in another order than it made them: sort, so that a
        # load and a save give the same bytes
        document["subprocesses"] = dict(sorted(document.get("subprocesses", {}).items()))
        document[SERIALIZER.VERSION_KEY] = SERIALIZER_VERSION
        text = json.dumps(document, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False
    return gzip.compress(text.encode(), compresslevel=6, mtime=0)


@lru_cache(maxsize=32)
def _specs(spec_blob: bytes) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """A deployment's spec and subprocess specs, restored once per process: every start and load of
    every audit on it shares them (SpiffWorkflow's specs hold no state of any one workflow)."""
    document = json.loads(gzip.decompress(spec_blob))
    registry = SERIALIZER.registry
    return (registry.restore(document["spec"]),
            {name: registry.restore(sub) for name, sub in document["subprocess_specs"].items()})


def spec_and_subprocesses(spec_blob: bytes) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """A deployment's spec and a copy of its subprocess specs (shared, read-only spec objects)."""
    spec, subprocess_specs = _specs(spec_blob)
    return spec, dict(subprocess_specs)


def load_workflow(spec_blob: bytes, state_blob: bytes) -> BpmnWorkflow:
    """Rebuild a workflow from its deployment's spec and its saved state, with the sandbox attached."""
    document = json.loads(gzip.decompress(state_blob))
    if document.get(SERIALIZER.VERSION_KEY) != SERIALIZER_VERSION:  # an older state: migrate it whole
        document.update(json.loads(gzip.decompress(spec_blob)))
        SERIALIZER.migrate(document)
    else:  # the serializer passes objects that are not dicts through, so the cached specs go straight in
        spec, subprocess_specs = _specs(spec_blob)
        document.update(spec=spec, subprocess_specs=dict(subprocess_specs))
    workflow = SERIALIZER.from_dict(document)
    workflow.script_engine = script_engine()
    return workflow


def new_workflow(spec_blob: bytes) -> BpmnWorkflow:
    """A fresh workflow for a deployment's spec, with the sandbox attached."""
    spec, subprocess_specs = _specs(spec_blob)
    return BpmnWorkflow(spec, dict(subprocess_specs), script_engine=script_engine())
