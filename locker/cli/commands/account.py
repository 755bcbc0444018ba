"""``locker login``, ``logout``, ``whoami``."""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer

from locker.cli import config
from locker.cli.app import app, emit, out, signed_in
from locker.cli.client import Api, CliError, error_of


@app.command()
def login(
    url: Annotated[str, typer.Argument(help="The server, e.g. https://locker.example.org")],
    username: Annotated[str, typer.Option(prompt=True)] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    otp: Annotated[
        str,
        typer.Option(
            "--otp",
            help="The two-factor code (6 digits from the authenticator app, or a backup code); asked when needed.",
        ),
    ] = "",
):
    """Sign in once: makes an app password for this computer and keeps only that (never your password)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True)
    api = Api(url)
    body = {"username": username, "password": password} | ({"otp": otp} if otp else {})
    token = api.send("POST", "auth/token", json=body)
    if token.status_code == 401 and _code_of(token) == "otp_required":
        if password_stdin and not sys.stdin.isatty():
            code = sys.stdin.readline().strip()  # the line after the password
        else:
            code = typer.prompt("Two-factor code (or a backup code)")
        if not code:
            raise CliError("This account signs in with a two-factor code: give it with --otp.", CliError.AUTH)
        token = api.send("POST", "auth/token", json={**body, "otp": code})
    if token.status_code == 401 and _code_of(token) == "otp_invalid":
        raise CliError("Wrong two-factor code.", CliError.AUTH)
    if token.status_code in (400, 401):
        raise CliError("Wrong username or password.", CliError.AUTH)
    if token.status_code != 200:
        raise error_of(token)
    access = token.json()["access"]
    bearer = {"Authorization": f"Bearer {access}"}
    name = f"locker CLI on {socket.gethostname()}"[:100]
    created = api.json("POST", "auth/app-passwords/", json={"name": name}, headers=bearer)
    api.send("POST", "auth/logout", json={}, headers=bearer)  # only the app password stays signed in
    profile = config.save(
        config.Profile(server=api.server, username=username, app_password_id=created["id"]), created["password"]
    )
    where = "the system keyring" if profile.secret_in == "keyring" else str(config.config_dir() / "credentials")
    emit(
        {"server": api.server, "username": username, "app_password": created["id"], "stored_in": profile.secret_in},
        lambda: out.print(f"Signed in to {api.server} as {username}; the app password is kept in {where}."),
    )


def _code_of(response) -> str | None:
    try:
        return response.json().get("code")
    except ValueError:
        return None


@app.command()
def logout():
    """Revoke this computer's app password on the server and forget it here."""
    found = config.load()
    if found is None:
        emit({"signed_in": False}, lambda: out.print("Not signed in."))
        return
    profile, api = signed_in()
    response = api.send("DELETE", f"auth/app-passwords/{profile.app_password_id}/")
    config.forget(profile)
    revoked = response.status_code in (204, 404, 401)
    emit({"revoked": revoked}, lambda: out.print("Signed out; the app password is revoked."))


@app.command()
def whoami():
    """Who this computer is signed in as, where, and the storage used."""
    profile, api = signed_in()
    me = api.json("GET", "me")
    data = {
        "server": profile.server,
        "username": me.get("username"),
        "storage_used": me.get("storage_used"),
        "storage_quota": me.get("storage_quota"),
    }
    emit(data, lambda: out.print(f"{data['username']} on {profile.server}"))
