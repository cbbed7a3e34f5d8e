from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from ..forms import PortalForm


class UploadForm(PortalForm):
    file = FileField(_l("Your paper (.docx, .doc, .odt or PDF)"),
                     validators=[FileRequired(message=_l("Choose a file to upload."))],
                     render_kw={"accept": ".docx,.doc,.odt,.pdf,application/pdf,application/vnd."
                                "openxmlformats-officedocument.wordprocessingml.document,"
                                "application/msword,application/vnd.oasis.opendocument.text"})
    submit = SubmitField(_l("Upload"))
