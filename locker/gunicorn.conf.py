"""gunicorn settings of Locker, the one place for them: ``make run`` and the Docker image both serve with
``gunicorn -c locker/gunicorn.conf.py`` (run from the project root).

Environment overrides (command-line flags given after ``-c`` still win over everything here):

``WEB_BIND``
    address to listen on, ``127.0.0.1:8000`` (``make run`` sets it from ``HOST``/``PORT``, the image to
    ``0.0.0.0:8000``)
``WEB_WORKERS``, ``WEB_THREADS``
    worker processes (1: the in-process cache and rate-limit counters are shared by all requests; set
    ``REDIS_URL`` for more) and threads per worker (8)
"""

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


wsgi_app = "locker.wsgi:application"
bind = [os.environ.get("WEB_BIND", "127.0.0.1:8000")]
workers = _env_int("WEB_WORKERS", 1)
worker_class = "gthread"
threads = _env_int("WEB_THREADS", 8)
timeout = 120
accesslog = "-"
