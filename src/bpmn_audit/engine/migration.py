"""Moving a running audit to a newer version of its process (SpiffWorkflow's ``diff_workflow`` and
``migrate_workflow``), and saying beforehand what that would do.

Each task of the audit is aligned with the element of the same id in the new version. The work waiting now
(ready tasks and waiting timers) is reset against the new version and predicted afresh: a ready task keeps
its id (so its claim and its draft stay with it), a timer reading a deadline from process data keeps its
time, a duration timer restarts. An audit whose waiting work has no element in the new version would be
stranded: that is refused, naming the work. Process data is not touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from .budget import limits_in_force
from .elements import element_of
from .errors import EngineError
from .serializer import SERIALIZER, spec_and_subprocesses
from .views import TimerView, UserTaskView
from .workflow import RunningAudit

#: the work that is moved: what is waiting for a person or the clock now
WAITING_WORK = TaskState.READY | TaskState.WAITING | TaskState.STARTED


class MigrationRefused(EngineError):
    """The audit cannot move to that version; the message says which of its work would be stranded."""


@dataclass
class MigrationOutcome:
    """What a migration does to an audit's open tasks and waiting timers."""

    carried: list[UserTaskView]  # open before and after, with the same id
    new: list[UserTaskView]  # open only after
    cancelled: list[UserTaskView]  # open only before
    restarted: list[tuple[TimerView, TimerView]]  # waiting before and after, at another time
    timers_added: list[TimerView]
    timers_removed: list[TimerView]


def migrate(audit: RunningAudit, new_spec_blob: bytes) -> MigrationOutcome:
    """Move ``audit`` to the version whose spec is ``new_spec_blob`` and run it on to its next wait.

    Raises MigrationRefused (naming the stranded work) and leaves the audit as it was (the caller discards
    it); a failure of the process on its way is a ScriptRuntimeError, as for any run.
    """
    before_tasks = {view.task_id: view for view in audit.user_tasks()}
    before_timers = {view.task_id: view for view in audit.timers()}
    spec, subprocess_specs = spec_and_subprocesses(new_spec_blob)
    workflow = audit.workflow
    with limits_in_force(audit.limits):
        top, subs = diff_workflow(SERIALIZER.registry, workflow, spec, subprocess_specs)
        stranded = [task for task in top.removed if task.state & WAITING_WORK]
        for sp_id, diff in subs.items():
            sub = workflow.subprocesses[sp_id]
            if diff is None:
                stranded += [task for task in sub.get_tasks(state=WAITING_WORK)]
            else:
                stranded += [task for task in diff.removed if task.state & WAITING_WORK]
        if stranded:
            names = ", ".join(sorted({element_of(task.task_spec)[2] for task in stranded}))
            raise MigrationRefused(f"the audit is waiting at {names}, which the new version does not have: it "
                                   "would have nowhere to go")
        migrate_workflow(top, workflow, spec)
        for sp_id, diff in subs.items():
            sub = workflow.subprocesses[sp_id]
            migrate_workflow(diff, sub, subprocess_specs[sub.spec.name])
        workflow.subprocess_specs = dict(subprocess_specs)
    audit.events = []
    audit.fire_due_timers()  # runs the engine: tasks reset against the new version become ready again
    after_tasks = {view.task_id: view for view in audit.user_tasks()}
    after_timers = {view.task_id: view for view in audit.timers()}
    return MigrationOutcome(
        carried=[view for key, view in after_tasks.items() if key in before_tasks],
        new=[view for key, view in after_tasks.items() if key not in before_tasks],
        cancelled=[view for key, view in before_tasks.items() if key not in after_tasks],
        restarted=[(before_timers[key], view) for key, view in after_timers.items()
                   if key in before_timers and before_timers[key].due_at != view.due_at],
        timers_added=[view for key, view in after_timers.items() if key not in before_timers],
        timers_removed=[view for key, view in before_timers.items() if key not in after_timers])
