"""Forgotten passwords: a signed one-time link by mail (the same answer whether the address
is known or not, rate-limited), the page the link opens, and the rule that a generated
password is changed at the first login."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import throttle
from ..services import accounts, people
from ..services.errors import PortalError
from .blueprint import bp
from .forms import ForgotForm, ResetForm

# Every request for a link counts (the answer is the same whether the address exists or not),
# in the counts every worker shares: per address as for the login, and per (email, address).
FORGOT_LIMIT_PER_ACCOUNT = "3 per hour"

# Pages a person who must change their password may still open.
_OPEN_WHILE_CHANGING = {"auth.change_password", "auth.logout", "auth.login", "static",
                        "public.set_language", "public.healthz", "auth.reset_password"}


def _typed_email() -> str | None:
    return (request.form.get("email") or "").strip().lower()[:254] or None


def _always(response) -> bool:
    return True


@bp.before_app_request
def must_change_password():
    """While a generated password is in use, every page leads to the change-password page."""
    if request.endpoint in _OPEN_WHILE_CHANGING or request.endpoint is None:
        return None
    if not getattr(current_user, "is_authenticated", False):
        return None
    if getattr(current_user, "must_change_password", False):
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/forgot", methods=["GET", "POST"])
@throttle.credential_form("forgot", account=_typed_email, failed=_always,
                          per_account=FORGOT_LIMIT_PER_ACCOUNT)
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        user = accounts.find_by_email(form.email.data)
        if user is not None and user.active:
            people.send_reset_link(user)
        # The same answer either way: the page never tells whether an address has an account.
        return render_template("auth/forgot_sent.html", email=form.email.data.strip(),
                               hours=people.reset_hours())
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@throttle.credential_form("reset", account=lambda: None)
def reset_password(token: str):
    try:
        user = people.user_for_token(token)
    except PortalError as error:
        return render_template("auth/reset_invalid.html", reason=str(error)), 400
    form = ResetForm()
    status = 200
    if form.validate_on_submit():
        try:
            people.reset_with_token(token, form.new.data)
        except PortalError as error:
            form.new.errors.append(str(error))
            status = error.status
        else:
            flash(_("Your new password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/reset.html", form=form, user=user), status
