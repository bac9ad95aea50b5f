"""Form values are checked as a form library would: typed, bounded, in plain words, never a crash."""

from __future__ import annotations

import pytest
import time_machine

from audit_driver import AuditDriver
from bpmn_audit.engine.views import FormFieldView
from bpmn_audit.models import ProcessInstance, db
from bpmn_audit.services import tasks
from bpmn_audit.services.errors import FormInvalid
from bpmn_audit.services.forms import DEFAULT_MAX_LONG, DEFAULT_MIN_LONG, MAX_CODES, MAX_TEXT, clean_form
from conftest import LAUNCH

CASES = FormFieldView(id="case_count", label="Number of cases nominated", type="long", required=True,
                      constraints={"required": None, "min": "1", "max": "12"})
AGENCIES = FormFieldView(id="agencies", label="Participating agencies (comma-separated)", type="string",
                         required=True, constraints={"required": None}, properties={"format": "codes"})


def error_for(form_field: FormFieldView, value, **options) -> str:
    """The message clean_form gives for one wrong value."""
    with pytest.raises(FormInvalid) as caught:
        clean_form([form_field], {form_field.id: value}, **options)
    assert list(caught.value.errors) == [form_field.id]
    return caught.value.errors[form_field.id]


def cleaned(form_field: FormFieldView, value, **options):
    return clean_form([form_field], {form_field.id: value}, **options)[form_field.id]


def long_field(**constraints) -> FormFieldView:
    return FormFieldView(id="weeks", label="Weeks", type="long", constraints=constraints)


def text_field(**constraints) -> FormFieldView:
    return FormFieldView(id="notes", label="Notes", type="string", constraints=constraints)


# Whole numbers

@pytest.mark.parametrize("value", ["٤", "²", "1_000", "1 2", "4.0", "1e3", "+4", "--4", "-", "0x10", 4.0, True,
                                   False, [4], {"n": 4}])
def test_a_whole_number_is_only_ascii_digits(value):
    assert error_for(CASES, value) == "Number of cases nominated must be a whole number, like 4"


@pytest.mark.parametrize(("value", "expected"), [("4", 4), (" 12 ", 12), ("01", 1), (7, 7)])
def test_whole_numbers_are_ints(value, expected):
    assert cleaned(CASES, value) == expected


@pytest.mark.parametrize("value", ["0", "-5", "13", "100000000", 100000000, "9" * 5_000, "-" + "9" * 5_000])
def test_a_whole_number_is_within_the_fields_min_and_max(value):
    assert error_for(CASES, value) == "Number of cases nominated must be between 1 and 12"


def test_one_bound_gives_its_own_message():
    assert error_for(long_field(max="12"), "13") == "Weeks must be 12 or fewer"
    assert error_for(long_field(min="1"), "0") == "Weeks must be 1 or more"
    assert cleaned(long_field(min="-3"), "-3") == -3


def test_a_whole_number_without_bounds_in_the_model_gets_the_default_range():
    assert cleaned(long_field(), str(DEFAULT_MAX_LONG)) == DEFAULT_MAX_LONG
    assert cleaned(long_field(), str(DEFAULT_MIN_LONG)) == DEFAULT_MIN_LONG
    assert error_for(long_field(), str(DEFAULT_MAX_LONG + 1)) == "Weeks must be 1,000,000,000 or fewer"
    assert error_for(long_field(), str(DEFAULT_MIN_LONG - 1)) == "Weeks must be -1,000,000,000 or more"
    assert error_for(long_field(), "0" * 10_000 + "1" * 4_400) == "Weeks must be 1,000,000,000 or fewer"


@pytest.mark.parametrize("constraints", [{"min": "one", "max": "12"}, {"min": None, "max": "12"},
                                         {"min": "1.5", "max": "12"}, {"min": "", "max": "12"}])
def test_a_bound_that_is_not_a_number_is_no_bound(constraints):
    field = long_field(**constraints)
    assert cleaned(field, "-20") == -20
    assert error_for(field, "13") == "Weeks must be 12 or fewer"


