"""The case register: encrypted at rest, read only by those allowed (and logged), pseudonyms in order,
validation per field, purge after the retention date, key rotation and a missing key."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from cryptography.fernet import Fernet
from sqlalchemy import select

from audit_driver import AuditDriver
from bpmn_audit import create_app
from bpmn_audit.cli import main
from bpmn_audit.engine.calendar import LONDON
from bpmn_audit.models import Case, CaseAccess, HistoryEvent, HumanTask, ProcessInstance, db
from bpmn_audit.services import cases, identity
from bpmn_audit.services.case_crypto import CaseKeyError, require_case_key
from bpmn_audit.services.errors import Conflict, Forbidden, FormInvalid, NotFound
from conftest import LAUNCH, both_backends

CHILD = {"name": "Zebedee Quartermaine", "date_of_birth": "2019-03-27", "system_id": "CSC-4417-XQ",
         "other_ids": {"NHS number": "943 476 5919", "Police reference": "PR/88/ZQ"},
         "household_members": "Mother: Philippa Quartermaine"}
SECRETS = ("Zebedee", "Quartermaine", "CSC-4417-XQ", "2019-03-27", "943 476 5919", "PR/88/ZQ", "Philippa")


@pytest.fixture
def audit(people, deployed):
    """A running audit, set up with police, csc and icb taking part."""
    with time_machine.travel(LAUNCH, tick=False):
        return AuditDriver(people)


def child(number: int) -> dict:
    return {**CHILD, "name": f"Child Number{number}", "system_id": f"CSC-{number}"}


def log_entries(**where) -> list[tuple]:
    query = select(CaseAccess).filter_by(**where).order_by(CaseAccess.id)
    return [(entry.actor, entry.action, entry.case_id, entry.purpose) for entry in db.session.scalars(query)]



def identify_agencies(audit: AuditDriver, count: int) -> None:
    """Complete the nomination, which identifies the agencies taking part (they may read from then on)."""
    audit.complete("nominate_cases", {"case_count": str(count), "agencies": audit.agencies,
                                      "nominating_system": "CSC record"})
    audit.complete("collate_audit_pack")

@both_backends
def test_identifying_fields_are_not_readable_in_the_database(app, people, audit, backend):
    cases.nominate_case(audit.instance_id, people["nominator"], CHILD)
    cases.read_case(1, people["bu"], "Checking the nomination")
    with db.engine.connect() as connection:
        tables = sa.MetaData()
        tables.reflect(connection)  # every table in the database, whatever the models say
        rows = [repr(tuple(row)) for table in tables.sorted_tables for row in connection.execute(sa.select(table))]
    dump = "\n".join(rows)
    assert "Child A" in dump
    assert [secret for secret in SECRETS if secret in dump] == []
    if backend == "sqlite":
        db.session.remove()
        db.engine.dispose()
        raw = Path(db.engine.url.database).read_bytes()
        assert b"Child A" in raw
        assert [secret for secret in SECRETS if secret.encode() in raw] == []


@both_backends
def test_the_business_unit_the_audits_chair_and_participating_leads_read_everyone_else_is_refused(app, people,
                                                                                                   audit):
    case = cases.nominate_case(audit.instance_id, people["nominator"], CHILD)
    identify_agencies(audit, 1)
    fire_lead = identity.create_user("lead.fire", "fire lead", ["agency_lead"], agency="fire")
    for key in ("bu", "lead.police"):
        details = cases.read_case(case.id, people[key], f"Preparing for the audit ({key})")
        assert (details.pseudonym, details.name, details.date_of_birth, details.system_id) == \
            ("Child A", "Zebedee Quartermaine", date(2019, 3, 27), "CSC-4417-XQ")
        assert details.other_ids == CHILD["other_ids"]
        assert details.household_members == "Mother: Philippa Quartermaine"
    refused = [fire_lead, people["practitioner.police"], people["qiip"], people["chair"], people["nominator"]]
    for user in refused:
        with pytest.raises(NotFound, match=f"there is no case {case.id} for you"):
            cases.read_case(case.id, user, "Curious")
    with pytest.raises(NotFound, match="there is no case 999 for you"):
        cases.read_case(999, people["bu"], "Curious")

    # a chair becomes the audit's chair when assigned one of its tasks (as a claim will do)
    task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == audit.instance_id)).first()
    task.assignee = "chair"
    db.session.commit()
    assert cases.read_case(case.id, people["chair"], "Preparing the event").name == "Zebedee Quartermaine"

    assert log_entries(instance_id=audit.instance_id) == [
        ("nominator", "nominated", case.id, "nominated to the audit"),
        ("bu.officer", "read", case.id, "Preparing for the audit (bu)"),
        ("lead.police", "read", case.id, "Preparing for the audit (lead.police)"),
        ("lead.fire", "refused", case.id, "Curious"),
        ("practitioner.police", "refused", case.id, "Curious"),
        ("qiip", "refused", case.id, "Curious"),
        ("chair", "refused", case.id, "Curious"),
        ("nominator", "refused", case.id, "Curious"),
        ("chair", "read", case.id, "Preparing the event"),
    ]
    times = db.session.scalars(select(CaseAccess.at).order_by(CaseAccess.id)).all()
    assert all(moment.tzinfo is not None for moment in times) and times == sorted(times)


def test_a_lead_reads_only_the_cases_of_audits_their_agency_takes_part_in(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        other = AuditDriver(people, {"agencies": "csc, icb"})
        case = cases.nominate_case(other.instance_id, people["nominator"], CHILD)
        identify_agencies(other, 1)
    with pytest.raises(NotFound):
        cases.read_case(case.id, people["lead.police"], "Preparing for the audit")
    assert cases.read_case(case.id, people["lead.csc"], "Preparing for the audit").system_id == "CSC-4417-XQ"
    people["bu"].active = False
    db.session.commit()
    with pytest.raises(NotFound):
        cases.read_case(case.id, people["bu"], "After leaving")


def test_a_read_needs_a_purpose(app, people, audit):
    case = cases.nominate_case(audit.instance_id, people["nominator"], CHILD)
    for purpose, message in [("  ", "Enter why you need the child's details"),
                             ("x" * 501, "Why you need the child's details must be 500 characters or fewer")]:
        with pytest.raises(FormInvalid) as caught:
            cases.read_case(case.id, people["bu"], purpose)
        assert caught.value.errors == {"purpose": message}
    assert [action for _, action, _, _ in log_entries()] == ["nominated"]


def test_the_list_shows_pseudonyms_only_to_those_who_may_see_the_cases(app, people, audit):
    teacher = identity.create_user("nominator.ed", "Education nominator", ["nominating_partner"], agency="education")
    cases.nominate_case(audit.instance_id, people["nominator"], child(1))
    cases.nominate_case(audit.instance_id, teacher, child(2))
    identify_agencies(audit, 2)
    for user in (people["bu"], people["lead.icb"], people["practitioner.police"], people["nominator"], teacher):
        listed = cases.list_cases(audit.instance_id, user)
        assert [(case.pseudonym, case.nominated_by) for case in listed] == \
            [("Child A", "nominator"), ("Child B", "nominator.ed")]
    assert not hasattr(listed[0], "name")
    outsider = identity.create_user("practitioner.fire", "fire practitioner", ["practitioner"], agency="fire")
    for user in (people["qiip"], people["chair"], outsider):
        with pytest.raises(NotFound, match=f"there are no cases of audit {audit.instance_id} for you"):
            cases.list_cases(audit.instance_id, user)
    assert [action for _, action, _, _ in log_entries()] == ["nominated", "nominated"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name": "  "}, "name", "Enter the child's name"),
    ({"name": "x" * 201}, "name", "The child's name must be 200 characters or fewer"),
    ({"name": 42}, "name", "The child's name must be text"),
    ({"date_of_birth": None}, "date_of_birth", "Enter the child's date of birth"),
    ({"date_of_birth": "2019-02-30"}, "date_of_birth", "Date of birth must be a real date, like 2019-03-27"),
    ({"date_of_birth": "27/03/2019"}, "date_of_birth", "Date of birth must be a real date, like 2019-03-27"),
    ({"date_of_birth": "2031-01-01"}, "date_of_birth", "Date of birth must be today or in the past"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth", "Date of birth must be after 1900"),
    ({"system_id": ""}, "system_id", "Enter the identifier in the nominating system"),
    ({"system_id": "x" * 101}, "system_id", "The identifier in the nominating system must be 100 characters or fewer"),
    ({"other_ids": {f"id {n}": "1" for n in range(11)}}, "other_ids", "Give at most 10 other identifiers"),
    ({"other_ids": {"NHS number": " "}}, "other_ids", "Enter the NHS number"),
    ({"other_ids": {" ": "1"}}, "other_ids", "Enter each identifier's label"),
    ({"other_ids": {"x" * 51: "1"}}, "other_ids", "Each identifier's label must be 50 characters or fewer"),
    ({"other_ids": "943 476 5919"}, "other_ids",
     "Other identifiers must be pairs of a label and a value, like NHS number: 943 476 5919"),
    ({"household_members": "x" * 2001}, "household_members", "Household members must be 2,000 characters or fewer"),
])
def test_a_bad_nomination_gets_a_message_per_field_and_stores_nothing(app, people, audit, change, field, message):
    with pytest.raises(FormInvalid) as caught:
        cases.nominate_case(audit.instance_id, people["nominator"], {**CHILD, **change})
    assert caught.value.errors == {field: message}
    assert db.session.scalar(select(sa.func.count()).select_from(Case)) == 0
    assert log_entries() == []


def test_every_bad_field_is_reported_at_once_without_echoing_the_values(app, people, audit):
    with pytest.raises(FormInvalid) as caught:
        cases.nominate_case(audit.instance_id, people["nominator"], {"name": "Zebedee", "date_of_birth": "soon"})
    assert set(caught.value.errors) == {"date_of_birth", "system_id"}
    assert "Zebedee" not in str(caught.value) and "soon" not in str(caught.value)


def test_optional_fields_may_be_left_out_and_a_date_may_be_a_date(app, people, audit):
    form = {"name": " Ann Other ", "date_of_birth": date(2020, 1, 2), "system_id": "X1"}
    case = cases.nominate_case(audit.instance_id, people["bu"], form)
    details = cases.read_case(case.id, people["bu"], "Checking")
    assert (details.name, details.date_of_birth, details.other_ids, details.household_members) == \
        ("Ann Other", date(2020, 1, 2), {}, None)


def test_pseudonyms_are_given_in_order_per_audit(app, people, deployed):
    with time_machine.travel(LAUNCH, tick=False):
        first, second = AuditDriver(people), AuditDriver(people)
    for target in (first, second, first, first, second):
        cases.nominate_case(target.instance_id, people["nominator"], CHILD)
    assert [case.pseudonym for case in cases.list_cases(first.instance_id, people["bu"])] == \
        ["Child A", "Child B", "Child C"]
    assert [case.pseudonym for case in cases.list_cases(second.instance_id, people["bu"])] == ["Child A", "Child B"]


@both_backends
def test_a_nomination_that_loses_the_race_for_a_pseudonym_takes_the_next(app, people, audit, monkeypatch):
    real = cases.case_pseudonyms

    def rival_first(count):
        """Between reading the last position and writing the case, another nomination commits that position."""
        monkeypatch.setattr(cases, "case_pseudonyms", real)
        with db.engine.begin() as connection:
            connection.execute(sa.insert(Case.__table__).values(
                instance_id=audit.instance_id, position=count - 1, pseudonym=real(count)[-1], nominated_by="rival",
                nominated_at=datetime(2027, 1, 4, 9, tzinfo=LONDON)))
        return real(count)

    monkeypatch.setattr(cases, "case_pseudonyms", rival_first)
    cases.nominate_case(audit.instance_id, people["nominator"], CHILD)
    assert [(case.pseudonym, case.nominated_by) for case in cases.list_cases(audit.instance_id, people["bu"])] == \
        [("Child A", "rival"), ("Child B", "nominator")]
    assert [action for _, action, _, _ in log_entries()] == ["nominated"]


def test_only_nominators_nominate_to_a_running_audit_of_bounded_size(app, people, audit, monkeypatch):
    with pytest.raises(Forbidden):
        cases.nominate_case(audit.instance_id, people["lead.csc"], CHILD)
    with pytest.raises(NotFound):
        cases.nominate_case(999, people["nominator"], CHILD)
    monkeypatch.setattr(cases, "MAX_CASES", 2)
    for _ in range(2):
        cases.nominate_case(audit.instance_id, people["nominator"], CHILD)
    with pytest.raises(Conflict, match="has 2 cases, the most one audit may have"):
        cases.nominate_case(audit.instance_id, people["nominator"], CHILD)
    db.session.get(ProcessInstance, audit.instance_id).status = "completed"
    db.session.commit()
    with pytest.raises(Conflict, match="has ended"):
        cases.nominate_case(audit.instance_id, people["bu"], CHILD)


@both_backends
def test_purge_expired_removes_identifying_data_once_the_retention_date_has_passed(app, people, deployed, runner):
    with time_machine.travel(LAUNCH, tick=False) as clock:
        expiring, keeping = AuditDriver(people), AuditDriver(people, {"agencies": "police"})
        first = cases.nominate_case(expiring.instance_id, people["nominator"], child(1))
        cases.nominate_case(expiring.instance_id, people["nominator"], child(2))
        kept = cases.nominate_case(keeping.instance_id, people["nominator"], child(3))
        db.session.execute(sa.text(
            "INSERT INTO tracker_actions (instance_id, action, review_type, owner_agency, rag_status, created_at) "
            "VALUES (:instance, 'Roll out the toolkit', 'MACFA', 'csc', 'green', :now)"),
            {"instance": expiring.instance_id, "now": datetime(2027, 1, 4, 9)})
        db.session.commit()
        with pytest.raises(Forbidden):
            cases.set_retention(expiring.instance_id, people["lead.police"], "2027-06-30")
        with pytest.raises(FormInvalid):
            cases.set_retention(expiring.instance_id, people["bu"], "2027-06-31")
        assert cases.set_retention(expiring.instance_id, people["bu"], "2027-06-30") == date(2027, 6, 30)
        cases.set_retention(keeping.instance_id, people["bu"], date(2027, 7, 1))
        before = _untouchable()

        clock.move_to(datetime(2027, 6, 30, 23, 59, tzinfo=LONDON))  # the retention date itself: still kept
        assert runner.invoke(main, ["cases", "purge-expired"]).output == "0 case(s) purged\n"
        clock.move_to(datetime(2027, 7, 1, 0, 30, tzinfo=LONDON))  # 23:30 UTC on 30 June, 1 July in London
        result = runner.invoke(main, ["cases", "purge-expired"])
        assert result.exit_code == 0, result.output
        assert result.output == "2 case(s) purged\n"
        assert runner.invoke(main, ["cases", "purge-expired"]).output == "0 case(s) purged\n"

        with pytest.raises(cases.CasePurged, match="the details of Child A were removed on 1 July 2027"):
            cases.read_case(first.id, people["bu"], "Answering a subject access request")
        assert cases.read_case(kept.id, people["bu"], "Checking").name == "Child Number3"
    db.session.expire_all()
    listed = cases.list_cases(expiring.instance_id, people["bu"])
    assert [(case.pseudonym, case.purged_at is not None) for case in listed] == [("Child A", True), ("Child B", True)]
    assert db.session.scalars(select(Case.identity_token).where(Case.instance_id == expiring.instance_id)).all() == \
        [None, None]
    assert _untouchable() == before
    purges = log_entries(action="purged")
    assert purges == [("retention", "purged", first.id, "retention date 2027-06-30 passed"),
                      ("retention", "purged", first.id + 1, "retention date 2027-06-30 passed")]
    assert ("bu.officer", "retention_set", None, "retention date set to 2027-06-30") in log_entries()


def _untouchable() -> tuple:
    """What a purge must leave whole: history, tracker rows, tasks and pseudonyms."""
    db.session.expire_all()
    history = [(e.id, e.kind, e.bpmn_id, e.at) for e in db.session.scalars(select(HistoryEvent).order_by("id"))]
    tracker = db.session.execute(sa.text("SELECT id, instance_id, action, owner_agency FROM tracker_actions")).all()
    tasks = [(t.id, t.status, t.agency) for t in db.session.scalars(select(HumanTask).order_by("id"))]
    pseudonyms = db.session.execute(select(Case.id, Case.instance_id, Case.pseudonym).order_by(Case.id)).all()
    assert tracker
    return history, tracker, tasks, pseudonyms


def test_data_stays_readable_after_rotating_the_key(app, people, audit):
    old = app.config["CASE_KEY"]
    before = cases.nominate_case(audit.instance_id, people["nominator"], child(1))
    new = Fernet.generate_key().decode()
    app.config["CASE_KEY"] = f"{new}, {old}"
    assert cases.read_case(before.id, people["bu"], "Checking").name == "Child Number1"
    after = cases.nominate_case(audit.instance_id, people["nominator"], child(2))
    assert b"Child Number2" in Fernet(new).decrypt(db.session.get(Case, after.id).identity_token)
    app.config["CASE_KEY"] = new
    assert cases.read_case(after.id, people["bu"], "Checking").name == "Child Number2"
    with pytest.raises(CaseKeyError, match="cannot be decrypted with the keys in BPMN_AUDIT_CASE_KEY"):
        cases.read_case(before.id, people["bu"], "Checking")


def test_without_a_key_the_register_refuses(app, people, audit):
    case = cases.nominate_case(audit.instance_id, people["nominator"], CHILD)
    app.config["CASE_KEY"] = None
    for attempt in (lambda: cases.nominate_case(audit.instance_id, people["nominator"], CHILD),
                    lambda: cases.read_case(case.id, people["bu"], "Checking")):
        with pytest.raises(CaseKeyError, match="BPMN_AUDIT_CASE_KEY is not set") as caught:
            attempt()
        assert "Fernet.generate_key().decode()" in str(caught.value)
    assert db.session.scalar(select(sa.func.count()).select_from(Case)) == 1
    # the pseudonyms need no key
    assert [summary.pseudonym for summary in cases.list_cases(audit.instance_id, people["bu"])] == ["Child A"]


def test_require_case_key_names_the_variable_and_never_echoes_a_key():
    for config in ({}, {"CASE_KEY": None}, {"CASE_KEY": " , "}):
        with pytest.raises(CaseKeyError, match="BPMN_AUDIT_CASE_KEY is not set") as caught:
            require_case_key(config)
        assert 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"' \
            in str(caught.value)
    good = Fernet.generate_key().decode()
    with pytest.raises(CaseKeyError, match=r"not a Fernet key \(key 2 of 2\)") as caught:
        require_case_key({"CASE_KEY": f"{good},hunter2-secret"})
    assert "hunter2" not in str(caught.value) and good not in str(caught.value)
    cipher = require_case_key({"CASE_KEY": good})
    assert Fernet(good).decrypt(cipher.encrypt(b"x")) == b"x"


def test_create_app_makes_a_throwaway_key_only_for_tests_or_when_told(monkeypatch, tmp_path):
    monkeypatch.delenv("BPMN_AUDIT_CASE_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    assert create_app({"SQLALCHEMY_DATABASE_URI": url}).config["CASE_KEY"] is None
    testing = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}).config
    told = create_app({"SQLALCHEMY_DATABASE_URI": url, "CASE_KEY_THROWAWAY": True}).config
    require_case_key(testing), require_case_key(told)
    assert testing["CASE_KEY"] != told["CASE_KEY"]
    monkeypatch.setenv("BPMN_AUDIT_CASE_KEY", "from-the-environment")
    assert create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}).config["CASE_KEY"] == "from-the-environment"
