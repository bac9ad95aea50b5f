"""The forms of the purpose-built pages: entering a case, an agency's finding on a case and its return,
raising an immediate concern, saying why a child's details are read, and extending a deadline.

The fields carry the names the services take, so a service's FormInvalid messages go back onto them
(:func:`show_errors`); the forms themselves render with GOV.UK widgets and carry the CSRF token, and
check nothing else: the services do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from ..services.agency_audits import GRADINGS
from ..services.task_records import MAX_ROWS, REVIEW_TYPE_NAMES, ROW_PARTS

SPARE_ROWS, FEWEST_ROWS = 3, 5
_ROW_KEY = re.compile(rf"rows-([0-9]{{1,3}})-({'|'.join(ROW_PARTS)})")


class CaseForm(FlaskForm):
    """One child entered into the case register."""

    name = StringField("Child's full name", widget=GovTextInput())
    date_of_birth = StringField("Date of birth", widget=GovTextInput())
    system_id = StringField("Identifier in the nominating system", widget=GovTextInput())
    other_id_label = StringField("Another identifier: what it is (optional)", widget=GovTextInput())
    other_id_value = StringField("Another identifier: its value (optional)", widget=GovTextInput())
    household_members = TextAreaField("Household members (optional)", widget=GovTextArea())
    add_case = SubmitField("Add the child to the case register", widget=GovSubmitInput())

    def service_values(self) -> dict[str, object]:
        """What ``cases.nominate_case`` takes."""
        label, value = (self.other_id_label.data or "").strip(), (self.other_id_value.data or "").strip()
        return {"name": self.name.data, "date_of_birth": self.date_of_birth.data, "system_id": self.system_id.data,
                "household_members": self.household_members.data,
                "other_ids": {label or "Other identifier": value} if value else {}}


class FindingForm(FlaskForm):
    """An agency's finding on one case."""

    involved = RadioField("Was your agency involved with this child?", widget=GovRadioInput(), validate_choice=False,
                          choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No involvement")])
    involvement_summary = TextAreaField("Summary of involvement", widget=GovTextArea())
    worked_well = TextAreaField("What worked well", widget=GovTextArea())
    areas_for_development = TextAreaField("Areas for development", widget=GovTextArea())
    voice_of_child = TextAreaField("The voice of the child", widget=GovTextArea())
    grading = RadioField("Grading", widget=GovRadioInput(), validate_choice=False,
                         choices=[SelectChoice(key, words) for key, words in GRADINGS.items()])
    recommendations = TextAreaField("Recommendations", widget=GovTextArea())
    save_finding = SubmitField("Save the finding", widget=GovSubmitInput())


class ReturnForm(FlaskForm):
    """An agency's return: its summary, its practitioner for the event, its senior manager's sign-off."""

    summary = TextAreaField("Agency summary", widget=GovTextArea())
    practitioner = SelectField("Practitioner to attend the practitioner event", widget=GovSelect(),
                               validate_choice=False)
    senior_name = StringField("Senior manager who signed off the report", widget=GovTextInput())
    senior_role = StringField("Their role", widget=GovTextInput())
    save_return = SubmitField("Save the agency return", widget=GovSubmitInput())


class ConcernForm(FlaskForm):
    """An immediate concern about a child's safety."""

    case_id = SelectField("Which child is it about?", widget=GovSelect(), validate_choice=False)
    summary = TextAreaField("What is the concern?", widget=GovTextArea())
    raise_concern = SubmitField("Raise the concern now", widget=GovSubmitInput())


class DayField(DateField):
    """A date as GOV.UK asks for one: day, month and year boxes (anything but three values is a wrong date)."""

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist:
            return
        self.data = None
        if len(valuelist) != 3:
            self.raw_data = ["", "", ""]  # the widget re-renders three boxes, whatever was posted
            raise ValueError("Enter a date as a day, a month and a year")
        if not "".join(valuelist).strip():
            raise ValueError(f"Enter the {self.label.text.lower()}")
        try:
            super().process_formdata([" ".join(part.strip() for part in valuelist)])
        except ValueError:
            raise ValueError("Enter a real date, as a day, a month and a year, like 27 3 2027") from None


class ExtensionForm(FlaskForm):
    """A deadline extended, for one agency or the whole audit, with a reason."""

    deadline = RadioField("Which deadline?", widget=GovRadioInput(), validate_choice=False)
    agency = SelectField("For whom?", widget=GovSelect(), validate_choice=False)
    due_on = DayField("New deadline", widget=GovDateInput(), format="%d %m %Y")
    move_later = BooleanField("Move the later deadlines, and the practitioner event if it is still to come, by as "
                              "many working days", widget=GovCheckboxInput())
    reason = TextAreaField("Why?", widget=GovTextArea())
    extend = SubmitField("Extend the deadline", widget=GovSubmitInput())


class PurposeForm(FlaskForm):
    """Why someone reads a child's identifying details (every read is logged with it)."""

    purpose = StringField("Why do you need the child's details?", widget=GovTextInput())
    show = SubmitField("Show the child's details", widget=GovSubmitInput())


class ActionRow(Form):
    """One action for the tracker (a plain Form: it sits inside the task's form, which carries the token)."""

    action = StringField("Action", widget=GovTextInput())
    source_finding = StringField("The finding it answers (optional)", widget=GovTextInput())
    review_type = SelectField("Review type", widget=GovSelect(), validate_choice=False, choices=[
        SelectChoice("", "Choose a review type"), *(SelectChoice(name, name) for name in REVIEW_TYPE_NAMES)])
    owner_agency = StringField("Agency that owns it", widget=GovTextInput())
    owner_person = StringField("Person who owns it (optional)", widget=GovTextInput())
    due_date = StringField("Due date", widget=GovTextInput())


class ActionRows(Form):
    """The action tracker's rows, as the page shows them: those filled in and a few spare."""

    rows = FieldList(FormField(ActionRow), min_entries=FEWEST_ROWS, max_entries=MAX_ROWS)

    def values(self) -> list[dict[str, str]]:
        """The rows as ``task_records`` takes them (blank rows are skipped there)."""
        return [{key: row[key].data for key in ROW_PARTS} for row in self.rows]

    def as_text(self) -> str:
        """The rows as the model's ``actions`` lines, unchecked (for a draft)."""
        return "\n".join(" | ".join((value or "").replace("|", "/").replace("\n", " ") for value in row.values())
                         for row in self.values() if any(row.values()))


def action_rows(formdata: object | None, draft_text: str | None) -> ActionRows:
    """The rows posted (``formdata``), or those of a draft's ``actions`` text, with spare rows to fill."""
    if formdata is not None:  # read by hand: WTForms' FieldList re-reads posted rows into its padding
        posted: dict[int, dict[str, str]] = {}
        for key, value in formdata.items():
            match = _ROW_KEY.fullmatch(key)
            if match and int(match[1]) < MAX_ROWS:
                posted.setdefault(int(match[1]), {})[match[2]] = value
        rows = [posted[index] for index in sorted(posted)]
    else:
        rows = [dict(zip(ROW_PARTS, [part.strip() for part in line.split("|")], strict=False))
                for line in (draft_text or "").splitlines() if line.strip()][:MAX_ROWS - SPARE_ROWS]
    return ActionRows(data={"rows": rows + [{}] * max(SPARE_ROWS, FEWEST_ROWS - len(rows))})


def show_errors(form: FlaskForm, errors: Mapping[str, str]) -> list[str]:
    """Put a service's messages on the form's fields; return those that belong to no field."""
    left = []
    for key, message in errors.items():
        if key in form:
            form[key].errors = [*form[key].errors, message]
        else:
            left.append(message)
    return left


def show_row_errors(rows: ActionRows | None, errors: Mapping[str, str]) -> None:
    """Put ``rows.N.part`` messages on the action rows' fields."""
    for key, message in errors.items():
        parts = key.split(".")
        if rows is not None and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows.rows):
            row = rows.rows[int(parts[1])]
            if parts[2] in row.form:
                row.form[parts[2]].errors = [*row.form[parts[2]].errors, message]
