"""The process owner's and the admin's pages: deployed versions with their files, and the audits by status."""

from __future__ import annotations

import re

import time_machine

from audit_driver import AuditDriver
from bpmn_audit.services import identity
from conftest import LAUNCH, PASSWORD, PROCESSES


def test_the_process_owner_sees_each_version_and_downloads_its_files(sign_in, people, deployed):
    identity.create_user("owner", "Process owner", ["process_owner"], password=PASSWORD)
    with time_machine.travel(LAUNCH, tick=False):
        AuditDriver(people)
    owner = sign_in("owner")
    page = owner.get("/processes").get_data(as_text=True)
    assert "multi_agency_audit" in page and "immediate_concern" in page
    main = next(deployment for deployment in deployed if deployment.process_key == "multi_agency_audit")
    row = re.search(r"<code>multi_agency_audit</code>.*?</tr>", page, re.S).group(0)
    assert re.search(r'<td class="govuk-table__cell">1</td>\s*<td', row)  # one audit runs on it
    bpmn = next(file for file in main.files if file.file_name == "multi_agency_audit.bpmn")
    download = owner.get(f"/processes/{main.id}/files/{bpmn.id}")
    assert download.status_code == 200 and download.data == (PROCESSES / "multi_agency_audit.bpmn").read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]
    assert owner.get(f"/processes/{main.id}/files/999999").status_code == 404
    assert owner.get("/operations").status_code == 404  # the admin's


def test_the_admin_sees_audits_by_status(sign_in, people, deployed):
    identity.create_user("admin", "Admin", ["admin"], password=PASSWORD)
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people, {"title": "Neglect in under-fives"})
    admin = sign_in("admin")
    assert "Neglect in under-fives" in admin.get("/operations").get_data(as_text=True)
    assert "Neglect in under-fives" in admin.get("/operations?status=running").get_data(as_text=True)
    assert "No audits here" in admin.get("/operations?status=incident").get_data(as_text=True)
    assert admin.get("/operations?status=nonsense").status_code == 404
    assert admin.get(f"/audits/{audit.instance_id}").status_code == 200
    assert sign_in("bu.officer").get("/operations").status_code == 404
