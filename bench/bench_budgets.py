"""What the budgets cost on the normal path: completing a task in the shipped process, with and without.

"With" is the app as it runs: model code compiled with the guarded policy (ticks, guarded operators,
sized builtins), a budget per evaluation, process data checked after every script and decision, and
the depth guard after every run. "Without" swaps those for plain RestrictedPython (the sandbox as it
was before budgets) for the length of the measurement. Runs alternate, so both see the same machine;
the script prints medians and their ratio, measured in this one run. No test asserts a time.

    make bench            # or: .venv/bin/python bench/bench_budgets.py [--rounds N]
"""

from __future__ import annotations

import argparse
import operator
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from flask_migrate import upgrade
from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence

from bpmn_audit import MIGRATIONS_DIR, create_app
from bpmn_audit.engine import code_policy, sandbox, workflow
from bpmn_audit.models import HumanTask, db
from bpmn_audit.services import deployments, identity, runtime, sample_records, tasks

ROOT = Path(__file__).resolve().parents[1]
AGENCIES = "police, csc, icb, education, health, probation, fire, housing, youth_justice, early_help, acute, lsa"
SET_UP = {"title": "Neglect in under-fives", "theme": "Neglect", "scope": "Recognising neglect",
          "complexity": "standard", "launch_date": "2027-01-04", "independent_chair": "false"}
NOMINATION = {"case_count": "4", "agencies": AGENCIES, "nominating_system": "CSC record"}
LOOP_SCRIPT = "total = 0\nfor i in range(20000):\n    total += i * i\nwords = [str(n) for n in range(2000)]"


def _plain_guards(_budget: object) -> dict:
    """The sandbox's names as they were before budgets: no ticks, no sizing."""
    return {
        "__builtins__": sandbox._BUILTINS, "_getattr_": sandbox._guarded_getattr, "_getitem_": operator.getitem,
        "_getiter_": iter, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence, "_write_": full_write_guard,
        "_inplacevar_": lambda op, target, value: sandbox._INPLACE_OPS[op](target, value),
        "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs), "_print_": sandbox._DiscardingPrinter,
    }


class _NoBudget:
    """Stands in for Budget where the plain guards need no budget at all."""

    broken = None

    def tick(self) -> None:
        """Nothing to count."""


@contextmanager
def budgets_off() -> Iterator[None]:
    """Run model code as before budgets: plain RestrictedPython, no data or depth checks."""
    saved = (code_policy.GuardedPolicy, sandbox._guards, sandbox.Budget, workflow.check_data,
             workflow.RunningAudit._check_depth)
    code_policy.compile_code.cache_clear()
    code_policy.GuardedPolicy = RestrictingNodeTransformer
    sandbox._guards = lambda budget: {**_plain_guards(budget), "_tick_": _NoBudget().tick}
    sandbox.Budget = _NoBudget
    workflow.check_data = lambda *args, **kwargs: None
    workflow.RunningAudit._check_depth = lambda self: None
    try:
        yield
    finally:
        (code_policy.GuardedPolicy, sandbox._guards, sandbox.Budget, workflow.check_data,
         workflow.RunningAudit._check_depth) = saved
        code_policy.compile_code.cache_clear()


def _complete_set_up_and_nomination(bu: object, nominator: object) -> float:
    """Start an audit and time completing its set-up (a decision table and the planning script) and its
    nomination (a guard, a provider, a script and 12 agencies' lead confirmations)."""
    instance = runtime.start_audit(bu)
    set_up = db.session.query(HumanTask).filter_by(instance_id=instance.id, bpmn_id="set_up_audit").one()
    sample_records.nominate_cases(instance.id, nominator, 4, date(2027, 1, 4))
    started = time.perf_counter()
    tasks.complete_task(set_up.id, bu, SET_UP)
    nominate = db.session.query(HumanTask).filter_by(instance_id=instance.id, bpmn_id="nominate_cases").one()
    tasks.complete_task(nominate.id, nominator, NOMINATION)
    return time.perf_counter() - started


def _run_loop_script() -> float:
    environment = sandbox.SandboxEnvironment()
    started = time.perf_counter()
    environment.execute(LOOP_SCRIPT, {})
    return time.perf_counter() - started


def _alternate(rounds: int, measure: Callable[[], float]) -> tuple[float, float]:
    with_budgets, without = [], []
    for _ in range(rounds):
        with_budgets.append(measure())
        with budgets_off():
            without.append(measure())
    return statistics.median(with_budgets), statistics.median(without)


def _report(name: str, timings: tuple[float, float]) -> None:
    on, off = timings
    print(f"{name:<58} with {on * 1000:8.2f} ms   without {off * 1000:8.2f} ms   ratio {on / off:5.2f}")


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="bpmn-audit-bench-") as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3", "CASE_KEY_THROWAWAY": True})
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
            deployments.deploy_directory(ROOT / "processes", deployed_by="bench")
            bu = identity.create_user("bu", "Business Unit", ["business_unit"])
            nominator = identity.create_user("nominator", "Nominating partner", ["nominating_partner"], agency="csc")
            measure = lambda: _complete_set_up_and_nomination(bu, nominator)  # noqa: E731
            measure()  # warm caches (spec, compiled code) for both variants
            with budgets_off():
                measure()
            print(f"budgets on the normal path: median of {rounds} alternating rounds each")
            _report("complete set-up and nomination (12 agencies), shipped process", _alternate(rounds, measure))
            _report("a loop-heavy script (20,000 rounds, 2,000 list items)", _alternate(rounds, _run_loop_script))
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
