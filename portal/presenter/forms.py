from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField


class UploadForm(FlaskForm):
    file = FileField(_l("Your paper (.docx or PDF)"),
                     validators=[FileRequired(message=_l("Choose a file to upload."))],
                     render_kw={"accept": ".docx,.pdf,application/pdf,application/vnd."
                                "openxmlformats-officedocument.wordprocessingml.document"})
    submit = SubmitField(_l("Upload"))
