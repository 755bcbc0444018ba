"""What the WebDAV tests share: an account with an app password, and a small client on ``requests``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import requests

from accounts.app_passwords import app_password_create
from tests.factories import make_account
from tests.vault.conftest import keys_for


@dataclass
class DavUser:
    account: object
    password: str  # the app password

    @property
    def username(self) -> str:
        return self.account.username

    @property
    def user(self):
        return self.account.user


def dav_user(username: str = "alice") -> DavUser:
    account = make_account(username)
    _row, password = app_password_create(user=account.user, udk=keys_for(account).udk, name="WebDAV")
    return DavUser(account=account, password=password)


class Dav:
    """Requests to ``<base>/dav/...`` as one user; paths are given unquoted."""

    def __init__(self, base: str, who: DavUser | None, *, auth=None):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.auth = auth if auth is not None else (who.username, who.password)

    def url(self, path: str) -> str:
        return f"{self.base}/dav/{quote(path.lstrip('/'), safe='/')}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.url(path), timeout=60, **kwargs)

    def put(self, path: str, data=b"", **kwargs):
        return self.request("PUT", path, data=data, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def mkcol(self, path: str):
        return self.request("MKCOL", path)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def propfind(self, path: str, depth: str = "1"):
        return self.request("PROPFIND", path, headers={"Depth": depth})

    def move(self, path: str, dest: str, overwrite: bool = True, method: str = "MOVE"):
        headers = {"Destination": self.url(dest), "Overwrite": "T" if overwrite else "F"}
        return self.request(method, path, headers=headers)
