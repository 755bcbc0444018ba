"""gunicorn settings of Locker, the one place for them: ``make run`` and the Docker image both serve with
``gunicorn -c locker/gunicorn.conf.py`` (run from the project root).

Environment overrides (command-line flags given after ``-c`` still win over everything here):

``WEB_BIND``
    address to listen on, ``127.0.0.1:8000`` (``make run`` sets it from ``HOST``/``PORT``, the image to
    ``0.0.0.0:8000``)
``WEB_WORKERS``, ``WEB_THREADS``
    worker processes (1: the in-process cache and rate-limit counters are shared by all requests; set
    ``REDIS_URL`` for more) and threads per worker (32)
``WEB_CONNECTIONS``
    connections one worker holds at once, 1000 (idle, kept-alive or still sending their request head);
    the open-files limit is raised to fit them, or they are lowered to fit it
``WEB_KEEPALIVE``
    seconds an idle kept-alive connection stays open, 75
``WEB_HEADER_TIMEOUT``
    seconds a client has to send a request's line and headers, 20
``WEB_BODY_TIMEOUT``
    seconds a request body may stay silent between two reads, 60 (0: no bound)

The worker (``locker.gunicorn_worker``) reads request heads on its event loop, so clients that send them
slowly hold no thread; docs/deployment.md has the measurements behind these values.
"""

import os
import resource


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


wsgi_app = "locker.wsgi:application"
bind = [os.environ.get("WEB_BIND", "127.0.0.1:8000")]
workers = _env_int("WEB_WORKERS", 1)
worker_class = "locker.gunicorn_worker.HeadBufferingWorker"
# Every upload or download holds a thread for as long as its client takes (a slow one: minutes), and with all
# threads held short requests get no answer at all; idle threads cost nothing measurable, a transfer in flight
# about 4 MiB. 32 kept short requests at their unloaded latency beside 24 slow transfers, where 8 and 16
# threads stopped answering at 8 and 16 (docs/deployment.md, "Threads"; make bench BENCH=starve).
threads = _env_int("WEB_THREADS", 32)
worker_connections = _env_int("WEB_CONNECTIONS", 1000)
# Idle kept-alive connections wait on the worker's event loop and hold no thread. 75 s (nginx's default)
# outlasts the idle timeout of common clients and proxies (httpx 5 s, nginx upstream keep-alive 60 s, AWS
# load balancers 60 s), so they close first and never reuse a connection the server is closing; gunicorn's
# own 2 s broke clients that poll every 2 s.
keepalive = _env_int("WEB_KEEPALIVE", 75)
# gthread's timeout is the heartbeat of the worker's event loop, which beats at least once a second whatever
# its threads do: it kills a worker whose loop is stuck, never a long request (a 36 s download under a 10 s
# timeout finished). graceful_timeout stays gunicorn's 30 s (compose.yaml's stop_grace_period is
# longer). No max_requests: the worker's memory barely grows (3 MiB over 14,400 requests), and a recycle stops
# accepting until the old worker's last transfer ends (measured: new requests waited 43 s) and ends every
# live stream it holds (docs/deployment.md).
timeout = 120
accesslog = "-"
logger_class = "locker.logredact.RedactingGunicornLogger"  # public links' secrets never reach the access log
# No gunicornc control socket: Locker does not use it, and every instance of one user would share its path.
control_socket_disable = True

# Bounds of locker.gunicorn_worker (gunicorn has no setting for them), handed over in post_fork.
header_timeout = _env_seconds("WEB_HEADER_TIMEOUT", 20)
body_timeout = _env_seconds("WEB_BODY_TIMEOUT", 60)
if header_timeout <= 0 or body_timeout < 0:
    raise ValueError("WEB_HEADER_TIMEOUT must be positive and WEB_BODY_TIMEOUT positive or 0")


def post_fork(server, worker):
    worker.header_timeout = header_timeout
    worker.body_timeout = body_timeout


# Open files: many systems start services with a soft limit of 1024, below 1000 connections plus what a
# worker opens itself (database, blobs, logs). gunicorn's worker died on EMFILE when it ran out. The soft
# limit is raised as far as the hard one allows (in on_starting, inherited by the workers), and the
# connections are lowered if they still would not fit.
_FILES_BESIDES_CONNECTIONS = 256


def _open_files_wanted(connections: int) -> int:
    """The soft limit of open files to run with: room for ``connections``, within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + _FILES_BESIDES_CONNECTIONS
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


_open_files = _open_files_wanted(worker_connections)
if _open_files != resource.RLIM_INFINITY:
    worker_connections = max(threads, min(worker_connections, _open_files - _FILES_BESIDES_CONNECTIONS))


def on_starting(server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < _open_files:
        resource.setrlimit(resource.RLIMIT_NOFILE, (_open_files, hard))
