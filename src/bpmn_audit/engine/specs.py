"""Task spec classes of our own: multi-instance activities whose instances keep their data local.

In Camunda 7 the element variable and whatever a form sets inside one instance of a multi-instance
activity belong to that instance. SpiffWorkflow merges every instance's data back into the parent,
so the last agency's answers (and ``agency`` itself) would leak into the main path and make the
next multi-instance activity fail ("input item agency already exists"). Here nothing is merged;
the app records each agency's answers from its own task rows.

The collection is checked before any instance is made: a list (or dict) of at most
``EngineLimits.max_instances`` items, so a form value of 10,000 agencies cannot make 10,000 tasks.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.task import Task

from .budget import current_limits
from .elements import element_of
from .errors import ScriptRuntimeError


class _InstanceLocalData(MultiInstanceTask):
    """Sits under the parallel/sequential mixins (which decide when the loop is done) in the MRO."""

    def _update_hook(self, my_task: Task) -> object:
        """Check the collection once the task has its data, before the subclass makes the instances."""
        result = super()._update_hook(my_task)
        if self.data_input is not None and self.data_input.exists(my_task):
            collection = self.data_input.get(my_task)
            limit = current_limits().max_instances
            problem = None
            if not isinstance(collection, list | dict):
                problem = f"is {type(collection).__name__}, not a list"
            elif len(collection) > limit:
                problem = f"has {len(collection):,} items; one activity may have at most {limit} instances"
            if problem:
                bpmn_id, name, label = element_of(self)
                raise ScriptRuntimeError(f"the collection '{self.data_input.bpmn_id}' of {label} {problem}",
                                         bpmn_id, name)
        return result

    def merge_child(self, workflow: object, child: Task) -> None:
        """Mark the instance merged without copying its data into the parent."""
        child.parent.internal_data["merged"].append(str(child.id))


class LocalParallelMultiInstanceTask(ParallelMultiInstanceTask, _InstanceLocalData, BpmnSpecMixin):
    """Parallel multi-instance over ``camunda:collection`` with instance-local data."""


class LocalSequentialMultiInstanceTask(SequentialMultiInstanceTask, _InstanceLocalData, BpmnSpecMixin):
    """Sequential multi-instance over ``camunda:collection`` with instance-local data."""
