"""The programme: opening, the seven papers, closing, back to back over the plan's session."""

from portal import clock
from portal.extensions import db
from portal.models import Seminar
from portal.services.programme import overruns, programme


def test_the_plans_programme_fills_the_session_from_0800_to_1130(app_ctx):
    seminar = db.session.scalars(db.select(Seminar)).one()
    items = programme(seminar)
    assert [i.kind for i in items] == ["opening"] + ["paper"] * 7 + ["closing"]
    assert clock.format_time(items[0].starts_at) == "08:00"
    assert clock.format_time(items[-1].ends_at) == "11:30"
    assert [i.title for i in items[1:-1]] == [a.title for a in seminar.assignments]
    assert all(a.ends_at == b.starts_at for a, b in zip(items, items[1:], strict=False))
    assert not overruns(seminar)


def test_a_longer_paper_moves_every_later_item_and_can_overrun(app_ctx):
    seminar = db.session.scalars(db.select(Seminar)).one()
    seminar.assignments[2].duration_minutes = 40
    items = programme(seminar)
    assert clock.format_time(items[3].starts_at) == "09:05"
    assert clock.format_time(items[4].starts_at) == "09:45"
    assert overruns(seminar)
