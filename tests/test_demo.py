"""bpmn-audit demo: a partnership with people in every role, and two audits with real work in them."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import select
from werkzeug.security import check_password_hash

from bpmn_audit.cli import main
from bpmn_audit.engine.calendar import LONDON
from bpmn_audit.models import Concern, HumanTask, User, db
from bpmn_audit.services import identity, tasks

NOW = datetime(2027, 3, 17, 11, 0, tzinfo=LONDON)  # a Wednesday


def _inbox(username: str) -> list[tuple[str, int, bool]]:
    user = identity.get_user(username)
    return [(t.bpmn_id, t.instance_id, t.due_at is not None and t.due_at < NOW) for t in tasks.inbox(user)]


def test_the_demo_seeds_every_role_and_two_audits_with_work(app, runner):
    with time_machine.travel(NOW, tick=False):
        result = runner.invoke(main, ["demo"])
        assert result.exit_code == 0, result.output
        password = result.output.split("Every demo account's password: ")[1].split()[0]
        people = db.session.scalars(select(User)).all()
        groups = {group for user in people for group in user.groups}
        assert groups == set(identity.GROUPS)
        assert len({u.agency for u in people if "agency_lead" in u.groups}) >= 6
        assert len([u for u in people if "chair" in u.groups]) >= 2
        for user in people:
            assert user.username in result.output
            assert check_password_hash(user.password_hash, password), user.username
        launched = int(result.output.split("Audit ")[1].split(":")[0])
        in_progress = int(result.output.split("Audit ")[2].split(":")[0])
        # the launched audit waits for its cases; the other is in the agency audit, one agency late
        assert _inbox("csc.nominator") == [("nominate_cases", launched, False)]
        assert _inbox("lead.community_health") == [("submit_agency_report", in_progress, True)]
        assert ("share_reports", in_progress, False) in _inbox("bu.officer")
        assert _inbox("lead.police") == [] and _inbox("process.owner") == []
        concern = db.session.scalars(select(Concern).where(Concern.audit_id == in_progress)).one()
        open_response = db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == concern.process_id, HumanTask.status == "open")).one()
        assert open_response.bpmn_id == "respond_to_concern"
        done = db.session.scalars(select(HumanTask.bpmn_id).where(
            HumanTask.instance_id == in_progress, HumanTask.agency == "police",
            HumanTask.status == "completed")).all()
        assert "submit_agency_report" in done  # the other agencies reported on time


def test_the_demo_refuses_a_database_with_people_in_it(app, runner, people):
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 1
    assert "already has people in it" in result.output
