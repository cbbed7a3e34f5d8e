"""Issue 12, point 8: the audit log as sentences with filters and a CSV export, people in
Vietnamese order, the waiting-list place on refusals, the landing page's next step, the
Office sub-menu's current page, the materials' ZIP only after release, make run's base URL,
and the booklet history's "Built by"."""

from __future__ import annotations

import csv
import io
import re
import subprocess

from portal.extensions import db
from portal.models import User
from portal.services import attendance, seminars
from portal.services.vietnamese_order import name_key, sort_people

from .conftest import ROOT, create_account, csrf_from, login, make_app, post_form


def test_people_sort_by_given_name_in_vietnamese_letter_order():
    names = ["Trần Văn Anh", "Lê Thị Ăn", "Nguyễn An", "Phạm Đức", "Hoàng Dũng",
             "Vũ Thị Ân", "Đỗ Bình", "Ngô Văn Anh", "Bùi Ê", "Lý Em", "Đặng Ơn", "Mai Ông"]
    assert sorted(names, key=name_key) == [
        "Nguyễn An", "Ngô Văn Anh", "Trần Văn Anh", "Lê Thị Ăn", "Vũ Thị Ân", "Đỗ Bình",
        "Hoàng Dũng", "Phạm Đức", "Lý Em", "Bùi Ê", "Mai Ông", "Đặng Ơn"]


def test_the_add_person_list_is_in_vietnamese_order(app, client_as):
    with app.app_context():
        for email, name in [("a@example.org", "Đỗ Văn Ân"), ("b@example.org", "Lê An"),
                            ("c@example.org", "Bùi Thị Đào"), ("d@example.org", "Trần Dung")]:
            create_account(email, name)
        addable = [u.full_name for u in attendance.addable_users(seminars.current_seminar())]
        assert addable == sort_people(addable, name=lambda n: n)
        assert addable.index("Lê An") < addable.index("Đỗ Văn Ân") < \
            addable.index("Trần Dung") < addable.index("Bùi Thị Đào")
    html = client_as("office").get("/office/attendees").data.decode()
    options = re.findall(r'<option value="\d+">([^<—(]+)', html)
    names = [o.strip() for o in options]
    assert names.index("Lê An") < names.index("Đỗ Văn Ân") < names.index("Trần Dung")


def _events(html: str) -> str:
    return re.search(r'<table[^>]*id="audit-events".*?</table>', html, re.S).group(0)


def test_the_audit_log_reads_as_sentences_with_filters_and_csv(app, client_as, people):
    office = client_as("office")
    post_form(office, "/office/seminar", {"capacity-capacity": "25",
                                          "capacity-submit": "1"})
    post_form(office, "/office/seminar", {"deadline-deadline": "10/05/2021",
                                          "deadline-submit": "1"})
    html = _events(office.get("/office/audit").data.decode())
    assert "Nguyễn Thị Văn Phòng đã đổi số chỗ từ 20 thành 25." in html
    assert "đã đổi hạn nộp từ 15/05/2021 00:00 sang 10/05/2021 00:00." in html
    assert "{" not in html
    # someone registering themselves reads as such
    with app.app_context():
        attendance.register(seminars.current_seminar(), db.session.get(User, people["member"]),
                            db.session.get(User, people["member"]))
    html = _events(office.get("/office/audit").data.decode())
    assert "Phạm Thành Viên đã đăng ký dự tọa đàm." in html
    # filter by action
    only = _events(office.get("/office/audit?action=seminar.set_capacity").data.decode())
    assert "số chỗ" in only and "hạn nộp từ" not in only
    # filter by person and day
    with app.app_context():
        office_id = db.session.scalar(db.select(User.id).where(
            User.email == "office@example.org"))
    mine = _events(office.get(f"/office/audit?person={office_id}").data.decode())
    assert "số chỗ" in mine and "Tọa đàm được tạo theo kế hoạch" not in mine
    other_day = _events(office.get("/office/audit?day=2000-01-01").data.decode())
    assert "số chỗ" not in other_day
    assert "số chỗ" in _events(office.get("/office/audit?day=not-a-day").data.decode())
    # CSV with the same filters, Excel-friendly
    response = office.get("/office/audit.csv?action=seminar.set_capacity")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][3] == "Sự việc"
    assert len(rows) == 2
    assert rows[1][3] == "Nguyễn Thị Văn Phòng đã đổi số chỗ từ 20 thành 25."
    # in English
    post_form(office, "/language", {"lang": "en", "next": "/office/audit"}, page_url="/")
    english = _events(office.get("/office/audit").data.decode())
    assert "Nguyễn Thị Văn Phòng changed the capacity from 20 to 25 seats." in english


