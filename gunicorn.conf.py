"""gunicorn settings, read automatically when gunicorn starts in this folder.

    gunicorn wsgi:app                     # 4 workers on 127.0.0.1:8000
    GUNICORN_WORKERS=8 gunicorn wsgi:app

An upload is checked and converted in a child process: a long Word report converted by
LibreOffice on a busy server may take up to 330 s (the child's limit), so the worker timeout is
longer than that (gunicorn's default of 30 s would kill the upload).

The app is created once in the master (``preload_app``) and the workers are forked from it, so
they start in milliseconds instead of each importing and building the app again. What must not
be shared across the fork is renewed in ``post_fork``.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Threaded workers: a slow client (an upload arriving at 1 byte/s) or a long document check
# holds one thread, while the worker's other threads go on serving.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# One request per connection (as the sync workers did): a client that reuses an idle
# connection at the moment the worker closes it would see its POST fail; behind a proxy,
# keep-alive to the portal brings nothing.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
# A long Word report may take minutes to convert (see convert.py's limits).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "360"))
graceful_timeout = 30
# Behind a reverse proxy on the same machine: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"

preload_app = True


def post_fork(server, worker):
    """In each new worker: drop the database connections inherited from the master (the
    parent keeps them; the worker opens its own), forget the master's document checker, and
    remove what a killed worker left in the upload folder (its .tmp/ files, and any paper it
    had put in place without committing its row), as create_app does at the start of the
    portal: a worker that replaces a killed one cleans up after it."""
    import sys

    wsgi = sys.modules.get("wsgi")
    app = getattr(wsgi, "app", None)
    if app is None:
        return
    from portal.extensions import db
    from portal.services.documents import checker
    from portal.services.integrity import sweep_at_start

    with app.app_context():
        db.engine.dispose(close=False)
    checker.forget_checker()
    sweep_at_start(app, app.extensions["storage"])
