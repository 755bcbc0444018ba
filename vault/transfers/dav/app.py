"""The WsgiDAV application behind ``/dav/``, built once per process.

Authentication is done before it by the Django view (``vault.transfers.dav.auth``), so the middleware stack is
only WsgiDAV's error printer and request resolver: no WsgiDAV domain controller, directory browser or CORS.

Locks (class 2) and dead properties (PROPPATCH) live in WsgiDAV's in-memory storages, shared by every request
of the server process: Locker serves from one process by default (``WEB_WORKERS=1``, as its rate-limit counters
and caches already assume). They are lost on a restart, as locks are meant to be short-lived and clients
refresh them; docs/webdav.md says what that means for each client. With ``REDIS_URL`` (several processes or app
servers), both are in Redis instead (``vault.transfers.dav.shared``), so every server sees every lock.
"""

from __future__ import annotations

import threading

from django.conf import settings
from wsgidav.error_printer import ErrorPrinter
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from vault.transfers.dav.provider import LockerProvider
from vault.transfers.dav.shared import RedisPropertyManager, SharedLockStorage

MOUNT = "/dav"
BLOCK_SIZE = 1024 * 1024  # a PUT body is read in pieces of 1 MiB (what gunicorn reads per recv() at most)

_app: WsgiDAVApp | None = None
_lock = threading.Lock()


def config() -> dict:
    shared = bool(settings.REDIS_URL)
    return {
        "provider_mapping": {"/": LockerProvider()},
        "mount_path": MOUNT,
        "middleware_stack": [ErrorPrinter, RequestResolver],
        "lock_storage": SharedLockStorage() if shared else True,
        "property_manager": RedisPropertyManager() if shared else True,
        "block_size": BLOCK_SIZE,
        "verbose": 1,
        "logging": {"enable": False},
        "dir_browser": {"enable": False},
        "add_header_MS_Author_Via": True,
        # the view passes Django's PATH_INFO, already decoded from UTF-8
        "hotfixes": {"re_encode_path_info": False, "unquote_path_info": False},
    }


def dav_app() -> WsgiDAVApp:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = WsgiDAVApp(config())
    return _app
