"""The OpenAPI 3.1 document of the JSON API (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

from ..services.extensions import DEADLINES

_ERROR = {"$ref": "#/components/schemas/Error"}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return answer


def _errors(*codes: int) -> dict[str, Any]:
    meanings = {400: "Wrong input; for a completion, `fields` names each wrong field and nothing changed",
                401: "No valid bearer token", 403: "Not allowed for your role",
                404: "No such task or audit, or not one you may see", 409: "Done or changed by someone else meanwhile",
                413: "The request is larger than the upload limit"}
    return {str(code): _answer(meanings[code], _ERROR) for code in codes}


#: the reason an admin gives for an operation
_REASON = {"type": "string", "maxLength": 500}


def _admin_post(summary: str, parameter: str, properties: dict[str, Any], required: tuple[str, ...] = ()
                ) -> dict[str, Any]:
    """A POST of an admin's operation: its path parameter, its JSON body, an object back, the usual errors."""
    return {"post": {"summary": summary, "parameters": [{"$ref": f"#/components/parameters/{parameter}"}],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": list(required), "properties": properties}}}},
                     "responses": {"200": _answer("The result", {"type": "object"}),
                                   **_errors(400, 401, 403, 404, 409)}}}


def _task_action(summary: str, request_schema: dict[str, Any] | None, *codes: int) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary, "parameters": [{"$ref": "#/components/parameters/TaskId"}],
        "responses": {"200": _answer("The task afterwards", {"$ref": "#/components/schemas/Task"}),
                      **_errors(401, 404, *codes)}}
    if request_schema is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request_schema}}}
    return {"post": operation}


