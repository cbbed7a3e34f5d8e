from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter
from ..safe_url import safe_next
from ..security import (
    LOGIN_LIMIT_PER_ACCOUNT,
    LOGIN_LIMIT_PER_ADDRESS,
    failed_login,
    login_account_key,
    login_address_key,
)
from ..services import accounts
from ..services.errors import PortalError
from . import bp
from .forms import ChangePasswordForm, LoginForm


def _home_for(user) -> str:
    if user.is_office:
        return url_for("office.index")
    if user.is_presenter:
        return url_for("presenter.papers")
    return url_for("public.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_ACCOUNT, key_func=login_account_key, methods=["POST"],
               deduct_when=failed_login)
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, key_func=login_address_key, methods=["POST"],
               deduct_when=failed_login)
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or _home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            lang = session.get("lang")
            login_user(user, remember=form.remember.data)
            if lang:
                session["lang"] = lang
            flash(_("Welcome, %(name)s.", name=user.full_name), "success")
            return redirect(next_url or _home_for(user))
        flash(_("Wrong email or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
def logout():
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
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
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("public.index"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form), status
