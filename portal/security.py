"""Security headers on every response, and the login rate limits."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Failed logins only: a successful one (a redirect) does not count against the limit.
LOGIN_LIMIT_PER_ACCOUNT = "5 per minute; 20 per hour"
LOGIN_LIMIT_PER_ADDRESS = "20 per minute; 200 per hour"


def login_account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


def login_address_key() -> str:
    return "login-address:" + (request.remote_addr or "unknown")


def failed_login(response: Response) -> bool:
    return response.status_code != 302


def init_security(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        if request.endpoint and not request.endpoint.endswith("static") \
                and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store" if response.mimetype == "text/html" \
                else "private, no-cache"
        return response
