"""Irreversible actions ask first.

Without JavaScript: the action's button posts without ``confirm``, and the view answers with a
page that says what will happen (in numbers and names) and a button that posts again with
``confirm=1``; a GET of the action's URL shows the same page. With JavaScript
(``static/js/confirm.js``) the same sentence, carried by the form's ``data-confirm``, fills a
native ``<dialog>``, and the form is sent with ``confirm=1`` when the person agrees.
"""

from __future__ import annotations

from flask import render_template, request


def confirmed() -> bool:
    """True when the POST carries the confirmation."""
    return request.method == "POST" and request.form.get("confirm") == "1"


def ask(title: str, question: str, action_url: str, button: str, back_url: str,
        details: list[str] | None = None, hidden: dict | None = None, status: int = 200):
    """The confirmation page: what will happen, a button that does it, a way back."""
    return render_template("confirm.html", title=title, question=question, details=details or [],
                           action_url=action_url, button=button, back_url=back_url,
                           hidden=hidden or {}), status
