from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class RegisterForm(FlaskForm):
    submit = SubmitField(_l("Register"))


class CancelForm(FlaskForm):
    submit = SubmitField(_l("Cancel my registration"))
