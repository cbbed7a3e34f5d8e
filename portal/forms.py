"""The base form: WTForms' own messages ("This field is required." …) come from the portal's
catalogue, since WTForms ships no Vietnamese."""

from __future__ import annotations

from flask_babel import get_translations, gettext, ngettext
from flask_wtf import FlaskForm


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
