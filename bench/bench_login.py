"""Login cost: one login runs Argon2id twice (Django's password hash, then the key-encryption key).

Measured with the production parameters from ``locker.settings``, in-process
through the real API view (Django test client, SQLite), next to each part
alone and next to the per-request cost of an app password (HKDF, no Argon2).
"""

import base64
import os
import statistics
import time

ROUNDS = int(os.environ.get("BENCH_LOGIN_ROUNDS", "15"))


def timed(fn, rounds: int = ROUNDS) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def row(label: str, samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return f"| {label} | {statistics.median(samples):.1f} | {p95:.1f} | {len(samples)} |"


def run() -> str:
    from django.conf import settings
    from django.contrib.auth.hashers import check_password, make_password
    from rest_framework.test import APIClient

    from accounts import app_passwords as app_passwords
    from accounts import keys as account_keys
    from accounts import services
    from accounts.models import Keyring
    from locker.crypto.kdf import Argon2Params, argon2id
    from locker.crypto.keys import unwrap_with_password

    password = "correct horse battery staple"
    user, _ = services.user_register(username="benchuser", email="b@example.org", password=password)
    params = Argon2Params(**settings.LOCKER_KDF_PARAMS)
    encoded = make_password(password)
    client = APIClient()

    def api_login():
        response = client.post("/api/v1/auth/token", {"username": "benchuser", "password": password}, format="json")
        assert response.status_code == 200, response.content

    keyring = Keyring.objects.get(user=user)

    _, app_password = app_passwords.app_password_create(
        user=user,
        udk=unwrap_with_password(keyring.udk_by_password, password, aad=account_keys.aad_password(user.pk)),
        name="bench",
    )
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"benchuser:{app_password}".encode()).decode())

    def app_password_request():
        assert basic.get("/api/v1/me").status_code == 200

    hasher = settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1]
    results = [
        row(f"Argon2id KEK alone ({params.encode()})", timed(lambda: argon2id(password.encode(), b"s" * 16, params))),
        row(f"Django password check alone ({hasher})", timed(lambda: check_password(password, encoded))),
        row("**One login: POST /api/v1/auth/token** (both + session + JWT)", timed(api_login)),
        row("One API request with an app password (HKDF, no Argon2)", timed(app_password_request, ROUNDS * 4)),
    ]
    return "\n".join(
        [
            "## Login cost",
            "",
            "One login runs Argon2id twice: Django's password hash check and the derivation of the key that",
            "unwraps the user's data key (SECURITY.md property 1). Production parameters, in-process through",
            "the real view on SQLite. Reproduce: `make bench` (or `.venv/bin/python bench/run.py login`).",
            "",
            "| what | median ms | p95 ms | runs |",
            "|---|---:|---:|---:|",
            *results,
        ]
    )
