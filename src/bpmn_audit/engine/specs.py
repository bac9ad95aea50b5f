"""Task spec classes of our own: multi-instance activities whose instances keep their data local.

In Camunda 7 the element variable and whatever a form sets inside one instance of a multi-instance
activity belong to that instance. SpiffWorkflow merges every instance's data back into the parent,
so the last agency's answers (and ``agency`` itself) would leak into the main path and make the
next multi-instance activity fail ("input item agency already exists"). Here nothing is merged;
the app records each agency's answers from its own task rows.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.task import Task


class _InstanceLocalData(MultiInstanceTask):
    """Sits under the parallel/sequential mixins (which decide when the loop is done) in the MRO."""

    def merge_child(self, workflow: object, child: Task) -> None:
        """Mark the instance merged without copying its data into the parent."""
        child.parent.internal_data["merged"].append(str(child.id))


class LocalParallelMultiInstanceTask(ParallelMultiInstanceTask, _InstanceLocalData, BpmnSpecMixin):
    """Parallel multi-instance over ``camunda:collection`` with instance-local data."""


class LocalSequentialMultiInstanceTask(SequentialMultiInstanceTask, _InstanceLocalData, BpmnSpecMixin):
    """Sequential multi-instance over ``camunda:collection`` with instance-local data."""
