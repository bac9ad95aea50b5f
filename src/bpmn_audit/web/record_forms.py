"""The forms of the purpose-built pages: entering a case, an agency's finding on a case and its return,
raising an immediate concern, and saying why a child's details are read.

The fields carry the names the services take, so a service's FormInvalid messages go back onto them
(:func:`show_errors`); the forms themselves render with GOV.UK widgets and carry the CSRF token, and
check nothing else: the services do.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..services.agency_audits import GRADINGS


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


class PurposeForm(FlaskForm):
    """Why someone reads a child's identifying details (every read is logged with it)."""

    purpose = StringField("Why do you need the child's details?", widget=GovTextInput())
    show = SubmitField("Show the child's details", widget=GovSubmitInput())


def show_errors(form: FlaskForm, errors: Mapping[str, str]) -> list[str]:
    """Put a service's messages on the form's fields; return those that belong to no field."""
    left = []
    for key, message in errors.items():
        if key in form:
            form[key].errors = [*form[key].errors, message]
        else:
            left.append(message)
    return left
