"""The test override of ``locker.settings`` (STYLE.md: one settings module plus a test override).

Same code paths as production, with a plain-HTTP test server and a cheaper
Argon2 cost so the suite stays fast. ``tests/test_project.py`` checks the
production settings themselves (``check --deploy``, KDF parameters).
"""

import os

os.environ.setdefault("LOCKER_HTTPS", "0")
os.environ.setdefault("DEBUG", "0")

from locker.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]
LOCKER_KDF_PARAMS = {"memory_cost": 1024, "time_cost": 1, "parallelism": 1}
WHITENOISE_AUTOREFRESH = True

# A real SQLite file per test process, so that concurrent runs never share one.
if DATABASES["default"]["ENGINE"] in ("django.db.backends.sqlite3", "locker.sqlite"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(LOCKER_DATA_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
