"""Every rule of the URL map against every kind of user: anonymous, member, presenter,
waitlisted, attendee, Office. A new route without an entry here fails the test, so every
route has an owner."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Registration, User
from portal.services import attendance, papers, seminars, submissions
from portal.services.booklet import build as booklet_service
from portal.services.booklet import editions

from .conftest import client_for, create_account, csrf_from, make_app
from .docmaker import pdf_bytes

ROLES = ["anonymous", "member", "presenter", "waitlisted", "attendee", "office"]
OK, LOGIN, FORBIDDEN = 200, "login", 403

EVERYONE = {role: OK for role in ROLES}
MEMBERS = {"anonymous": LOGIN, **{role: OK for role in ROLES[1:]}}
OFFICE = {"anonymous": LOGIN, **{role: FORBIDDEN for role in ROLES[1:-1]}, "office": OK}
FILES = {"anonymous": LOGIN, "member": FORBIDDEN, "presenter": OK, "waitlisted": FORBIDDEN,
         "attendee": OK, "office": OK}
OWN_PAPER = {"anonymous": LOGIN, "member": FORBIDDEN, "presenter": OK,
             "waitlisted": FORBIDDEN, "attendee": FORBIDDEN, "office": OK}

# An action that asks first: GET shows the question, or goes back when there is nothing to do.
OFFICE_OR_BACK = {**OFFICE, "office": 302}
# A forged reset link: the same refusal page for everyone.
BAD_LINK = {role: 400 for role in ROLES}

# endpoint -> (URL to try, GET expectations or None when GET is not served,
#              POST expectations or None when POST is not served)
ANON_ONLY_LOGIN = {"anonymous": OK, **{role: 302 for role in ROLES[1:]}}
RULES = {
    "static": ("/static/css/portal.css", EVERYONE, None),
    "public.index": ("/", EVERYONE, None),
    "public.healthz": ("/healthz", EVERYONE, None),
    "public.set_language": ("/language", None, EVERYONE),
    "auth.login": ("/login", ANON_ONLY_LOGIN, EVERYONE),
    "auth.logout": ("/logout", None, EVERYONE),
    "auth.change_password": ("/account/password", MEMBERS, MEMBERS),
    "presenter.papers": ("/papers", OWN_PAPER, None),
    "presenter.paper": ("/papers/2", OWN_PAPER, OWN_PAPER),
    "presenter.download_revision": ("/papers/2/revisions/1/download", OWN_PAPER, None),
    "presenter.print_pdf": ("/papers/2/print.pdf", OWN_PAPER, None),
    "presenter.print_preview": ("/papers/2/print/page-1.png", OWN_PAPER, None),
    "attendee.register": ("/register", MEMBERS, None),
    "attendee.register_post": ("/register", None, MEMBERS),
    # GET asks first (a confirmation page, or back to /register when not on the list).
    "attendee.cancel": ("/register/cancel", None, MEMBERS),
    "attendee.materials": ("/materials", MEMBERS, None),
    "attendee.materials_download": ("/materials/2/download", FILES, None),
    "attendee.materials_pdf": ("/materials/2/pdf", FILES, None),
    "attendee.materials_thumbnail": ("/materials/2/thumbnail.png", FILES, None),
    "attendee.materials_zip": ("/materials/all.zip", FILES, None),
    "attendee.materials_booklet": ("/materials/booklet.pdf", FILES, None),
    "attendee.materials_calendar": ("/materials/seminar.ics", FILES, None),
    "office.index": ("/office", OFFICE, None),
    "office.settings": ("/office/seminar", OFFICE, OFFICE),
    "office.audit_csv": ("/office/audit.csv", OFFICE, None),
    "office.paper": ("/office/papers/2", OFFICE, OFFICE),
    "office.extend": ("/office/papers/2/extend", None, OFFICE),
    "office.clear_extension": ("/office/papers/2/extend/clear", OFFICE_OR_BACK, OFFICE),
    "office.receive": ("/office/papers/2/revisions/1/receive", None, OFFICE),
    "office.audit_log": ("/office/audit", OFFICE, None),
    "office.attendees": ("/office/attendees", OFFICE, None),
    "office.attendees_csv": ("/office/attendees.csv", OFFICE, None),
    "office.attendees_pdf": ("/office/attendees.pdf", OFFICE, None),
    "office.attendees_add": ("/office/attendees/add", None, OFFICE),
    "office.attendees_remove": ("/office/attendees/1/remove", OFFICE, OFFICE),
    "office.attendees_promote": ("/office/attendees/999/promote", None, OFFICE),
    "office.attendees_to_waitlist": ("/office/attendees/999/waitlist", None, OFFICE),
    "office.attendees_self_registration": ("/office/attendees/self-registration", None,
                                           OFFICE),
    "office.booklet": ("/office/booklet", OFFICE, None),
    "office.booklet_progress": ("/office/booklet/progress", OFFICE, None),
    "office.booklet_file": ("/office/booklet/1.pdf", OFFICE, None),
    "office.booklet_preview": ("/office/booklet/1/page-1.png", OFFICE, None),
    "office.build_booklet": ("/office/booklet/build", None, OFFICE),
    "office.build_booklet_edition": ("/office/booklet/1/edition", None, OFFICE),
    "office.booklet_edition_file": ("/office/booklet/1/print-a4.pdf", OFFICE, None),
    "office.mail_log": ("/office/mail", OFFICE, None),
    "office.mail_resend": ("/office/mail/999/resend", None, OFFICE),
    "office.remind": ("/office/remind", OFFICE, OFFICE),
    "office.papers_zip": ("/office/papers.zip", OFFICE, None),
    "office.people_list": ("/office/people", OFFICE, None),
    "office.people_create": ("/office/people/create", None, OFFICE),
    "office.people_import": ("/office/people/import", None, OFFICE),
    "office.people_import_commit": ("/office/people/import/commit", None, OFFICE),
    "office.people_edit": ("/office/people/3", OFFICE, OFFICE),
    "office.people_deactivate": ("/office/people/3/deactivate", OFFICE, OFFICE),
    "office.people_reactivate": ("/office/people/3/reactivate", None, OFFICE),
    "office.people_reset": ("/office/people/3/reset", OFFICE, OFFICE),
    "auth.forgot_password": ("/forgot", EVERYONE, EVERYONE),
    "auth.reset_password": ("/reset/not-a-token", BAD_LINK, BAD_LINK),
    "office.checkin_page": ("/office/checkin", OFFICE, None),
    "office.checkin_state": ("/office/checkin/state.json", OFFICE, None),
    "office.checkin_check": ("/office/checkin/check", None, OFFICE),
    "office.checkin_walk_in": ("/office/checkin/walk-in", None, OFFICE),
    "office.attendees_xlsx": ("/office/attendees.xlsx", OFFICE, None),
    "office.attendees_arrivals_pdf": ("/office/attendees/arrivals.pdf", OFFICE, None),
    "office.minutes": ("/office/minutes", OFFICE, None),
    "office.minutes_post": ("/office/minutes", None, OFFICE),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("matrix"))
    with app.app_context():
        seminar = seminars.current_seminar()
        office = create_account("office@example.org", "Văn Phòng", unit="Văn phòng Sở",
                                office=True)
        create_account("presenter@example.org", "Trình Bày",
                       unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
        create_account("member@example.org", "Thành Viên")
        attendee = create_account("attendee@example.org", "Đại Biểu")
        waitlisted = create_account("waitlisted@example.org", "Chờ Chỗ")
        attendance.register(seminar, attendee)
        attendance.set_capacity(seminar, 1)
        attendance.register(seminar, waitlisted)
        for position in range(1, 8):
            submissions.upload(papers.get_assignment(seminar, position), office,
                               io.BytesIO(pdf_bytes(1, marker=f"P{position}")),
                               f"Tham luận {position}.pdf")
        final = booklet_service.build(seminar, office, draft=False)
        editions.build_edition(final, "a4", office)
        statuses = {r.user.email: r.status.value
                    for r in db.session.scalars(select(Registration))}
        assert statuses == {"attendee@example.org": "confirmed",
                            "waitlisted@example.org": "waitlisted"}
        assert db.session.scalar(select(User).where(User.email == "office@example.org"))
    return app


def _email(role: str) -> str | None:
    return None if role == "anonymous" else f"{role}@example.org"


def check(response, expected, role, method, url):
    where = f"{method} {url} as {role}: {response.status_code}"
    assert response.status_code < 500, where
    if expected == LOGIN:
        assert response.status_code == 302, where
        assert response.headers["Location"].startswith("/login"), where
    elif expected == FORBIDDEN:
        assert response.status_code == 403, where
    elif method == "GET":
        assert response.status_code == expected, where
    else:  # a POST that is allowed: any outcome but being refused entry
        assert response.status_code != 403, where
        assert not response.headers.get("Location", "").startswith("/login"), where


def test_every_rule_has_an_owner(world):
    endpoints = {rule.endpoint for rule in world.url_map.iter_rules()}
    assert endpoints == set(RULES), ("routes without an entry", endpoints ^ set(RULES))


@pytest.mark.parametrize("role", ROLES)
def test_get_matrix(world, role):
    client = client_for(world, _email(role))
    for _endpoint, (url, get_rules, _post) in RULES.items():
        if get_rules is None:  # POST only (the URL may serve GET under another endpoint)
            assert client.get(url).status_code < 500, url
            continue
        check(client.get(url), get_rules[role], role, "GET", url)


@pytest.mark.parametrize("role", ROLES)
def test_post_matrix(world, role):
    for _endpoint, (url, _get, post_rules) in RULES.items():
        if post_rules is None:
            continue
        client = client_for(world, _email(role))  # fresh: some POSTs log out or change state
        token = csrf_from(client.get("/").data)
        response = client.post(url, data={"csrf_token": token})
        check(response, post_rules[role], role, "POST", url)
