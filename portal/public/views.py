from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import database, policy
from ..safe_url import safe_next
from ..services import accounts, attendance, programme
from ..services.seminars import find_seminar
from ..settings import LANGUAGES
from .blueprint import bp


@bp.get("/")
def index():
    seminar = find_seminar()
    return render_template("public/index.html", seminar=seminar,
                           agenda_items=programme.programme(seminar) if seminar else [],
                           next_step=_next_step(seminar) if seminar else None,
                           counts=attendance.counts(seminar) if seminar else None)


def _next_step(seminar) -> dict:
    """What this visitor does next: log in, register, upload, or run the Office."""
    if not current_user.is_authenticated:
        return {"kind": "anonymous"}
    registration = current_user.registration_for(seminar)
    return {
        "kind": "office" if policy.is_office(current_user) else "member",
        "registration": registration,
        "place": attendance.waitlist_position(registration),
        "papers": [a for a in seminar.assignments if a.unit_id == current_user.unit_id
                   and policy.may_submit(current_user, a)],
        "registration_open": seminar.registration_open,
    }


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            accounts.set_locale(current_user, lang)
    return redirect(safe_next(request.form.get("next")) or url_for("public.index"))


@bp.get("/healthz")
def healthz():
    database.ping()
    return {"status": "ok"}


def _content_in_the_catalogue() -> list[str]:  # pragma: no cover - never called
    """Seminar content that pages translate with ``_(…)`` (the organiser of the plan on the
    agency line above page titles), listed so that extraction keeps it in the catalogue."""
    return [gettext("Sở Khoa học và Công nghệ tỉnh Quảng Ngãi")]
