from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from ..forms import PortalForm


class RegisterForm(PortalForm):
    submit = SubmitField(_l("Register"))


class CancelForm(PortalForm):
    submit = SubmitField(_l("Cancel my registration"))
