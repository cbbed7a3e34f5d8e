from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import policy, throttle
from ..safe_url import safe_next
from ..services import accounts
from ..services.errors import PortalError
from .blueprint import bp
from .forms import ChangePasswordForm, LoginForm


def _home_for(user) -> str:
    if policy.is_office(user):
        return url_for("office.index")
    if policy.shows_my_papers(user):
        return url_for("presenter.papers")
    return url_for("public.index")


@bp.route("/login", methods=["GET", "POST"])
@throttle.credential_form("login", account=lambda: request.form.get("email"))
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or _home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.full_name), "success")
            return redirect(next_url or _home_for(user))
        flash(_("Wrong email or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, next_url=next_url), status


def _start_session(user, remember: bool) -> None:
    """A new session at login: nothing of the old one (nor its CSRF token) carries over but
    the chosen language."""
    lang = session.get("lang")
    session.clear()
    login_user(user, remember=remember)
    if lang:
        session["lang"] = lang


@bp.post("/logout")
def logout():
    lang = session.get("lang")
    if current_user.is_authenticated:
        # Logging out ends every session and remember cookie of the account, not only this one.
        accounts.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@throttle.credential_form("password", account=lambda: str(current_user.id))
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.new.data)
        except PortalError as error:
            form.current.errors.append(str(error))
            status = 400
        else:
            # The change ended every session of the account; this browser gets a new one.
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") \
                in request.cookies
            _start_session(current_user._get_current_object(), remember=remembered)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("public.index"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form), status