def test_a_min_above_the_max_is_a_model_error_and_no_bound():
    assert cleaned(long_field(min="12", max="1"), "5") == 5


# Text

@pytest.mark.parametrize("value", [{"a": 1}, ["police"], 4, 4.5, True])
def test_text_is_only_text(value):
    field = FormFieldView(id="agencies", label="Participating agencies (comma-separated)", type="string")
    assert error_for(field, value) == "Participating agencies must be text"
    if not isinstance(value, list):
        assert error_for(AGENCIES, value) == "Participating agencies must be text"


def test_codes_come_as_text_from_pages_or_as_a_json_array_from_the_api():
    assert cleaned(AGENCIES, ["police", "CSC"]) == cleaned(AGENCIES, "police, csc") == "police, csc"
    assert error_for(AGENCIES, ["police", 4]) == "Participating agencies must be a list of at most 30 codes"
    assert error_for(AGENCIES, ["police", "police"]) == "police is listed twice"


def test_text_length_constraints_are_honoured():
    assert error_for(text_field(maxlength="5"), "abcdef") == "Notes must be 5 characters or fewer"
    assert error_for(text_field(minlength="3"), "ab") == "Notes must be 3 characters or more"
    assert cleaned(text_field(minlength="3", maxlength="5"), " abc ") == "abc"
    assert cleaned(text_field(minlength="3"), "") is None  # blank and optional: nothing to measure


def test_text_is_capped_by_default():
    assert cleaned(text_field(), "x" * MAX_TEXT) == "x" * MAX_TEXT
    assert error_for(text_field(), "x" * (MAX_TEXT + 1)) == "Notes must be 20,000 characters or fewer"
    assert cleaned(text_field(maxlength="lots"), "x" * MAX_TEXT) == "x" * MAX_TEXT


# Yes/no, dates and choices

@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), ("Yes", True), ("on", True),
                                                 ("0", False), ("", False), (None, False)])
def test_yes_or_no_takes_a_bool_or_a_known_word(value, expected):
    field = FormFieldView(id="quorate", label="Quorate", type="boolean")
    assert cleaned(field, value) is expected


@pytest.mark.parametrize("value", ["maybe", 1, 0, ["yes"], {"yes": True}])
def test_yes_or_no_refuses_anything_else(value):
    assert error_for(FormFieldView(id="quorate", label="Quorate", type="boolean"), value) == "Quorate must be yes or no"


@pytest.mark.parametrize("value", ["2027-02-30", "20270331", "2027-W13-3", "２０２７-03-31", "31/03/2027", 20270331,
                                   ["2027-03-31"], "0000-01-01"])
def test_a_date_is_a_real_date_written_as_text(value):
    field = FormFieldView(id="launch_date", label="Launch date", type="date")
    assert error_for(field, value) == "Launch date must be a real date, like 2027-03-31"
    assert cleaned(field, " 2027-03-31 ") == "2027-03-31"


@pytest.mark.parametrize("value", ["huge", 1, ["standard"], {"standard": True}])
def test_a_choice_is_one_of_the_options(value):
    field = FormFieldView(id="complexity", label="Complexity", type="enum",
                          options=[("standard", "Standard"), ("1", "Compressed")])
    assert error_for(field, value) == "Choose one of: Standard, Compressed"
    assert cleaned(field, "1") == "1"


# Messages when the model names fields badly

def test_a_required_field_with_no_label_is_named_by_its_id():
    field = FormFieldView(id="case_count", label="", type="long", required=True)
    assert error_for(field, "") == "Enter case_count"
    assert error_for(field, "x") == "case_count must be a whole number, like 4"


def test_a_field_with_neither_label_nor_id_still_gets_a_message():
    field = FormFieldView(id="", label="", type="long", required=True)
    assert error_for(field, None) == "Enter this field"
    assert error_for(field, "x") == "This field must be a whole number, like 4"


def test_enter_keeps_capitals_that_belong_to_the_name():
    assert error_for(FormFieldView(id="a", label="ICB contact", type="string", required=True), "") == \
        "Enter ICB contact"
    assert error_for(FormFieldView(id="a", label="Audit title", type="string", required=True), " ") == \
        "Enter audit title"


