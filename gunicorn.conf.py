"""gunicorn settings, read automatically when gunicorn starts in this folder.

    gunicorn wsgi:app                     # 4 workers on 127.0.0.1:8000
    GUNICORN_WORKERS=8 gunicorn wsgi:app

An upload is checked and converted in a child process that may take up to about a minute for
a large Word file, so the worker timeout is longer than gunicorn's default of 30 s.
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
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Behind a reverse proxy on the same machine: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
