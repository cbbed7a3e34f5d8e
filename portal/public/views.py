from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from ..extensions import db
from ..safe_url import safe_next
from ..services import programme
from ..services.seminars import find_seminar
from . import bp


@bp.get("/")
def index():
    seminar = find_seminar()
    return render_template("public/index.html", seminar=seminar,
                           agenda_items=programme.programme(seminar) if seminar else [])


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("public.index"))


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
