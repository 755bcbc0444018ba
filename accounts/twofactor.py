"""Two-factor sign-in (docs/two-factor.md): a TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) or a one-time backup
code, asked at sign-in after the password, for the browser and for ``POST /api/v1/auth/token``.

- **Enrolment** takes the password, makes a 160-bit secret and shows it as an ``otpauth://`` URI and a QR code drawn
  here (no network); the factor is on once a first code from the authenticator is confirmed, which also makes ten
  backup codes, shown once.
- **The secret at rest** is sealed (AES-256-GCM, associated data: its owner) under a key derived from
  ``LOCKER_TOTP_KEY``, a server secret outside the database (by default ``SECRET_KEY``): a database dump alone
  cannot produce codes. Backup codes are stored as keyed digests (HMAC-SHA256 under a key derived from the same
  secret); each has 50 random bits.
- **A code is taken once**: the time step of the last code accepted is kept and a code of that step or an
  earlier one is refused; a backup code is spent when used. Codes of the step before and after the current one
  are accepted (clock drift).
- **Turning it off**, or making new backup codes, takes the password and a current code (or a backup code).
- **App passwords stay single-factor**: they are what WebDAV clients and the CLI's stored sign-in use, random and
  revocable one by one (docs/two-factor.md says why).

Failed codes are rate limited per account by the callers (``otp_user``, ``otp_user_hour``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import BackupCode, TwoFactor, User
from activity import actions
from activity.models import Event
from activity.services import event_record
from locker.crypto import DecryptionError, aead
from locker.crypto.aead import context
from locker.crypto.kdf import hkdf
from locker.crypto.keys import b64d, b64e
from locker.errors import Conflict, InvalidInput, NotFound
from locker.http import RequestMeta

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
_BACKUP_LENGTH = 10  # 10 characters of 32: 50 bits


@dataclass
class Enrolment:
    secret: str  # base32, for typing into an authenticator by hand
    uri: str  # otpauth://totp/...
    qr_svg: str  # the URI as a QR code, an <svg> element


# --- keys ---------------------------------------------------------------------------------------------------------


def _server_key(purpose: str) -> bytes:
    return hkdf(settings.LOCKER_TOTP_KEY.encode(), info=f"locker two-factor {purpose} v1".encode())


def _aad(user_id) -> bytes:
    return context("totp-secret", user_id)


def _seal(user_id, secret: str) -> str:
    return b64e(aead.seal(_server_key("secret"), secret.encode(), aad=_aad(user_id)))


def _open(row: TwoFactor) -> str | None:
    try:
        return aead.open_sealed(_server_key("secret"), b64d(row.secret_sealed), aad=_aad(row.user_id)).decode()
    except (DecryptionError, ValueError):
        return None  # sealed under another server key: the user enrols again (docs/two-factor.md)


def _digest(code: str) -> str:
    return hmac.new(_server_key("backup code"), code.encode(), hashlib.sha256).hexdigest()


def _clean_backup(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _new_backup_codes(user: User) -> list[str]:
    BackupCode.objects.filter(user=user).delete()
    codes = ["".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH)) for _ in range(BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create([BackupCode(user=user, digest=_digest(code)) for code in codes])
    return [f"{code[:5]}-{code[5:]}" for code in codes]


# --- reading --------------------------------------------------------------------------------------------------------


def is_enabled(user: User) -> bool:
    return TwoFactor.objects.filter(user=user, enabled_at__isnull=False).exists()


def status(user: User) -> dict:
    row = TwoFactor.objects.filter(user=user).first()
    enabled = bool(row and row.enabled_at)
    return {
        "enabled": enabled,
        "enabled_at": row.enabled_at if enabled else None,
        "pending": bool(row and not row.enabled_at),
        "backup_codes_left": BackupCode.objects.filter(user=user, used_at__isnull=True).count() if enabled else 0,
    }


def _valid_format(code) -> bool:
    return isinstance(code, str) and 1 <= len(code) <= 64


def _totp_step(secret: str, code: str, *, after: int) -> int | None:
    """The time step whose code ``code`` is (now, or one step either side), if later than ``after``."""
    digits = "".join(code.split())
    if len(digits) != DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = int(time.time()) // STEP_SECONDS
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _take_code(row: TwoFactor, code: str) -> str | None:
    """Accept ``code`` for a locked, enabled ``row``: a TOTP code (its step remembered) or an unused backup code
    (spent). Returns which kind was taken, or None."""
    secret = _open(row)
    step = _totp_step(secret, code, after=row.last_step) if secret else None
    if step is not None:
        row.last_step = step
        row.save(update_fields=["last_step"])
        return "totp"
    cleaned = _clean_backup(code)
    if len(cleaned) == _BACKUP_LENGTH:
        spent = BackupCode.objects.filter(user_id=row.user_id, digest=_digest(cleaned), used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if spent:
            return "backup"
    return None


def check(*, user: User, code) -> str | None:
    """Take a sign-in code of ``user`` (who has the factor on): ``"totp"``, ``"backup"``, or None if refused."""
    if not _valid_format(code):
        return None
    with transaction.atomic():
        row = TwoFactor.objects.select_for_update().filter(user=user, enabled_at__isnull=False).first()
        return _take_code(row, code) if row else None


# --- changing -------------------------------------------------------------------------------------------------------


def _password_or_fail(user: User, password) -> None:
    if not isinstance(password, str) or not password or not user.check_password(password):
        wrong = "The password is wrong."
        raise InvalidInput(wrong, code="wrong_password", errors={"password": [wrong]})


def _code_or_fail(row: TwoFactor, code) -> str:
    taken = _take_code(row, code) if _valid_format(code) else None
    if taken is None:
        raise InvalidInput("That code is not valid.", code="otp_invalid", errors={"code": ["That code is not valid."]})
    return taken


def enrol_begin(*, user: User, password, meta: RequestMeta | None = None) -> Enrolment:
    """A new secret for ``user``, waiting for :func:`enrol_confirm`; refused while the factor is on."""
    _password_or_fail(user, password)
    secret = pyotp.random_base32(32)  # 160 bits (RFC 4226's recommendation)
    with transaction.atomic():
        row = TwoFactor.objects.select_for_update().filter(user=user).first()
        if row is not None and row.enabled_at is not None:
            raise Conflict("Two-factor sign-in is already on: turn it off first.", code="two_factor_on")
        TwoFactor.objects.update_or_create(
            user=user, defaults={"secret_sealed": _seal(user.pk, secret), "enabled_at": None, "last_step": 0}
        )
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.username, issuer_name=settings.LOCKER_TOTP_ISSUER
    )
    qr = segno.make(uri, error="m")
    return Enrolment(secret=secret, uri=uri, qr_svg=qr.svg_inline(scale=5, border=2, dark="#111", light="#fff"))


def enrol_confirm(*, user: User, code, meta: RequestMeta | None = None) -> list[str]:
    """Turn the factor on with a first code from the authenticator; returns the backup codes (shown once)."""
    with transaction.atomic():
        row = TwoFactor.objects.select_for_update().filter(user=user, enabled_at__isnull=True).first()
        if row is None:
            raise NotFound("No two-factor enrolment is waiting: start one first.", code="no_enrolment")
        secret = _open(row)
        step = _totp_step(secret, code, after=0) if secret and _valid_format(code) else None
        if step is None:
            raise InvalidInput(
                "That code is not the authenticator's current one.",
                code="otp_invalid",
                errors={"code": ["That code is not the authenticator's current one."]},
            )
        row.enabled_at, row.last_step = timezone.now(), step
        row.save(update_fields=["enabled_at", "last_step"])
        codes = _new_backup_codes(user)
        event_record(action=actions.TWO_FACTOR_ENABLED, user=user, meta=meta)
    return codes


@contextlib.contextmanager
def _proven(user: User, password, code):
    """A transaction in which ``user`` has shown the password and a current code (or a backup code) for their
    enabled factor; raises 400 for either wrong, 404 ``two_factor_off`` when it is not on."""
    _password_or_fail(user, password)
    with transaction.atomic():
        row = TwoFactor.objects.select_for_update().filter(user=user, enabled_at__isnull=False).first()
        if row is None:
            raise NotFound("Two-factor sign-in is not on.", code="two_factor_off")
        _code_or_fail(row, code)
        yield


def disable(*, user: User, password, code, meta: RequestMeta | None = None) -> None:
    """Turn the factor off: the password and a current code (or a backup code)."""
    with _proven(user, password, code):
        TwoFactor.objects.filter(user=user).delete()
        BackupCode.objects.filter(user=user).delete()
        event_record(action=actions.TWO_FACTOR_DISABLED, user=user, meta=meta)


def backup_codes_renew(*, user: User, password, code, meta: RequestMeta | None = None) -> list[str]:
    """New backup codes (the old ones stop working): the password and a current code."""
    with _proven(user, password, code):
        codes = _new_backup_codes(user)
        event_record(action=actions.TWO_FACTOR_CODES_RENEWED, user=user, meta=meta)
    return codes


def turn_off_for_recovery(*, user: User) -> bool:
    """Turn the factor off as the recovery key is used (in its transaction); True if it was on."""
    was_on = TwoFactor.objects.filter(user=user, enabled_at__isnull=False).exists()
    TwoFactor.objects.filter(user=user).delete()
    BackupCode.objects.filter(user=user).delete()
    return was_on


def record_refused(*, user: User, meta: RequestMeta | None, reason: str) -> None:
    event_record(action=actions.LOGIN, user=user, outcome=Event.Outcome.FAILURE, meta=meta, data={"reason": reason})