def _flag(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": "boolean"}}


_PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
           {"name": "per_page", "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}]


def _page_of(key: str, item: str, description: str) -> dict[str, Any]:
    """A 200 answer holding one page of ``key`` (items of schema ``item``) with the paging figures."""
    return _answer(description, {
        "type": "object", "required": [key, "page", "per_page", "total"],
        "properties": {key: {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
                       "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"}}})


def document() -> dict[str, Any]:
    """The whole document."""
    task = {"type": "object", "required": ["id", "name", "audit_id", "phase", "agency", "due", "overdue", "assignee"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "audit_id": {"type": "integer"},
                           "phase": {"type": ["string", "null"]}, "agency": {"type": ["string", "null"]},
                           "due": {"type": ["string", "null"], "format": "date-time"},
                           "overdue": {"type": "boolean"}, "assignee": {"type": ["string", "null"]},
                           "status": {"type": "string", "enum": ["open", "completed", "cancelled"]}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "bpmn-audit API", "version": "1",
                 "description": "A person's audits and tasks. Sign in with `Authorization: Bearer <token>`; "
                                "`bpmn-audit users token USERNAME` makes a token."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": _answer("The OpenAPI document", {"type": "object"})}}},
            "/me": {"get": {"summary": "Who the token belongs to", "responses": {
                "200": _answer("You", {"$ref": "#/components/schemas/Me"}), **_errors(401)}}},
            "/agencies": {"get": {"summary": "The partnership's active agencies: the codes an audit chooses from",
                                  "responses": {"200": _answer("The agencies", {"type": "object", "properties": {
                                      "agencies": {"type": "array", "items": {"type": "object", "properties": {
                                          "code": {"type": "string"}, "name": {"type": "string"}}}}}}),
                                      **_errors(401)}}},
            "/tasks": {"get": {
                "summary": "My tasks: assigned to me or offered to my groups (for agency staff, my agency's)",
                "parameters": [
                    _flag("assigned_to_me", "Only tasks assigned to me"),
                    _flag("my_groups", "Only tasks offered to my groups that nobody has taken"),
                    _flag("overdue", "Only tasks past their due date"),
                    {"name": "audit", "in": "query", "description": "Only this audit's tasks",
                     "schema": {"type": "integer", "minimum": 1}}, *_PAGING],
                "responses": {"200": _page_of("tasks", "Task", "One page of tasks, soonest due first"),
                              **_errors(400, 401)}}},
            "/tasks/{task_id}": {"get": {
                "summary": "One task, with the JSON Schema (draft 2020-12) of the data completing it takes",
                "parameters": [{"$ref": "#/components/parameters/TaskId"}],
                "responses": {"200": _answer("The task", {"allOf": [
                    {"$ref": "#/components/schemas/Task"},
                    {"type": "object", "required": ["schema"],
                     "properties": {"documentation": {"type": ["string", "null"]}, "schema": {"type": "object"}}}]}),
                    **_errors(401, 404)}}},
            "/tasks/{task_id}/complete": _task_action(
                "Complete a task with data valid against its `schema`. A task with a purpose-built page takes "
                "that page's records in the data too: `cases` (the nomination), `findings` and `return` (an "
                "agency's report), `rows` (the action tracker)",
                {"type": "object", "properties": {"data": {"type": "object"}}}, 400, 409),
            "/tasks/{task_id}/claim": _task_action("Take a task for yourself", None, 409),
            "/tasks/{task_id}/release": _task_action("Give a task you claimed back to its groups", None, 409),
            "/tasks/{task_id}/assign": _task_action(
                "Give a task to someone it is offered to, or back to its groups (Business Unit)",
                {"type": "object", "properties": {"assignee": {"type": ["string", "null"]}}}, 400, 403, 409),
            "/audits": {
                "get": {"summary": "The audits I may see, newest first",
                        "parameters": _PAGING,
                        "responses": {"200": _page_of("audits", "Audit", "One page of audits"),
                                      **_errors(400, 401)}},
                "post": {"summary": "Start an audit (Business Unit); its set-up is its first task",
                         "responses": {"201": _answer("The new audit", {"$ref": "#/components/schemas/Audit"}),
                                       **_errors(400, 401, 403)}}},
            "/audits/{audit_id}": {"get": {
                "summary": "One audit: phase, waiting deadlines, each agency's progress (agency staff: their own), "
                           "what holds it up",
                "parameters": [{"name": "audit_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _answer("The audit", {"allOf": [
                    {"$ref": "#/components/schemas/Audit"},
                    {"type": "object", "required": ["phase", "deadlines", "agencies", "held_up"], "properties": {
                        "phase": {"type": ["string", "null"]},
                        "deadlines": {"type": "array", "items": {
                            "type": "object", "properties": {"name": {"type": "string"},
                                                             "due": {"type": "string", "format": "date-time"}}}},
                        "agencies": {"type": "array", "items": {
                            "type": "object", "properties": {
                                "agency": {"type": "string"}, "completed": {"type": "integer"},
                                "open": {"type": "array", "items": {"type": "string"}},
                                "overdue": {"type": "boolean"}}}},
                        "held_up": {"type": "array", "description": "Open incidents: its automatic work waits for "
                                    "an admin's retry", "items": {"type": "object", "required": ["at", "since"],
                                    "properties": {"at": {"type": "string"},
                                                   "since": {"type": "string", "format": "date-time"},
                                                   "why": {"type": "string", "description": "partnership staff"}}}},
                        "stopped": {"type": ["object", "null"], "description": "Who suspended or terminated it",
                                    "properties": {"status": {"type": "string"}, "by": {"type": "string"},
                                                   "at": {"type": "string", "format": "date-time"},
                                                   "why": {"type": "string", "description": "partnership staff"}}},
                    }}]}),
                    **_errors(401, 404)}},
                "delete": {
                    "summary": "Delete a terminated test audit for good (admins); refused where a child's details "
                               "were read",
                    "parameters": [{"$ref": "#/components/parameters/AuditId"}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["confirm", "reason"],
                        "properties": {"confirm": {"type": ["integer", "string"]}, "reason": _REASON}}}}},
                    "responses": {"204": {"description": "Deleted"}, **_errors(400, 401, 403, 404, 409)}}},
            "/audits/{audit_id}/cases": {"get": {
                "summary": "The audit's cases by pseudonym (a child's details are read only in the pages)",
                "parameters": [{"$ref": "#/components/parameters/AuditId"}],
                "responses": {"200": _answer("The cases", {"type": "object", "properties": {"cases": {
                    "type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "pseudonym": {"type": "string"},
                        "nominated_by": {"type": "string"},
                        "nominated_at": {"type": "string", "format": "date-time"}}}}}}),
                    **_errors(401, 404)}}},
            "/audits/{audit_id}/reports/{agency}": {"get": {
                "summary": "One agency's report: its finding on each case and its return. Other agencies read it "
                           "once the Business Unit has shared the reports",
                "parameters": [{"$ref": "#/components/parameters/AuditId"},
                               {"name": "agency", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _answer("The report", {"type": "object", "properties": {
                    "agency": {"type": "string"}, "audit_id": {"type": "integer"},
                    "missing": {"type": "array", "items": {"type": "string"}},
                    "findings": {"type": "array", "items": {"type": "object"}},
                    "agency_return": {"type": ["object", "null"]}}}), **_errors(401, 404)}}},
            "/audits/{audit_id}/concerns": {
                "get": {"summary": "The audit's immediate concerns, newest first",
                        "parameters": [{"$ref": "#/components/parameters/AuditId"}],
                        "responses": {"200": _answer("The concerns", {"type": "object", "properties": {
                            "concerns": {"type": "array", "items": {"$ref": "#/components/schemas/Concern"}}}}),
                            **_errors(401, 404)}},
                "post": {"summary": "Raise an immediate concern: the Business Unit is told at once",
                         "parameters": [{"$ref": "#/components/parameters/AuditId"}],
                         "requestBody": {"required": True, "content": {"application/json": {"schema": {
                             "type": "object", "required": ["summary"], "properties": {
                                 "summary": {"type": "string", "minLength": 1, "maxLength": 4000},
                                 "case_id": {"type": ["integer", "null"]}}}}}},
                         "responses": {"201": _answer("The concern", {"$ref": "#/components/schemas/Concern"}),
                                       **_errors(400, 401, 404, 409)}}},
            "/audits/{audit_id}/deadlines": {
                "get": {"summary": "The audit's planned deadlines, and which can still be extended (Business Unit)",
                        "parameters": [{"$ref": "#/components/parameters/AuditId"}],
                        "responses": {"200": _answer("The deadlines", {"$ref": "#/components/schemas/Deadlines"}),
                                      **_errors(401, 404, 409)}},
                "post": {"summary": "Extend a deadline for the whole audit or one agency, with a reason; the reminder "
                                    "and the escalation follow it and the people affected are told",
                         "parameters": [{"$ref": "#/components/parameters/AuditId"}],
                         "requestBody": {"required": True, "content": {"application/json": {"schema": {
                             "type": "object", "required": ["deadline", "due_on", "reason"], "properties": {
                                 "deadline": {"type": "string", "enum": [d.key for d in DEADLINES]},
                                 "due_on": {"type": "string", "format": "date"},
                                 "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                                 "agency": {"type": ["string", "null"]},
                                 "move_later": {"type": "boolean"}}}}}},
                         "responses": {"200": _answer("The deadlines now",
                                                      {"$ref": "#/components/schemas/Deadlines"}),
                                       **_errors(400, 401, 404, 409)}}},
            "/processes/{process_key}/versions": {
                "get": {"summary": "A process's versions, newest first, with what changed in each (process owners)",
                        "parameters": [{"name": "process_key", "in": "path", "required": True,
                                        "schema": {"type": "string", "maxLength": 200}}],
                        "responses": {"200": _answer("The versions", {"type": "object", "properties": {
                            "versions": {"type": "array", "items": {"type": "object"}}}}), **_errors(401, 403, 404)}}},
            "/audits/{audit_id}/migration": _admin_post(
                "Preview or apply moving a running audit to a newer version (admins)", "AuditId",
                {"to_version": {"type": "integer", "minimum": 1}, "apply": {"type": "boolean"},
                 "reason": _REASON}, ("to_version",)),
            **{f"/audits/{{audit_id}}/{operation}": _admin_post(
                f"{operation.capitalize()} an audit, with a reason kept in its history (admins)", "AuditId",
                {"reason": _REASON}) for operation in ("suspend", "resume", "terminate", "retry")},
            "/audits/{audit_id}/data": _admin_post(
                "Set an audit's process variables, checked by the data rules, with a reason (admins); nothing runs "
                "until the next sweep or a retry", "AuditId", {"values": {"type": "object"}, "reason": _REASON},
                ("values", "reason")),
            "/audits/{audit_id}/back": _admin_post(
                "Reopen a task done before, with its earlier answers, undoing what came after (admins)", "AuditId",
                {"bpmn_id": {"type": "string"}, "reason": _REASON}, ("bpmn_id", "reason")),
            "/audits/{audit_id}/forward": _admin_post(
                "Go forward until a later task opens, skipping every open task on the way with no answers and "
                "firing the timers waited on; refused, changing nothing, when the audit cannot get there (admins)",
                "AuditId", {"bpmn_id": {"type": "string"}, "reason": _REASON}, ("bpmn_id", "reason")),
            "/tasks/{task_id}/skip": _admin_post(
                "Complete an open task with no answers and run its audit on (admins)", "TaskId", {"reason": _REASON}),
            "/health": {
                "get": {"summary": "Workers, backlogs, incidents and the database's size (admins)",
                        "responses": {"200": _answer("The system's health", {"type": "object"}),
                                      **_errors(401, 403)}}},
            "/processes/validate": {
                "post": {"summary": "Check model files as a deploy would, deploying nothing: errors and warnings at "
                                    "their elements (process owners)",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/ModelFiles"}}}},
                         "responses": {"200": _answer("What the checks found", {"type": "object", "properties": {
                             "ok": {"type": "boolean"},
                             "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                             "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}}),
                             **_errors(400, 401, 403, 413)}}},
            "/processes/deploy": {
                "post": {"summary": "Deploy model files as new versions with a note (process owners); a refused model "
                                    "is a 400 with its problems",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/ModelFiles"}}}},
                         "responses": {"201": _answer("The versions deployed", {"type": "object", "properties": {
                             "deployed": {"type": "array", "items": {"type": "object"}}}}),
                             **_errors(400, 401, 403, 413)}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {"TaskId": {"name": "task_id", "in": "path", "required": True,
                                      "schema": {"type": "integer"}},
                           "AuditId": {"name": "audit_id", "in": "path", "required": True,
                                       "schema": {"type": "integer"}}},
            "schemas": {
                "Task": task,
                "ModelFiles": {"type": "object", "required": ["files"], "properties": {
                    "files": {"type": "array", "maxItems": 20, "items": {
                        "type": "object", "required": ["name", "xml"],
                        "properties": {"name": {"type": "string"}, "xml": {"type": "string"}}}},
                    "note": {"type": "string", "maxLength": 2000}}},
                "Problem": {"type": "object", "required": ["message", "severity"], "properties": {
                    "message": {"type": "string"}, "element_id": {"type": ["string", "null"]},
                    "element_name": {"type": ["string", "null"]}, "file": {"type": ["string", "null"]},
                    "line": {"type": ["integer", "null"]}, "severity": {"type": "string",
                                                                       "enum": ["error", "warning"]}}},
                "Deadlines": {"type": "object", "required": ["audit_id", "agencies", "deadlines"], "properties": {
                    "audit_id": {"type": "integer"}, "agencies": {"type": "array", "items": {"type": "string"}},
                    "deadlines": {"type": "array", "items": {
                        "type": "object", "required": ["deadline", "name", "due", "extendable", "for_one_agency"],
                        "properties": {"deadline": {"type": "string"}, "name": {"type": "string"},
                                       "due": {"type": "string", "format": "date-time"},
                                       "extendable": {"type": "boolean"}, "for_one_agency": {"type": "boolean"}}}}}},
                "Audit": {"type": "object", "required": ["id", "title", "process_key", "status", "started_at"],
                          "properties": {"id": {"type": "integer"}, "title": {"type": ["string", "null"]},
                                         "process_key": {"type": "string"},
                                         "status": {"type": "string", "enum": ["running", "completed"]},
                                         "started_at": {"type": "string", "format": "date-time"},
                                         "ended_at": {"type": ["string", "null"], "format": "date-time"}}},
                "Me": {"type": "object", "required": ["username", "name", "groups", "agency"],
                       "properties": {"username": {"type": "string"}, "name": {"type": "string"},
                                      "groups": {"type": "array", "items": {"type": "string"}},
                                      "agency": {"type": ["string", "null"]},
                                      "email": {"type": ["string", "null"]}}},
                "Concern": {"type": "object", "required": ["id", "audit_id", "summary", "open"], "properties": {
                    "id": {"type": "integer"}, "audit_id": {"type": "integer"},
                    "pseudonym": {"type": ["string", "null"]}, "summary": {"type": "string"},
                    "raised_by": {"type": "string"}, "raised_agency": {"type": ["string", "null"]},
                    "raised_at": {"type": "string", "format": "date-time"}, "open": {"type": "boolean"},
                    "outcome": {"type": ["object", "null"]}}},
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"},
                                         "fields": {"type": "object", "additionalProperties": {"type": "string"}}}},
            },
        },
    }
