"""The seminar of the plan, loaded exactly, idempotently; the seminar commands."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import Assignment, Seminar, Unit, User
from portal.services import attendance, seminars

from .conftest import ROOT

BRIEF = ROOT.parent / "shared" / "seed" / "BRIEF.md"


def brief_rows() -> list[tuple[int, str, str]]:
    """(position, unit, title) of the seven papers, read from BRIEF.md's table."""
    if not BRIEF.exists():
        pytest.skip("../shared/seed/BRIEF.md is not beside the project")
    rows = []
    for line in BRIEF.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (\d) \| [^|]+ \| ([^|]+) \| ([^|]+) \|$", line)
        if match:
            rows.append((int(match.group(1)), match.group(2).strip(), match.group(3).strip()))
    assert len(rows) == 7
    return rows


def brief_field(name: str) -> str:
    for line in BRIEF.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"| {name} |"):
            return line.split("|")[2].strip()
    raise AssertionError(name)


def test_plan_loaded_exactly_as_the_brief(app_ctx):
    seminar = seminars.current_seminar()
    assert seminar.title == brief_field("title")
    assert seminar.organiser == brief_field("organiser")
    assert seminar.purpose == brief_field("purpose (a)")
    assert seminar.content == brief_field("content (b)")
    assert seminar.capacity == 20
    assert seminar.deadline == datetime(2021, 5, 14, 17, 0, tzinfo=UTC)
    assert clock.format_datetime(seminar.session_start).startswith("17/05/2021")
    got = [(a.position, a.unit.name, a.title) for a in seminar.assignments]
    assert got == brief_rows()
    kinds = [a.kind.value for a in seminar.assignments]
    assert kinds == ["introductory_report"] + ["contributed_paper"] * 6
    six = seminar.assignments[5]
    assert six.note == ("để nâng cao chỉ số chấm điểm về việc duy trì, cải tiến ISO 9001 "
                        "theo quy định")
    assert "để nâng cao" not in six.title


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Seminar, Unit, Assignment, User))


def test_load_plan_is_idempotent_and_keeps_edits(app_ctx):
    before = _counts()
    seminar = seminars.current_seminar()
    attendance.set_capacity(seminar, 15)
    result = seminars.load_plan()
    assert result.created == []
    assert _counts() == before
    assert seminars.current_seminar().capacity == 15


def test_cli_load_plan_twice_then_show_json(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seminar", "load-plan"])
    second = runner.invoke(args=["seminar", "load-plan"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "nothing changed" in second.output
    shown = runner.invoke(args=["seminar", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["title"] == brief_field("title")
    assert data["organiser"] == "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi"
    assert data["deadline"] == "2021-05-15T00:00:00+07:00"
    assert datetime.fromisoformat(data["deadline"]) == datetime(2021, 5, 14, 17,
                                                                tzinfo=UTC)
    assert data["capacity"] == 20
    assert data["session_start"].startswith("2021-05-17T")
    assert [(a["position"], a["unit"], a["title"]) for a in data["assignments"]] == brief_rows()
    assert {a["kind"] for a in data["assignments"]} == {"introductory_report",
                                                        "contributed_paper"}


def test_demo_moves_the_timeline_and_makes_accounts(app):
    runner = app.test_cli_runner()
    fixed = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
    with clock.frozen(fixed):
        result = runner.invoke(args=["seminar", "load-plan", "--demo"])
    assert result.exit_code == 0, result.output
    assert "demo2021" in result.output
    with app.app_context():
        seminar = seminars.current_seminar()
        assert seminar.deadline > fixed
        assert clock.format_datetime(seminar.deadline) == "04/12/2026 00:00"
        assert clock.format_date(seminar.session_start) == "06/12/2026"
        users = db.session.scalars(select(User)).all()
        assert sum(u.is_office for u in users) == 1
        presenters = [u for u in users if u.unit and u.unit.assignments and not u.is_office]
        assert len(presenters) == 6
    again = runner.invoke(args=["seminar", "load-plan", "--demo"])
    assert again.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(users)


def test_set_deadline_in_vietnam_time(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seminar", "set-deadline", "20/05/2021 17:30"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert seminars.current_seminar().deadline == datetime(2021, 5, 20, 10, 30,
                                                               tzinfo=UTC)
    result = runner.invoke(args=["seminar", "set-deadline", "14/05/2021 23:59:59"])
    assert result.exit_code == 0
    with app.app_context():
        assert seminars.current_seminar().deadline == datetime(2021, 5, 14, 16, 59, 59,
                                                               tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2021-05-15", "31/02/2021 10:00", "15/05", "tomorrow"])
def test_set_deadline_refuses_bad_input(app, bad):
    result = app.test_cli_runner().invoke(args=["seminar", "set-deadline", bad])
    assert result.exit_code != 0
    assert "DD/MM/YYYY" in result.output or "ngày" in result.output


def test_set_capacity(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seminar", "set-capacity", "12"]).exit_code == 0
    with app.app_context():
        assert seminars.current_seminar().capacity == 12
    for bad in ("0", "-3", "many"):
        result = runner.invoke(args=["seminar", "set-capacity", bad])
        assert result.exit_code != 0, bad
    with app.app_context():
        assert seminars.current_seminar().capacity == 12


def test_a_command_on_a_database_not_set_up_asks_for_the_migration(app):
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            db.drop_all()
    runner = app.test_cli_runner()
    for command in (["seminar", "show"], ["seminar", "load-plan"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 1, command
        assert isinstance(result.exception, SystemExit), result.exception
        assert result.output.strip().splitlines() == [
            "Lỗi / Error: Cơ sở dữ liệu chưa được khởi tạo: hãy chạy “flask db upgrade” trước."]
    with app.app_context():
        db.create_all()
    assert runner.invoke(args=["seminar", "load-plan"]).exit_code == 0
    assert "Capacity: 20" in runner.invoke(args=["seminar", "show"]).output