def test_a_waitlisted_person_sees_their_place_on_every_refusal(app, client_as, people):
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 1)
        attendance.register(seminar, db.session.get(User, people["office"]))
        attendance.register(seminar, db.session.get(User, people["member"]))
    member = client_as("member")
    for url in ("/materials/2/pdf", "/materials/all.zip", "/office", "/papers/2"):
        response = member.get(url)
        assert response.status_code == 403, url
        assert "Bạn ở danh sách chờ, vị trí 1." in response.data.decode(), url
    # someone not waiting sees no place
    response = client_as("presenter").get("/office")
    assert response.status_code == 403
    assert 'id="waitlist-place"' not in response.data.decode()


def test_the_landing_page_shows_seats_left_and_the_next_step(app, client_as, people):
    anonymous = client_as(None).get("/").data.decode()
    assert "Còn 20/20 chỗ" in anonymous or re.search(r'id="seats-left" data-left="20"',
                                                     anonymous)
    assert "/login?next=/register" in anonymous and "/login?next=/papers" in anonymous
    presenter = client_as("presenter")
    with app.app_context():
        seminars.set_deadline(seminars.current_seminar(), "01/01/2099")
    html = presenter.get("/").data.decode()
    assert 'href="/papers/2"' in html and 'href="/register"' in html
    with app.app_context():
        attendance.register(seminars.current_seminar(), db.session.get(User, people["member"]))
    member = client_as("member").get("/").data.decode()
    assert 'id="seats-left" data-left="19"' in member
    assert "Bạn có tên trong danh sách dự tọa đàm." in member or 'href="/materials"' in member


def test_the_office_sub_menu_marks_the_current_page(client_as):
    office = client_as("office")
    for url, link in (("/office/seminar", "/office/seminar"), ("/office/audit", "/office/audit"),
                      ("/office/papers/2", "/office")):
        html = office.get(url).data.decode()
        nav = re.search(r'<nav class="subnav".*?</nav>', html, re.S).group(0)
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)
        assert current == [link], (url, current)


def test_the_zip_waits_for_the_release_of_the_booklet(client_as):
    html = client_as("office").get("/materials").data.decode()
    assert 'id="booklet-missing"' in html
    assert 'id="materials-zip"' not in html


def test_make_run_gives_the_portal_its_own_address():
    result = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert 'PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:8123}"' in result.stdout
    assert "--port 8123" in result.stdout


def test_the_booklet_history_says_who_built_it(client_as):
    # the column of the builds table: "Người tổng hợp", never "Người tải"
    html = client_as("office").get("/office/booklet").data.decode()
    assert "Người tải" not in html
    with open(ROOT / "templates" / "office" / "booklet.html", encoding="utf-8") as template:
        assert '_("Built by")' in template.read()



def test_a_too_large_upload_that_reached_the_server_leads_back_to_the_form(tmp_path):
    app = make_app(tmp_path, MAX_UPLOAD_MB=1)
    with app.app_context():
        create_account("presenter@example.org", "Trần Văn Trình Bày",
                       unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
        seminars.set_deadline(seminars.current_seminar(), "01/01/2099")
    client = app.test_client()
    assert login(client, "presenter@example.org").status_code == 302
    token = csrf_from(client.get("/papers/2").data)
    response = client.post("/papers/2", data={
        "csrf_token": token, "file": (io.BytesIO(b"%PDF-1.4\n" + b"x" * (2 * 1024 * 1024)),
                                      "lớn.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 413
    html = response.data.decode()
    assert "1 MB" in html
    assert '<a class="button primary" href="/papers/2">' in html
