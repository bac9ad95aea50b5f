"""The audit's chair is a person: named at set-up (or sourced as an independent chair beside the notice
work), a user of the chair group, who gets the chair's tasks; another chair does not. Form fields with
``format`` = ``user`` are checked against the users."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import time_machine

from audit_driver import ANSWERS, SET_UP, AuditDriver
from bpmn_audit.engine.views import FormFieldView
from bpmn_audit.services import cases, identity, runtime, tasks
from bpmn_audit.services.errors import FormInvalid, NotFound
from bpmn_audit.services.forms import clean_form
from conftest import LAUNCH

CHAIR = FormFieldView(id="chair", label="Chair (their username)", type="string",
                      properties={"format": "user", "group": "chair"})
SOURCED = {"sourced_chair": "indie", "independent_chair_organisation": "Independent reviewer",
           "independent_chair_confirmed_on": "2027-01-06"}
NOT_A_CHAIR = "Chair must be the username of someone in the chair group, like jo.bloggs"


def _user(groups, active=True):
    return SimpleNamespace(groups=groups, active=active)


USERS = {"jo": _user(["chair"]), "gone": _user(["chair"], active=False), "ann": _user(["qiip"])}


# format=user fields


def test_a_user_field_takes_the_username_of_an_active_member_of_its_group():
    assert clean_form([CHAIR], {"chair": " jo "}, find_user=USERS.get) == {"chair": "jo"}
    assert clean_form([CHAIR], {"chair": ""}, find_user=USERS.get) == {"chair": None}  # optional, blank


@pytest.mark.parametrize("username", ["ann", "gone", "nobody", "x" * 201])
def test_a_user_field_refuses_anyone_else_in_plain_words(username):
    with pytest.raises(FormInvalid) as caught:
        clean_form([CHAIR], {"chair": username}, find_user=USERS.get)
    assert caught.value.errors == {"chair": NOT_A_CHAIR}


def test_a_user_field_without_a_group_takes_any_active_user():
    anyone = FormFieldView(id="owner", label="Owner", type="string", properties={"format": "user"})
    assert clean_form([anyone], {"owner": "ann"}, find_user=USERS.get) == {"owner": "ann"}
    with pytest.raises(FormInvalid) as caught:
        clean_form([anyone], {"owner": "gone"}, find_user=USERS.get)
    assert caught.value.errors == {"owner": "Owner must be the username of someone who uses the app, like jo.bloggs"}


def test_a_user_field_is_refused_rather_than_unchecked_without_a_way_to_look_people_up():
    with pytest.raises(FormInvalid) as caught:
        clean_form([CHAIR], {"chair": "jo"})
    assert caught.value.errors == {"chair": "Chair cannot be checked here: the form was given no way to look people "
                                            "up"}
    assert clean_form([CHAIR], {"chair": ""}) == {"chair": None}  # a blank one needs no look-up


# the chair in the shipped process


@pytest.fixture
def other_chair(people):
    return identity.create_user("chair.other", "Another partnership chair", ["chair"])


def _chairs_inbox(user) -> list[str]:
    return [task.bpmn_id for task in tasks.inbox(user)]


def test_the_chair_named_at_set_up_gets_the_chairs_tasks_and_another_chair_does_not(app, people, deployed,
                                                                                       other_chair):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people)
        assert audit.data()["chair"] == "chair"
        audit.through_notice(clock)
        for bpmn_id in ("submit_agency_report", "share_reports"):
            audit.complete(bpmn_id)
        [reading] = audit.open_tasks("chair_reads_reports")
        assert (reading.assignee, reading.lane, reading.due_at.isoformat()) == (
            "chair", "Chair", audit.data()["reading_due"])
        assert _chairs_inbox(people["chair"]) == ["chair_reads_reports"]
        assert _chairs_inbox(other_chair) == []
        with pytest.raises(NotFound):
            tasks.complete_task(reading.id, other_chair, ANSWERS["chair_reads_reports"])
        # being the audit's chair lets them read the children's details; the other chair may not
        case = cases.list_cases(audit.instance_id, people["bu"])[0]
        assert cases.read_case(case.id, people["chair"], "Preparing the event").pseudonym == "Child A"
        with pytest.raises(NotFound):
            cases.read_case(case.id, other_chair, "Curious")

        audit.complete("read_reports")
        audit.complete("chair_reads_reports")
        audit.pass_moment(clock, audit.data()["event_at"])
        assert _chairs_inbox(people["chair"]) == ["record_event_part_1"]
        assert _chairs_inbox(other_chair) == []
        audit.complete("record_event_part_1")
        audit.complete("record_event_part_2")
        assert [(t.bpmn_id, t.assignee) for t in audit.open_tasks()] == [("write_analysis_report", "chair")]
        assert _chairs_inbox(other_chair) == []


@pytest.mark.parametrize(("username", "message"), [
    ("qiip", NOT_A_CHAIR), ("no.such.person", NOT_A_CHAIR), ("lead.police", NOT_A_CHAIR)])
def test_a_name_that_is_not_a_chair_is_refused_at_set_up(app, people, deployed, username, message):
    with time_machine.travel(LAUNCH, tick=False):
        instance = runtime.start_audit(people["bu"])
        [set_up] = tasks.inbox(people["bu"])
        with pytest.raises(FormInvalid) as caught:
            tasks.complete_task(set_up.id, people["bu"], {**SET_UP, "chair": username})
    assert caught.value.errors == {"chair": message}
    assert [t.bpmn_id for t in tasks.inbox(people["bu"])] == ["set_up_audit"]
    assert runtime.get_instance(instance.id).status == "running"


def test_a_chair_who_has_left_is_refused_at_set_up(app, people, deployed, other_chair):
    other_chair.active = False
    with time_machine.travel(LAUNCH, tick=False):
        runtime.start_audit(people["bu"])
        [set_up] = tasks.inbox(people["bu"])
        with pytest.raises(FormInvalid) as caught:
            tasks.complete_task(set_up.id, people["bu"], {**SET_UP, "chair": "chair.other"})
    assert caught.value.errors == {"chair": NOT_A_CHAIR}


@pytest.mark.parametrize("sourced", ["first", "last"])
def test_sourcing_an_independent_chair_hands_the_chairs_tasks_to_them(app, people, deployed, sourced):
    """Sourcing runs beside the notice work: the independent chair replaces the one named at set-up,
    whether the sourcing branch finishes before or after the nomination and the leads' confirmations."""
    independent = identity.create_user("indie", "R. Patel, independent reviewer", ["chair"])
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people, {"independent_chair": "true"})
        # the sourcing is beside the notice work: nobody waits for it
        assert sorted({t.bpmn_id for t in audit.open_tasks()}) == ["nominate_cases", "source_independent_chair"]
        [sourcing] = audit.open_tasks("source_independent_chair")
        with pytest.raises(FormInvalid) as caught:
            tasks.complete_task(sourcing.id, people["bu"], {**SOURCED, "sourced_chair": "qiip"})
        assert caught.value.errors == {
            "sourced_chair": "Independent chair must be the username of someone in the chair group, like jo.bloggs"}
        if sourced == "first":
            audit.complete("source_independent_chair", SOURCED)
        for bpmn_id in ("nominate_cases", "collate_audit_pack", "confirm_audit_lead", "brief_audit_leads"):
            audit.complete(bpmn_id)
        if sourced == "last":
            assert audit.open_tasks("appoint_chair") == []  # the notice join waits for the chair
            assert audit.open_tasks() == [audit.open_tasks("source_independent_chair")[0]]
            audit.complete("source_independent_chair", SOURCED)
        audit.pass_deadline(clock, "notice_due")
        assert audit.data()["chair"] == "indie"  # on the main path, past the notice
        for bpmn_id in ("submit_agency_report", "share_reports"):
            audit.complete(bpmn_id)
    assert [(t.bpmn_id, t.assignee) for t in audit.open_tasks("chair_reads_reports")] == [
        ("chair_reads_reports", "indie")]
    assert _chairs_inbox(independent) == ["chair_reads_reports"]
    assert _chairs_inbox(people["chair"]) == []


def test_with_no_chair_named_the_chairs_tasks_go_to_the_chair_group(app, people, deployed, other_chair):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        audit = AuditDriver(people, {"chair": ""})
        assert audit.data()["chair"] is None
        audit.through_notice(clock)
        for bpmn_id in ("submit_agency_report", "share_reports"):
            audit.complete(bpmn_id)
    [reading] = audit.open_tasks("chair_reads_reports")
    assert reading.assignee is None
    assert _chairs_inbox(people["chair"]) == _chairs_inbox(other_chair) == ["chair_reads_reports"]
