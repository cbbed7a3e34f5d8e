"""The programme on the web (/office/seminar) and its forms that forgive: titles, presenters,
minutes and order; warnings that ask again; dates without a time; refused values kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from portal import clock, plan
from portal.extensions import db
from portal.models import Assignment, Seminar
from portal.services import seminars

from .conftest import csrf_from


def _seminar() -> Seminar:
    db.session.expire_all()
    return db.session.scalars(select(Seminar)).one()


def _programme_data(app, **changes):
    """The programme form as the page fills it, with ``changes`` applied."""
    with app.app_context():
        seminar = _seminar()
        data = {
            "programme-opening_title": seminar.opening_title,
            "programme-opening_minutes": str(seminar.opening_minutes),
            "programme-closing_title": seminar.closing_title,
            "programme-closing_minutes": str(seminar.closing_minutes),
        }
        for index, a in enumerate(seminar.assignments):
            data[f"programme-items-{index}-assignment_id"] = str(a.id)
            data[f"programme-items-{index}-title"] = a.title
            data[f"programme-items-{index}-presenter"] = a.presenter_name
            data[f"programme-items-{index}-minutes"] = str(a.duration_minutes)
    data.update(changes)
    return data


def _post(client, data):
    token = csrf_from(client.get("/office/seminar").data)
    return client.post("/office/seminar", data={"csrf_token": token, **data})


def test_the_office_edits_titles_presenters_and_minutes_and_the_agenda_shows_times(
        app, client_as):
    office = client_as("office")
    response = _post(office, _programme_data(app, **{
        "programme-submit": "1",
        "programme-opening_title": "Khai mạc và giới thiệu đại biểu",
        "programme-opening_minutes": "10",
        "programme-items-1-title": "Tham luận đã sửa",
        "programme-items-1-presenter": "Trần Văn Trình Bày",
        "programme-items-1-minutes": "30",
    }))
    assert response.status_code == 302
    with app.app_context():
        seminar = _seminar()
        assert seminar.opening_title == "Khai mạc và giới thiệu đại biểu"
        assert seminar.opening_minutes == 10
        second = seminar.assignments[1]
        assert (second.title, second.presenter_name, second.duration_minutes) == (
            "Tham luận đã sửa", "Trần Văn Trình Bày", 30)
    html = office.get("/").data.decode()
    # 08:00 opening (10 min), paper 1 08:10-08:35, paper 2 08:35-09:05
    assert "Khai mạc và giới thiệu đại biểu" in html
    assert re.search(r"08:35</time>–<time>09:05", html)
    assert "Trần Văn Trình Bày" in html
    materials = office.get("/materials").data.decode()
    assert re.search(r"08:35</time>–<time>09:05", materials)
    # load-plan keeps what the Office edited
    with app.app_context():
        seminars.load_plan()
        assert _seminar().assignments[1].title == "Tham luận đã sửa"
        assert _seminar().assignments[0].title == plan.ASSIGNMENTS[0]["title"]


def test_moving_a_paper_down_swaps_it_with_the_next(app, client_as):
    office = client_as("office")
    with app.app_context():
        first = _seminar().assignments[0]
        first_id, first_unit = first.id, first.unit_id
    response = _post(office, _programme_data(app, **{"programme-move": f"{first_id}:down"}))
    assert response.status_code == 302
    with app.app_context():
        moved = db.session.get(Assignment, first_id)
        assert moved.position == 2 and moved.unit_id == first_unit
        assert _seminar().assignments[0].position == 1
        assert _seminar().assignments[0].id != first_id


def test_a_programme_past_the_session_end_asks_again_and_saves_on_confirmation(app, client_as):
    office = client_as("office")
    data = _programme_data(app, **{"programme-submit": "1",
                                   "programme-items-2-minutes": "45"})
    response = _post(office, data)
    assert response.status_code == 409
    html = response.data.decode()
    assert "11:50" in html and "11:30" in html  # ends at 11:50, the session at 11:30
    assert 'name="programme-confirm"' in html
    assert 'value="45"' in html  # what was typed is still there
    with app.app_context():
        assert _seminar().assignments[2].duration_minutes == 25  # nothing saved yet
    data.pop("programme-submit")
    response = _post(office, {**data, "programme-confirm": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert _seminar().assignments[2].duration_minutes == 45


def test_a_deadline_after_the_session_start_asks_again(app, client_as):
    office = client_as("office")
    response = _post(office, {"deadline-deadline": ["2021-05-18", "09:00"],
                              "deadline-submit": "1"})
    assert response.status_code == 409
    assert "18/05/2021 09:00" in response.data.decode()
    with app.app_context():
        assert clock.format_datetime(_seminar().deadline) == "15/05/2021 00:00"
    response = _post(office, {"deadline-deadline": ["2021-05-18", "09:00"],
                              "deadline-confirm": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert clock.format_datetime(_seminar().deadline) == "18/05/2021 09:00"


def test_a_date_without_a_time_means_midnight(app, client_as):
    office = client_as("office")
    for typed in (["20/04/2021"], ["2021-04-20", ""], ["20/04/2021 08:00"]):
        response = _post(office, {"deadline-deadline": typed, "deadline-submit": "1"})
        assert response.status_code == 302, response.data[:300]
        with app.app_context():
            expected = "20/04/2021 08:00" if "08:00" in typed[0] else "20/04/2021 00:00"
            assert clock.format_datetime(_seminar().deadline) == expected
    assert clock.parse_local("20/12/2026") == datetime(2026, 12, 19, 17, 0, tzinfo=UTC)


def test_a_refused_form_keeps_what_was_typed_and_marks_the_field(app, client_as):
    office = client_as("office")
    response = _post(office, {"session-start": ["2021-05-17", "08:00"],
                              "session-end": ["2021-05-17", "07:00"],
                              "session-venue": "Hội trường mới", "session-submit": "1"})
    assert response.status_code == 400
    html = response.data.decode()
    end = re.search(r'<input[^>]*id="session-end"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in end and 'aria-describedby="session-end-error"' in end
    assert 'id="session-end-error"' in html
    assert 'value="Hội trường mới"' in html
    assert 'value="07:00"' in html
    # the other forms show what is saved, not blanks
    deadline = re.search(r'<input[^>]*id="deadline-deadline"[^>]*>', html).group(0)
    assert 'value="2021-05-15"' in deadline
    assert re.search(r'id="capacity-capacity"[^>]*value="20"', html)


def test_an_empty_deadline_is_refused_at_its_field(app, client_as):
    office = client_as("office")
    response = _post(office, {"deadline-deadline": ["", ""], "deadline-submit": "1"})
    assert response.status_code == 400
    html = response.data.decode()
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="deadline-deadline"', html)
    assert "Trường này là bắt buộc" in html or "bắt buộc" in html


def test_an_extension_after_the_session_start_asks_again(app, client_as):
    office = client_as("office")
    token = csrf_from(office.get("/office/papers/3").data)
    data = {"csrf_token": token, "ext-deadline": ["2021-05-17", "10:00"],
            "ext-reason": "Đơn vị đi công tác"}
    response = office.post("/office/papers/3/extend", data={**data, "ext-submit": "1"})
    assert response.status_code == 409
    html = response.data.decode()
    assert "17/05/2021 10:00" in html and 'value="Đơn vị đi công tác"' in html
    with app.app_context():
        assert _seminar().assignments[2].deadline_extension is None
    response = office.post("/office/papers/3/extend", data={**data, "ext-confirm": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert clock.format_datetime(_seminar().assignments[2].deadline_extension) == \
            "17/05/2021 10:00"
    # a date alone is midnight
    response = office.post("/office/papers/4/extend", data={
        "csrf_token": token, "ext-deadline": "16/05/2021", "ext-reason": "Lý do",
        "ext-submit": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert clock.format_datetime(_seminar().assignments[3].deadline_extension) == \
            "16/05/2021 00:00"


def test_the_command_line_takes_a_date_alone_as_midnight(app):
    result = app.test_cli_runner().invoke(args=["seminar", "set-deadline", "20/04/2021"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert clock.format_datetime(_seminar().deadline, seconds=True) == "20/04/2021 00:00:00"
