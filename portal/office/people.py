"""Accounts on the web (/office/people): create one, import many (CSV or Excel, previewed
before anything is saved), edit, deactivate and reactivate, reset a password."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import confirm
from ..services import accounts, people
from ..services.errors import InvalidInput, NotFound, PortalError
from .blueprint import bp
from .forms import ActionForm
from .people_forms import ImportCommitForm, ImportForm, NewPersonForm, PersonForm

MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _unit_choices() -> list[tuple[int, str]]:
    return [(0, _("— no unit —"))] + [(unit.id, unit.name) for unit in people.units()]


def _new_form() -> NewPersonForm:
    form = NewPersonForm(prefix="new")
    form.unit_id.choices = _unit_choices()
    return form


def _list(status: int = 200, new_form=None, import_form=None, error: str | None = None):
    return render_template(
        "office/people.html", people=people.everyone(),
        new_form=new_form or _new_form(), import_form=import_form or ImportForm(prefix="imp"),
        error=error,
    ), status


def _person(user_id: int):
    try:
        return people.get(user_id)
    except NotFound:
        abort(404)


@bp.get("/people")
def people_list():
    return _list()


@bp.post("/people/create")
def people_create():
    form = _new_form()
    if not form.validate_on_submit():
        return _list(400, new_form=form)
    unit = None
    if form.unit_id.data:
        unit = next((u for u in people.units() if u.id == form.unit_id.data), None)
    try:
        user, password = accounts.create_user(accounts.NewUser(
            email=form.email.data, name=form.name.data, password=form.password.data or None,
            position=form.position.data or "", unit=unit.name if unit else None,
            office=form.office.data), actor=current_user)
    except PortalError as error:
        form.email.errors.append(str(error))
        return _list(error.status, new_form=form)
    generated = None if form.password.data else password
    return render_template("office/person_created.html", person=user, password=generated)


def _read_upload(storage) -> str:
    data = storage.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(_("The file is larger than %(n)d MB.", n=2))
    name = (storage.filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return accounts.xlsx_to_csv(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("The CSV is not UTF-8 text. In Excel, save it as "
                                      "“CSV UTF-8”, or upload the .xlsx file itself.")) from None


@bp.post("/people/import")
def people_import():
    """First step: check the file and show what would be imported; nothing is saved."""
    form = ImportForm(prefix="imp")
    if not form.validate_on_submit():
        return _list(400, import_form=form)
    try:
        text = _read_upload(form.file.data)
        rows = accounts.import_users(text, current_user, dry_run=True)
    except PortalError as error:
        form.file.errors.append(str(error))
        return _list(error.status, import_form=form)
    commit_form = ImportCommitForm(prefix="go")
    commit_form.csv.data = text
    return render_template("office/people_import.html", rows=rows, commit_form=commit_form,
                           filename=form.file.data.filename)


@bp.post("/people/import/commit")
def people_import_commit():
    """Second step ("Import"): the same checks again, then every row or none."""
    form = ImportCommitForm(prefix="go")
    if not form.validate_on_submit():
        return _list(400, error=_("The form was not complete. Please try again."))
    try:
        results = accounts.import_users(form.csv.data, current_user)
    except PortalError as error:
        return _list(error.status, error=str(error))
    return render_template("office/people_imported.html", results=results)


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
def people_edit(user_id: int):
    user = _person(user_id)
    form = PersonForm(prefix="p")
    form.unit_id.choices = _unit_choices()
    if request.method == "GET":
        form.name.data = user.full_name
        form.position.data = user.position
        form.unit_id.data = user.unit_id or 0
        form.office.data = user.is_office
    status = 200
    if form.validate_on_submit():
        try:
            people.update(user, name=form.name.data, position=form.position.data,
                          unit_id=form.unit_id.data or None, office=form.office.data,
                          actor=current_user)
        except PortalError as error:
            form.name.errors.append(str(error))
            status = error.status
        else:
            flash(_("%(name)s has been saved.", name=user.full_name), "success")
            return redirect(url_for(".people_list"))
    elif request.method == "POST":
        status = 400
    return render_template("office/person.html", person=user, form=form,
                           action_form=ActionForm(),
                           deactivate_question=deactivate_question(user),
                           reset_questions=reset_questions(user)), status


def deactivate_question(user) -> str:
    facts = people.deactivation_facts(user)
    parts = [_("Deactivate %(name)s: they can no longer log in, and every open session of "
               "theirs ends now.", name=user.full_name)]
    if facts.registration == "confirmed":
        parts.append(_("Their seat on the attendee list stays taken until you remove them."))
    elif facts.registration == "waitlisted":
        parts.append(_("They stay on the waiting list until you remove them."))
    if facts.last_of_unit:
        parts.append(_("They are the only active account of %(unit)s: no one there will get "
                       "reminders or receipts.", unit=user.unit.name))
    return " ".join(parts)


def reset_questions(user) -> dict[str, str]:
    return {
        "link": _("Send %(name)s a link to %(email)s to set a new password (valid %(hours)d "
                  "hours, once)? Their current password works until they use it.",
                  name=user.full_name, email=user.email, hours=people.reset_hours()),
        "generated": _("Give %(name)s a new generated password? Their current password stops "
                       "working at once, every session of theirs ends, and the new password is "
                       "shown to you only once; they must change it at their next login.",
                       name=user.full_name),
    }


@bp.route("/people/<int:user_id>/deactivate", methods=["GET", "POST"])
def people_deactivate(user_id: int):
    user = _person(user_id)
    if not confirm.confirmed():
        return confirm.ask(_("Deactivate an account"), deactivate_question(user),
                           url_for(".people_deactivate", user_id=user.id), _("Deactivate"),
                           url_for(".people_edit", user_id=user.id))
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        people.set_active(user, False, current_user)
    except PortalError as error:
        flash(str(error), "error")
        return redirect(url_for(".people_edit", user_id=user.id))
    flash(_("%(name)s is deactivated.", name=user.full_name), "success")
    return redirect(url_for(".people_list"))


@bp.post("/people/<int:user_id>/reactivate")
def people_reactivate(user_id: int):
    user = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    people.set_active(user, True, current_user)
    flash(_("%(name)s can log in again.", name=user.full_name), "success")
    return redirect(url_for(".people_list"))


@bp.route("/people/<int:user_id>/reset", methods=["GET", "POST"])
def people_reset(user_id: int):
    user = _person(user_id)
    how = request.values.get("how", "link")
    if how not in ("link", "generated"):
        how = "link"
    if not confirm.confirmed():
        return confirm.ask(_("Reset a password"), reset_questions(user)[how],
                           url_for(".people_reset", user_id=user.id),
                           _("Send the link") if how == "link" else _("Generate a password"),
                           url_for(".people_edit", user_id=user.id), hidden={"how": how})
    if not ActionForm().validate_on_submit():
        abort(400)
    if not user.active:
        flash(_("%(name)s is deactivated: reactivate the account first.", name=user.full_name),
              "error")
        return redirect(url_for(".people_edit", user_id=user.id))
    if how == "generated":
        password = people.reset_with_generated(user, current_user)
        return render_template("office/person_created.html", person=user, password=password,
                               reset=True)
    if people.send_reset_link(user, current_user):
        flash(_("A link to set a new password was mailed to %(email)s.", email=user.email),
              "success")
    else:
        flash(_("The mail to %(email)s could not be sent; see the mail page, or give a "
                "generated password instead.", email=user.email), "error")
    return redirect(url_for(".people_edit", user_id=user.id))
