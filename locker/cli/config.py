"""Where the client keeps what it knows: the server, the username and the app password (in the system's keyring
where one works, otherwise in a file only its owner can read), and the sync state databases.

The directory is ``$LOCKER_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/locker``, else ``~/.config/locker``. The account
password is never stored: ``locker login`` uses it once to make an app password.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

KEYRING_SERVICE = "locker"


def config_dir() -> Path:
    base = os.environ.get("LOCKER_CONFIG_DIR")
    if base:
        path = Path(base)
    else:
        path = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "locker"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@dataclass
class Profile:
    server: str
    username: str
    app_password_id: str
    secret_in: str = "file"  # "keyring" or "file"


def _profile_path() -> Path:
    return config_dir() / "config.json"


def _secret_path() -> Path:
    return config_dir() / "credentials"


def _keyring():
    """The system keyring, or None where there is none that works (a server, a container, tests)."""
    if os.environ.get("LOCKER_KEYRING", "1") == "0":
        return None
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or backend.priority <= 0:
            return None
        return keyring
    except Exception:  # noqa: BLE001 - any failure to reach a keyring means: use the file
        return None


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def save(profile: Profile, password: str) -> Profile:
    ring = _keyring()
    if ring is not None:
        try:
            ring.set_password(KEYRING_SERVICE, f"{profile.username}@{profile.server}", password)
            profile.secret_in = "keyring"
        except Exception:  # noqa: BLE001 - a keyring that refuses: the file it is
            ring = None
    if ring is None:
        profile.secret_in = "file"
        _write_private(_secret_path(), json.dumps({"password": password}))
    _write_private(_profile_path(), json.dumps(asdict(profile), indent=1))
    return profile


def load() -> tuple[Profile, str] | None:
    try:
        profile = Profile(**json.loads(_profile_path().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if profile.secret_in == "keyring":
        ring = _keyring()
        password = ring.get_password(KEYRING_SERVICE, f"{profile.username}@{profile.server}") if ring else None
    else:
        try:
            password = json.loads(_secret_path().read_text())["password"]
        except (OSError, ValueError, KeyError):
            password = None
    if not password:
        return None
    return profile, password


def forget(profile: Profile | None) -> None:
    if profile is not None and profile.secret_in == "keyring":
        ring = _keyring()
        if ring is not None:
            with contextlib.suppress(Exception):  # already gone
                ring.delete_password(KEYRING_SERVICE, f"{profile.username}@{profile.server}")
    for path in (_secret_path(), _profile_path()):
        path.unlink(missing_ok=True)
