from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import PortalForm


class PersonForm(PortalForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    office = BooleanField(_l("Office (may manage the seminar and the accounts)"))
    submit = SubmitField(_l("Save"))


class NewPersonForm(PersonForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"inputmode": "email", "autocomplete": "off"})
    password = PasswordField(_l("Password (leave empty to generate one)"),
                             validators=[Optional(), Length(min=8, max=200)],
                             render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Create the account"))


class ImportForm(PortalForm):
    file = FileField(_l("CSV (UTF-8) or Excel (.xlsx) file"),
                     validators=[FileRequired(message=_l("Choose a file to import."))])
    submit = SubmitField(_l("Check the file"))


class ImportCommitForm(PortalForm):
    csv = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Import"))
