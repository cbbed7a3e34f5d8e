"""The base form: WTForms' own messages ("This field is required." …) come from the portal's
catalogue, since WTForms ships no Vietnamese."""

from __future__ import annotations

import re

from flask_babel import get_translations, gettext, ngettext
from flask_wtf import FlaskForm
from wtforms import StringField

from . import clock


class _CatalogueTranslations:
    """WTForms asks for its messages here; they are looked up in portal/translations."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_TRANSLATIONS = _CatalogueTranslations()


class PortalForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _TRANSLATIONS


def _wtforms_messages() -> list[str]:  # pragma: no cover - never called
    """WTForms' messages used by the portal's forms, listed so that extraction puts them in
    the catalogue."""
    return [
        gettext("This field is required."),
        gettext("Not a valid integer value."),
        gettext("Not a valid choice."),
        gettext("Invalid Choice: could not coerce."),
        gettext("Number must be at least %(min)s."),
        gettext("Number must be at most %(max)s."),
        gettext("Number must be between %(min)s and %(max)s."),
        gettext("Field must be between %(min)d and %(max)d characters long."),
        gettext("Field must be equal to %(other_name)s."),
        ngettext("Field must be at least %(min)d character long.",
                 "Field must be at least %(min)d characters long.", 1),
        ngettext("Field cannot be longer than %(max)d character.",
                 "Field cannot be longer than %(max)d characters.", 1),
        gettext("The CSRF token is missing."),
        gettext("The CSRF token is invalid."),
        gettext("The CSRF token has expired."),
    ]


class LocalDateTimeInput:
    """The browser's date picker and time picker side by side, both named after the field, so
    that the server receives ``[date, time]``. Without a picker (an old browser, no JS needed
    either way) the date box takes typed text such as "20/12/2026" or "20/12/2026 08:00"."""

    def __call__(self, field, **kwargs):
        from markupsafe import Markup
        from wtforms.widgets import html_params

        date_value, time_value = field.picker_values()
        kwargs.setdefault("id", field.id)
        time_kwargs = {k: v for k, v in kwargs.items() if k.startswith("aria_")}
        time_label = gettext("Time (HH:MM, empty means 00:00)")
        date_params = html_params(type="date", name=field.name, value=date_value, **kwargs)
        time_params = html_params(type="time", name=field.name, value=time_value,
                                  id=f"{field.id}-time", aria_label=time_label,
                                  title=time_label, **time_kwargs)
        date_html, time_html = f"<input {date_params}>", f"<input {time_params}>"
        return Markup(f'<span class="datetime">{date_html} {time_html}</span>')


class LocalDateTimeField(StringField):
    """A date and time in Vietnam time. ``data`` is the portal's text form ("20/12/2026 08:00"
    or "20/12/2026"), parsed by the services with ``clock.parse_local``."""

    widget = LocalDateTimeInput()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        date_text = clock.normalise_input(valuelist[0])
        time_text = valuelist[1].strip() if len(valuelist) > 1 else ""
        if date_text and time_text and " " not in date_text:
            date_text = f"{date_text} {time_text}"
        elif date_text.endswith(" 00:00") and time_text:
            date_text = f"{date_text[:-6]} {time_text}"
        self.data = date_text

    def picker_values(self) -> tuple[str, str]:
        """What the two boxes show: the typed values after a refused POST, else the data."""
        if self.raw_data:
            date_raw = self.raw_data[0].strip()
            time_raw = self.raw_data[1].strip() if len(self.raw_data) > 1 else ""
            typed = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}:\d{2}))?$", date_raw)
            if typed:  # typed as text: show it in the pickers' own form
                day, month, year, at = typed.groups()
                date_raw = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
                time_raw = time_raw or (at.zfill(5) if at else "")
            return date_raw, time_raw
        text = self.data or ""
        try:
            instant = clock.parse_local(text)
        except (ValueError, OverflowError):
            return text, ""
        value = clock.input_value(instant)
        return value[:10], value[11:]
