"""The partnership's agencies: a list the Business Unit keeps (name, code), which audits choose from."""

from __future__ import annotations

import time_machine

from audit_driver import AuditDriver
from bpmn_audit.models import HumanTask, db
from bpmn_audit.services import agencies, api_tokens, cases
from conftest import LAUNCH
from conftest import csrf_token_in as _token


def test_the_business_unit_adds_renames_and_retires_agencies(people, sign_in):
    office = sign_in("bu.officer")
    page = office.get("/agencies").get_data(as_text=True)
    assert "No agencies are listed yet" in page
    wrong = office.post("/agencies", data={"csrf_token": _token(page), "name": "Police", "code": "West Police!"})
    shown = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and 'href="#code"' in shown and "letters, digits, _ or -" in shown
    assert 'value="Police"' in shown
    for name, code in (("Police", "police"), ("Children's Social Care", "csc"), ("Integrated Care Board", "icb")):
        added = office.post("/agencies", data={"csrf_token": _token(page), "name": name, "code": code})
        assert added.status_code == 302
    twice = office.post("/agencies", data={"csrf_token": _token(page), "name": "Again", "code": "CSC"})
    assert twice.status_code == 400 and "already an agency with the code csc" in twice.get_data(as_text=True)
    police = next(agency for agency in agencies.list_agencies() if agency.code == "police")
    office.post(f"/agencies/{police.id}", data={"csrf_token": _token(page), "name": "West Police"})
    office.post(f"/agencies/{police.id}", data={"csrf_token": _token(page), "active": "false"})
    listed = office.get("/agencies").get_data(as_text=True)
    assert "West Police" in listed and "Inactive" in listed
    assert agencies.active_codes() == ["csc", "icb"]
    assert sign_in("lead.police").get("/agencies").status_code == 404


def test_an_audit_ticks_its_agencies_from_the_list_and_no_other(app, client, people, deployed, sign_in):
    for name, code in (("Police", "police"), ("Children's Social Care", "csc"), ("Integrated Care Board", "icb"),
                       ("Probation", "probation")):
        agencies.add_agency(people["bu"], {"name": name, "code": code})
    agencies.update_agency(people["bu"], agencies.list_agencies()[-1].id, {"active": False})  # Probation
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        task = audit.open_tasks("nominate_cases")[0]
        audit.nominate(2)
        nominator = sign_in("nominator")
        page = nominator.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert 'type="checkbox"' in page and "Children&#39;s Social Care (csc)" in page
        assert "probation" not in page  # inactive agencies are not offered

        headers = {"Authorization": f"Bearer {api_tokens.issue_token(people['nominator'], 't')}"}
        schema = client.get(f"/api/v1/tasks/{task.id}", headers=headers).json["schema"]
        assert schema["properties"]["agencies"]["items"] == {"enum": ["csc", "icb", "police"]}
        assert [a["code"] for a in client.get("/api/v1/agencies", headers=headers).json["agencies"]] == [
            "csc", "icb", "police"]
        refused = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={"data": {
            "agencies": ["police", "probation"], "nominating_system": "CSC record"}})
        assert refused.status_code == 400
        assert "probation is not one of the partnership's agencies" in refused.json["fields"]["agencies"]

        done = nominator.post(f"/tasks/{task.id}", data={"csrf_token": _token(page), "case_count": "2",
                                                         "agencies": ["police", "icb"],
                                                         "nominating_system": "CSC record", "complete": "y"})
        assert done.status_code == 302
        confirming = {t.agency for t in audit.open_tasks("confirm_audit_lead")}
        assert confirming == {"police", "icb"}
        assert len(cases.list_cases(audit.instance_id, people["bu"])) == 2
        assert db.session.get(HumanTask, task.id).form_data["agencies"] == "police, icb"