# A list of agency codes

def test_codes_are_normalised():
    assert cleaned(AGENCIES, " Police,CSC , icb\nlocal-authority_2,, ") == "police, csc, icb, local-authority_2"


def test_a_code_may_be_listed_only_once():
    assert error_for(AGENCIES, "police, csc, Police") == "police is listed twice"
    assert error_for(AGENCIES, "csc,police,csc,csc") == "csc is listed 3 times"


def test_codes_are_letters_digits_underscores_and_hyphens():
    for value in ("police; csc", "police csc", "pólice", "٤", "<b>"):
        assert error_for(AGENCIES, value).startswith("Participating agencies must be codes made of letters")
    assert error_for(AGENCIES, "x" * 101) == \
        "Each code in participating agencies must be 100 characters or fewer"


def test_a_required_list_of_codes_needs_at_least_one():
    assert error_for(AGENCIES, " , ,") == "Enter participating agencies"
    optional = FormFieldView(id="extra", label="Extra agencies", type="string", properties={"format": "codes"})
    assert cleaned(optional, ",") is None


def test_the_number_of_codes_is_capped():
    many = ", ".join(f"agency{n}" for n in range(MAX_CODES))
    assert cleaned(AGENCIES, many) == many
    assert error_for(AGENCIES, many + ", one_more") == "Participating agencies must have 30 codes or fewer"
    assert error_for(AGENCIES, "a, b, c", max_codes=2) == "Participating agencies must have 2 codes or fewer"


# The form as a whole

def test_every_bad_field_is_reported_and_others_are_typed():
    fields = [CASES, AGENCIES, FormFieldView(id="launch_date", label="Launch date", type="date")]
    with pytest.raises(FormInvalid) as caught:
        clean_form(fields, {"case_count": "13", "agencies": {"police": 1}, "launch_date": "2027-01-04"})
    assert caught.value.errors == {"case_count": "Number of cases nominated must be between 1 and 12",
                                   "agencies": "Participating agencies must be text"}
    assert clean_form(fields, {"case_count": "4", "agencies": "police", "launch_date": "2027-01-04",
                               "other": "ignored"}) == {"case_count": 4, "agencies": "police",
                                                        "launch_date": "2027-01-04"}


# Through the shipped process

@pytest.mark.parametrize("case_count", ["100000000", "-5", 100000000])
def test_nominating_too_many_or_too_few_cases_is_refused_and_the_task_stays_open(app, people, deployed, case_count):
    with time_machine.travel(LAUNCH, tick=False):
        audit = AuditDriver(people)
        task = audit.open_tasks("nominate_cases")[0]
        version = db.session.get(ProcessInstance, audit.instance_id).version
        with pytest.raises(FormInvalid) as caught:
            tasks.complete_task(task.id, people["nominator"],
                                {"case_count": case_count, "agencies": "police", "nominating_system": "CSC record"})
    assert caught.value.errors == {"case_count": "Number of cases nominated must be between 1 and 12"}
    db.session.expire_all()
    assert db.session.get(ProcessInstance, audit.instance_id).version == version
    assert audit.open_tasks("nominate_cases")[0].status == "open"


def test_a_pattern_is_matched_whole_and_its_hint_is_the_message():
    reference = FormFieldView(id="ref", label="Referral reference", type="string",
                              constraints={"pattern": "MASH-[0-9]{4}-[0-9]{4}"},
                              properties={"hint": "MASH-2027-0113"})
    assert cleaned(reference, "MASH-2027-0113") == "MASH-2027-0113"
    assert error_for(reference, "MASH-2027-0113 and more") == "Referral reference must look like this: MASH-2027-0113"
    assert error_for(text_field(pattern="[0-9]+"), "12a") == "Notes is not in the form asked for"


def test_a_pattern_that_would_backtrack_for_ever_in_python_answers_at_once():
    # (a+)+$ against many a's and a b takes Python's re longer than the age of the universe; RE2 is linear
    assert error_for(text_field(pattern="(a+)+$"), "a" * 19_999 + "b") == "Notes is not in the form asked for"
