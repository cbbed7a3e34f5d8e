"""Accounts from the command line: create and import."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import policy
from portal.extensions import db
from portal.models import User


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_users_create(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=[
        "users", "create", "--email", "Truong.Phong@Example.org", "--name", "Đỗ Trưởng Phòng",
        "--unit", "Thanh tra Sở", "--position", "Chánh Thanh tra", "--password", "mật-khẩu-dài"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "truong.phong@example.org"))
        assert user.full_name == "Đỗ Trưởng Phòng"
        assert user.unit.name == "Thanh tra Sở"
        assert policy.role(user) == "presenter"
        assert user.check_password("mật-khẩu-dài")
        assert user.password_hash != "mật-khẩu-dài"


def test_users_create_office_with_prompted_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "vp@example.org", "--name", "Văn Phòng", "--office"],
        input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "vp@example.org")).is_office


def test_users_create_refusals(app):
    runner = app.test_cli_runner()
    ok = ["--name", "A", "--password", "longenough"]
    cases = [
        ["--email", "not-an-email", *ok],
        ["--email", "x@example.org", "--unit", "Phòng Không Tồn Tại", *ok],
        ["--email", "y@example.org", "--name", "B", "--password", "short"],
    ]
    for args in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0, args
        assert "Error" in result.output
    runner.invoke(args=["users", "create", "--email", "dup@example.org", *ok])
    again = runner.invoke(args=["users", "create", "--email", "DUP@example.org", *ok])
    assert again.exit_code != 0
    assert _count(app) == 1


def test_users_import(app, tmp_path):
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "\ufeffemail,name,position,unit,office,password\n"
        "a@example.org,Nguyễn Văn A,Trưởng phòng,Phòng Quản lý Khoa học,,\n"
        "b@example.org,Trần Thị B,Phó Chánh Văn phòng,Văn phòng Sở,yes,matkhau-b-123\n"
        "c@example.org,Lê Văn C,,,,\n",
        encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["users", "import", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "a@example.org" in result.output and "c@example.org" in result.output
    assert "b@example.org" not in result.output  # its password was given, none generated
    generated = [line.split()[1] for line in result.output.splitlines()
                 if line.strip().startswith("a@example.org")][0]
    with app.app_context():
        a = db.session.scalar(select(User).where(User.email == "a@example.org"))
        assert a.check_password(generated) and a.unit.name == "Phòng Quản lý Khoa học"
        assert a.must_change_password  # a generated password is changed at the first login
        b = db.session.scalar(select(User).where(User.email == "b@example.org"))
        assert b.is_office and b.check_password("matkhau-b-123")
        assert not b.must_change_password


def test_users_import_reads_an_excel_workbook(app, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["email", "name", "position", "unit", "office"])
    sheet.append(["x@example.org", "Võ Thị Xuân", "Chuyên viên", "Thanh tra Sở", "no"])
    sheet.append(["y@example.org", "Hồ Văn Yên", None, None, True])
    path = tmp_path / "people.xlsx"
    book.save(path)
    result = app.test_cli_runner().invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 accounts." in result.output
    with app.app_context():
        x = db.session.scalar(select(User).where(User.email == "x@example.org"))
        y = db.session.scalar(select(User).where(User.email == "y@example.org"))
        assert (x.full_name, x.position, x.unit.name, x.is_office) == (
            "Võ Thị Xuân", "Chuyên viên", "Thanh tra Sở", False)
        assert y.is_office and y.unit is None
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    refused = app.test_cli_runner().invoke(args=["users", "import", str(broken)])
    assert refused.exit_code != 0 and "Excel" in refused.output


def test_users_import_bad_row_names_its_line_and_imports_nothing(app, tmp_path):
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "email,name\n"
        "ok1@example.org,Một\n"
        "ok2@example.org,Hai\n"
        "broken,Ba\n",
        encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["users", "import", str(csv_file)])
    assert result.exit_code != 0
    assert "4" in result.output  # the line of the bad row
    assert _count(app) == 0


def test_users_import_needs_header(app, tmp_path):
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("a@example.org,A\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["users", "import", str(csv_file)])
    assert result.exit_code != 0
    assert _count(app) == 0
