from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Assignment
from ..services.seminars import find_seminar
from . import bp


@bp.get("/papers")
def papers():
    seminar = find_seminar()
    assignments: list[Assignment] = []
    if seminar is not None and current_user.unit_id is not None:
        assignments = list(
            db.session.scalars(
                select(Assignment)
                .where(Assignment.seminar_id == seminar.id,
                       Assignment.unit_id == current_user.unit_id)
                .options(selectinload(Assignment.submissions))
                .order_by(Assignment.position)
            )
        )
    return render_template("presenter/papers.html", seminar=seminar, assignments=assignments)
