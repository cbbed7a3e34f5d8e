from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange

from ..forms import PortalForm


class DeadlineForm(PortalForm):
    deadline = StringField(_l("Deadline (DD/MM/YYYY HH:MM, Vietnam time)"),
                           validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Save the deadline"))


class CapacityForm(PortalForm):
    capacity = IntegerField(_l("Capacity (seats)"),
                            validators=[DataRequired(), NumberRange(min=1, max=10000)])
    submit = SubmitField(_l("Save the capacity"))


class SessionForm(PortalForm):
    start = StringField(_l("Session starts (DD/MM/YYYY HH:MM)"),
                        validators=[DataRequired(), Length(max=32)])
    end = StringField(_l("Session ends (DD/MM/YYYY HH:MM)"),
                      validators=[DataRequired(), Length(max=32)])
    venue = StringField(_l("Venue"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Save the session"))


class ExtensionForm(PortalForm):
    deadline = StringField(_l("New deadline for this paper (DD/MM/YYYY HH:MM, Vietnam time)"),
                           validators=[DataRequired(), Length(max=32)])
    reason = StringField(_l("Reason (shown to the presenter)"),
                         validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Extend the deadline"))


class ActionForm(PortalForm):
    """A bare POST form (CSRF only) for one-click actions."""

    submit = SubmitField(_l("Confirm"))
