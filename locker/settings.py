"""Locker settings: one module, read from the environment.

Every value below can be set by an environment variable (or a line in an
optional ``.env`` file in the project root). Nothing secret is committed:
``SECRET_KEY`` and the JWT signing key are generated into ``LOCKER_DATA_DIR``
on first start when the environment does not provide them.
"""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines of an optional .env file; the real environment wins."""
    if not path.is_file():
        return
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


LOCKER_DATA_DIR = Path(os.environ.get("LOCKER_DATA_DIR", BASE_DIR / "var")).resolve()
LOCKER_DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
try:  # database, secrets and blobs: for this user only (a directory made before may be looser)
    if LOCKER_DATA_DIR.stat().st_mode & 0o077 and LOCKER_DATA_DIR.stat().st_uid == os.geteuid():
        LOCKER_DATA_DIR.chmod(0o700)
except OSError:
    pass


def _secret_from_env_or_file(env_name: str, filename: str) -> str:
    """Return a secret from the environment, else from a file in the data dir.

    The file is created (mode 0600) with a fresh random value the first time.
    Several app servers must share these values: set them in the environment.
    """
    value = os.environ.get(env_name)
    if value:
        return value
    path = LOCKER_DATA_DIR / filename
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value


SECRET_KEY = _secret_from_env_or_file("SECRET_KEY", "secret_key")
# Signs JWTs and, through HKDF, encrypts the session secret carried inside
# them. Kept apart from SECRET_KEY (SECURITY.md, JWT).
JWT_SIGNING_KEY = _secret_from_env_or_file("JWT_SIGNING_KEY", "jwt_signing_key")
# Seals two-factor secrets and keys backup-code digests (accounts.twofactor), through HKDF; outside the database so
# that a dump alone cannot produce codes. SECRET_KEY unless set: changing it makes users enrol again.
LOCKER_TOTP_KEY = os.environ.get("LOCKER_TOTP_KEY") or SECRET_KEY
LOCKER_TOTP_ISSUER = os.environ.get("LOCKER_TOTP_ISSUER", "Locker")

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS: on by default when DEBUG is off; LOCKER_HTTPS=0 for a plain-HTTP
# local server (``make run`` sets it).
LOCKER_HTTPS = env_bool("LOCKER_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = LOCKER_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SESSION_COOKIE_SECURE = LOCKER_HTTPS
CSRF_COOKIE_SECURE = LOCKER_HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if LOCKER_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = LOCKER_HTTPS
SECURE_HSTS_PRELOAD = LOCKER_HTTPS
LOCKER_BEHIND_PROXY = env_bool("LOCKER_BEHIND_PROXY", False)
if LOCKER_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies stand between clients and this server, each appending the address it saw to
# X-Forwarded-For. The client's address is the entry the outermost trusted proxy appended (counted from the
# right); everything left of it is whatever the client sent, and is never trusted (locker.http.client_ip).
LOCKER_PROXY_HOPS = env_int("LOCKER_PROXY_HOPS", 1 if LOCKER_BEHIND_PROXY else 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Database sessions kept under a hash of their key: a copy of the table names no session (accounts.session_store).
SESSION_ENGINE = "accounts.session_store"
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14)
CSRF_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "locker.apps.LockerConfig",  # first: its management commands replace Django's (changepassword)
    "locker.apps.LockerAdminConfig",  # django.contrib.admin with accounts.admin_site.LockerAdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "accounts",
    "activity",
    "vault",
    "chats",
]

MIDDLEWARE = [
    "vault.transfers.upload_handler.UploadCleanupMiddleware",  # first: also after a refused CSRF check or an error
    "django.middleware.security.SecurityMiddleware",
    "locker.middleware.MalformedRequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.UnlockSessionMiddleware",  # a browser whose unlock session is gone is signed out
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "locker.middleware.ThirdPartyPagesCSPMiddleware",
]

ROOT_URLCONF = "locker.urls"
WSGI_APPLICATION = "locker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# How long an export built in the background waits to be downloaded (docs/export.md).
LOCKER_EXPORT_KEEP_HOURS = env_int("LOCKER_EXPORT_KEEP_HOURS", 24)

# How long an unfinished resumable upload (tus, /api/v1/uploads/) keeps its bytes and its quota reservation
# after its last change (docs/uploads.md); housekeeping (manage.py vault_purge_trash) removes expired ones.
LOCKER_UPLOAD_EXPIRE_HOURS = env_int("LOCKER_UPLOAD_EXPIRE_HOURS", 24)

# The largest archive POST /api/v1/me/import takes, and the most its members may unpack to.
LOCKER_IMPORT_MAX_BYTES = env_int("LOCKER_IMPORT_MAX_BYTES", 50 * 1024**3)

# While an instance backup runs, blob deletions wait in a list here (vault.transfers.blobs, docs/backup.md).
LOCKER_BACKUP_HOLDS_DIR = Path(
    os.environ.get(
        "LOCKER_BACKUP_HOLDS_DIR", Path(os.environ.get("LOCKER_SHARED_DIR", LOCKER_DATA_DIR)) / "backup-holds"
    )
)

# Database: SQLite in the data dir unless DATABASE_URL says otherwise. SQLite
# runs in WAL mode with IMMEDIATE transactions and a busy timeout, so that
# concurrent writers queue instead of failing with "database is locked".
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "locker.sqlite",  # Django's, keeping the planner's statistics fresh
            "NAME": LOCKER_DATA_DIR / "locker.sqlite3",
            # Each server thread keeps its connection: opening one (and its PRAGMAs) per request
            # cost about a tenth of a small download.
            "CONN_MAX_AGE": env_int("SQLITE_CONN_MAX_AGE", 600),
            "CONN_HEALTH_CHECKS": True,
        }
    }
if DATABASES["default"]["ENGINE"] in ("django.db.backends.sqlite3", "locker.sqlite"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
    # Tests use a real SQLite file (not :memory:), next to the data dir.
    DATABASES["default"]["TEST"] = {"NAME": str(LOCKER_DATA_DIR / "test.sqlite3")}
    # DRF imports django.contrib.postgres.fields whenever psycopg is installed (rest_framework.compat),
    # which loads psycopg with its bundled libpq and OpenSSL: 9 MiB of every worker's memory that a
    # SQLite deployment never uses. Marking the module absent makes DRF skip it (it catches ImportError).
    sys.modules.setdefault("django.contrib.postgres.fields", None)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Cache and rate-limit store: Redis when REDIS_URL is set (shared by several
# app servers), otherwise this process's memory (``make run`` serves with one
# worker process and threads, so the counters are shared by all requests).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "locker"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "locker"}}
    # django-ratelimit warns that a per-process cache is not shared between
    # processes; with one gunicorn worker process it is exactly what we want.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
RATELIMIT_USE_CACHE = "default"
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)

PASSWORD_HASHERS = [
    "accounts.passwords.Argon2PasswordHasher",  # Django's, within the process's Argon2 slots
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": LOCKER_DATA_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Encrypted blobs, outside any web root; names are <owner uuid>/<random>.
    "vault": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": Path(os.environ.get("LOCKER_BLOB_DIR", LOCKER_DATA_DIR / "blobs")),
            "directory_permissions_mode": 0o700,
            "file_permissions_mode": 0o600,
        },
    },
}
# Where the encrypted blobs live (docs/deploy.md, "Where blobs live"): "local", a directory (LOCKER_BLOB_DIR; a
# shared file system when several app servers run), or "s3", a bucket of any S3-compatible object store through
# django-storages. Blobs are ciphertext under random names either way (vault.transfers.blobs is the only door).
LOCKER_BLOB_STORAGE = os.environ.get("LOCKER_BLOB_STORAGE", "local").strip().lower()
if LOCKER_BLOB_STORAGE == "s3":
    from botocore.config import Config as _S3Config

    STORAGES["vault"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["LOCKER_S3_BUCKET"],
            "endpoint_url": os.environ.get("LOCKER_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("LOCKER_S3_REGION") or None,
            # the standard AWS variables (and instance roles) when these are not set
            "access_key": os.environ.get("LOCKER_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("LOCKER_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("LOCKER_S3_PREFIX", "").strip("/"),
            "file_overwrite": True,  # names are random: never probe for a free one
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": False,  # no presigned URLs: blobs are served decrypted by Locker only
            # a store that stops answering fails the request within a minute instead of holding its thread
            "client_config": _S3Config(
                s3={"addressing_style": os.environ.get("LOCKER_S3_ADDRESSING_STYLE", "path")},
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=env_int("LOCKER_S3_READ_TIMEOUT", 60),
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=env_int("LOCKER_S3_CONNECTIONS", 64),
            ),
        },
    }
elif LOCKER_BLOB_STORAGE != "local":
    raise ValueError(f"LOCKER_BLOB_STORAGE must be 'local' or 's3', not {LOCKER_BLOB_STORAGE!r}")
# Files that every app server must see when several serve one instance: resumable uploads' partial blobs (when
# blobs are in an object store; with "local" they grow in place in the blob directory) and the backup's hold on
# deletions. A shared volume mounted in every replica; by default in the data directory.
LOCKER_SHARED_DIR = Path(os.environ.get("LOCKER_SHARED_DIR", LOCKER_DATA_DIR)).resolve()
LOCKER_UPLOAD_DIR = Path(os.environ.get("LOCKER_UPLOAD_DIR", LOCKER_SHARED_DIR / "uploads"))

# Request bodies. JSON and form bodies are small; file uploads (vault) have
# their own streaming limits.
LOCKER_MAX_JSON_BODY = env_int("LOCKER_MAX_JSON_BODY", 64 * 1024)
LOCKER_MAX_NOTE_BYTES = env_int("LOCKER_MAX_NOTE_BYTES", 1024 * 1024)
# Django's cap on a body read into memory (DRF reads JSON bodies whole): room for the longest note,
# whose endpoints allow twice its size in JSON (escapes); every other JSON endpoint stops at LOCKER_MAX_JSON_BODY.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * LOCKER_MAX_NOTE_BYTES + 64 * 1024)
# Every uploaded file is encrypted while it streams in; no plaintext in /tmp or in memory.
FILE_UPLOAD_HANDLERS = ["vault.transfers.upload_handler.EncryptingUploadHandler"]
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DATA_UPLOAD_MAX_NUMBER_FILES", 100)
# Form fields in one body: an archive request (a page's form post) names up to 1,000 files and folders, a name and
# its CSRF token.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 1024)

# Content-Security-Policy (django-csp): no inline script anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.UnlockingJWTAuthentication",
        "accounts.authentication.AppPasswordAuthentication",
        "accounts.authentication.UnlockingSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "locker.parsers.LimitedJSONParser",
        "locker.parsers.StrictFormParser",
        "vault.transfers.upload_handler.UploadMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "locker.negotiation.StrictFormatNegotiation",
    "DEFAULT_PAGINATION_CLASS": "locker.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "locker.schema.AutoSchema",
    "EXCEPTION_HANDLER": "locker.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Locker API",
    "DESCRIPTION": "Self-hosted personal data locker: everything at rest is encrypted with keys only the user unlocks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body's schema says which fields it requires (a message status), not "none" as a Patched* copy would.
    "COMPONENT_SPLIT_PATCH": False,
    # Offline: Swagger UI must not call the public validator service.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "locker.schema.document_shared_errors",
        "locker.schema.blank_as_any_of",
    ],
}

# Locker's own settings.
# Argon2id parameters for deriving the key that wraps a user's data key
# (SECURITY.md property 1: at least m=64 MiB, t=3, p=4). They are stored with
# every wrap, so raising them later re-wraps at the next login.
LOCKER_KDF_PARAMS = {
    "memory_cost": env_int("LOCKER_KDF_MEMORY_KIB", 64 * 1024),
    "time_cost": env_int("LOCKER_KDF_TIME_COST", 3),
    "parallelism": env_int("LOCKER_KDF_PARALLELISM", 4),
}
# Argon2 computations (password hashes, key derivations) at once per process: each holds 64-100 MiB while it runs
# and already uses several cores, so a burst of sign-ins waits for a slot rather than growing the process.
LOCKER_ARGON2_CONCURRENCY = env_int("LOCKER_ARGON2_CONCURRENCY", max(2, os.cpu_count() or 2))
# Unlock sessions live as long as a refresh token (sliding on refresh).
LOCKER_UNLOCK_COOKIE = "locker_unlock"
LOCKER_DEFAULT_QUOTA = env_int("LOCKER_DEFAULT_QUOTA", 10 * 1024**3)
LOCKER_MAX_UPLOAD_SIZE = env_int("LOCKER_MAX_UPLOAD_SIZE", 5 * 1024**3)
LOCKER_TRASH_DAYS = env_int("LOCKER_TRASH_DAYS", 30)
LOCKER_LINK_MAX_DAYS = env_int("LOCKER_LINK_MAX_DAYS", 30)
# Notification streams (activity.streams): how long one lasts, how often it looks for news, its heartbeat.
LOCKER_STREAM_SECONDS = env_int("LOCKER_STREAM_SECONDS", 300)
LOCKER_STREAM_POLL = float(os.environ.get("LOCKER_STREAM_POLL", "0.5"))
LOCKER_STREAM_HEARTBEAT = env_int("LOCKER_STREAM_HEARTBEAT", 15)
LOCKER_STREAM_RETRY_MS = env_int("LOCKER_STREAM_RETRY_MS", 1000)
# Live streams held by one server process's hub (activity.live): each is one socket, no thread.
LOCKER_STREAM_MAX = env_int("LOCKER_STREAM_MAX", 10000)
# How far back (seconds) a hub looks again for notifications committed after higher ids (PostgreSQL).
LOCKER_STREAM_LOOKBACK = float(os.environ.get("LOCKER_STREAM_LOOKBACK", "10"))
# How often (seconds) a hub checks that each stream's session or app password is still valid.
LOCKER_STREAM_RECHECK = float(os.environ.get("LOCKER_STREAM_RECHECK", "10"))
LOCKER_MAX_MESSAGE_BYTES = env_int("LOCKER_MAX_MESSAGE_BYTES", 32 * 1024)
LOCKER_MAX_AUDIO_SIZE = env_int("LOCKER_MAX_AUDIO_SIZE", 50 * 1024 * 1024)
# Thumbnails are made in short-lived worker processes (vault.derived.derive): how many at once, and for how long each.
LOCKER_PREVIEW_WORKERS = env_int("LOCKER_PREVIEW_WORKERS", 2)
LOCKER_PREVIEW_TIMEOUT = env_int("LOCKER_PREVIEW_TIMEOUT", 30)
# Text recognition (Tesseract) of one image or PDF: the worker is killed after this many seconds.
LOCKER_OCR_TIMEOUT = env_int("LOCKER_OCR_TIMEOUT", 120)
# Text recognition jobs run after the upload commits, in this many threads a server process (each drives one
# worker process at a time, within LOCKER_PREVIEW_WORKERS), from a queue of at most LOCKER_OCR_QUEUE jobs (more
# stay pending and are taken up later). 0 workers: jobs only run through `manage.py vault_reindex`.
LOCKER_OCR_WORKERS = env_int("LOCKER_OCR_WORKERS", 1)
LOCKER_OCR_QUEUE = env_int("LOCKER_OCR_QUEUE", 256)
# The languages a user reads in until they choose (Tesseract's names joined by "+": "eng", "eng+deu").
LOCKER_OCR_LANGUAGES = os.environ.get("LOCKER_OCR_LANGUAGES", "eng")
LOCKER_RATELIMITS = {
    "login_user": os.environ.get("LOCKER_RATE_LOGIN_USER", "10/m"),
    "login_ip": os.environ.get("LOCKER_RATE_LOGIN_IP", "30/m"),
    # two-factor codes tried per account (sign-in, turning it off, new backup codes): 6 digits take years at this
    "otp_user": os.environ.get("LOCKER_RATE_OTP_USER", "5/m"),
    "otp_user_hour": os.environ.get("LOCKER_RATE_OTP_USER_HOUR", "30/h"),
    "register_ip": os.environ.get("LOCKER_RATE_REGISTER_IP", "10/h"),
    "recover_ip": os.environ.get("LOCKER_RATE_RECOVER_IP", "10/h"),
    "upload_user": os.environ.get("LOCKER_RATE_UPLOAD_USER", "600/m"),
    "reindex_user": os.environ.get("LOCKER_RATE_REINDEX_USER", "6/h"),
    "message_user": os.environ.get("LOCKER_RATE_MESSAGE_USER", "120/m"),
    "audio_user": os.environ.get("LOCKER_RATE_AUDIO_USER", "30/m"),
    # sharing takes an exact username: bounded, so that it is no way to list accounts
    "share_user": os.environ.get("LOCKER_RATE_SHARE_USER", "60/m"),
    # a public link's password: per link and per address
    "link_password_link": os.environ.get("LOCKER_RATE_LINK_PASSWORD_LINK", "10/m"),
    "link_password_ip": os.environ.get("LOCKER_RATE_LINK_PASSWORD_IP", "30/m"),
    # HTTP Basic with an app password (WebDAV and the API): failed attempts per account and per address
    # (docs/webdav.md); LOCKER_RATE_DAV_* are the names these had when only WebDAV counted them
    "app_password_user": os.environ.get("LOCKER_RATE_APP_PASSWORD_USER")
    or os.environ.get("LOCKER_RATE_DAV_USER", "10/m"),
    "app_password_ip": os.environ.get("LOCKER_RATE_APP_PASSWORD_IP") or os.environ.get("LOCKER_RATE_DAV_IP", "30/m"),
    # recovery keys tried per account (besides recover_ip per address)
    "recover_user": os.environ.get("LOCKER_RATE_RECOVER_USER", "10/h"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_links": {"()": "locker.logredact.RedactLinkTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_links"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # runserver's request lines, through the redacting handler rather than Django's own
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
