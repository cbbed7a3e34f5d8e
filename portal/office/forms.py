from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, HiddenField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..forms import LocalDateTimeField, PortalForm
from ..models import MIN_CAPACITY


class DeadlineForm(PortalForm):
    deadline = LocalDateTimeField(_l("Deadline (date and time, Vietnam time)"),
                                  validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Save the deadline"))


class CapacityForm(PortalForm):
    capacity = IntegerField(_l("Capacity (seats)"),
                            validators=[DataRequired(),
                                        NumberRange(min=MIN_CAPACITY, max=10000)])
    submit = SubmitField(_l("Save the capacity"))


class SessionForm(PortalForm):
    start = LocalDateTimeField(_l("Session starts (date and time)"),
                               validators=[DataRequired(), Length(max=32)])
    end = LocalDateTimeField(_l("Session ends (date and time)"),
                             validators=[DataRequired(), Length(max=32)])
    venue = StringField(_l("Venue"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Save the session"))


class ProgrammeItemForm(PortalForm):
    class Meta:
        csrf = False

    assignment_id = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=1000)])
    presenter = StringField(_l("Presenter"), validators=[Length(max=200)])
    minutes = IntegerField(_l("Minutes"), validators=[InputRequired(),
                                                      NumberRange(min=1, max=600)])


class ProgrammeForm(PortalForm):
    opening_title = StringField(_l("Opening item"), validators=[DataRequired(), Length(max=300)])
    opening_minutes = IntegerField(_l("Minutes of the opening"),
                                   validators=[InputRequired(), NumberRange(min=0, max=600)])
    items = FieldList(FormField(ProgrammeItemForm))
    closing_title = StringField(_l("Closing item"), validators=[DataRequired(), Length(max=300)])
    closing_minutes = IntegerField(_l("Minutes of the closing"),
                                   validators=[InputRequired(), NumberRange(min=0, max=600)])
    submit = SubmitField(_l("Save the programme"))


class ExtensionForm(PortalForm):
    deadline = LocalDateTimeField(
        _l("New deadline for this paper (date and time, Vietnam time)"),
        validators=[DataRequired(), Length(max=32)])
    reason = StringField(_l("Reason (shown to the presenter)"),
                         validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Extend the deadline"))


class ActionForm(PortalForm):
    """A bare POST form (CSRF only) for one-click actions."""

    submit = SubmitField(_l("Confirm"))
