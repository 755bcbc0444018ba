"""Account services: keyring, registration and login, password change and recovery, admin actions, account
deletion. Keyword-only functions; each write records its activity event in its own transaction. Unlock
sessions and refresh tokens live in ``accounts.sessions``, app passwords in ``accounts.app_passwords``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import twofactor
from accounts.keys import aad_password, aad_private_key, aad_recovery
from accounts.models import MAX_STORAGE_QUOTA, AppPassword, Keyring, UnlockSession, User, username_validator
from accounts.passwords import password_policy_check
from accounts.selectors import registration_open
from accounts.sessions import unlock_session_create
from activity import actions
from activity.models import Event
from activity.services import event_record
from locker.crypto import DecryptionError, FormatError
from locker.crypto.kdf import Argon2Params
from locker.crypto.keys import (
    b64e,
    generate_typable_secret,
    generate_x25519_keypair,
    new_key,
    parse_typable_secret,
    password_wrap_params,
    unwrap_with_password,
    unwrap_with_secret,
    wrap_with_key,
    wrap_with_password,
    wrap_with_secret,
)
from locker.errors import Conflict, InvalidCredentials, InvalidInput, LockerError, TwoFactorRequired, VaultLocked
from locker.http import RequestMeta
from locker.textrules import OCR_LANGUAGE


class KeyringMismatch(VaultLocked):
    code = "keyring_mismatch"
    detail = "Your password is right but does not unlock your data key; use your recovery key to reset it."


def current_kdf_params() -> Argon2Params:
    return Argon2Params(**settings.LOCKER_KDF_PARAMS)


def _validate_new_password(password, *, user: User, field: str = "password") -> None:
    """Locker's one password policy (accounts.passwords), as a 400 ``weak_password`` naming ``field``."""
    if not isinstance(password, str) or not password:
        raise InvalidInput(errors={field: ["This field is required."]})
    try:
        password_policy_check(password, user=user)
    except ValidationError as exc:
        raise InvalidInput("Choose a stronger password.", code="weak_password", errors={field: exc.messages}) from None


def _check_password_or_fail(user: User, password, *, field: str) -> None:
    if not isinstance(password, str) or not user.check_password(password):
        raise InvalidInput("The password is wrong.", code="wrong_password", errors={field: ["The password is wrong."]})


def _revoke_all_sessions(user: User) -> None:
    """Delete every unlock session and blacklist every live refresh token of ``user``."""
    UnlockSession.objects.filter(user=user).delete()
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in live], ignore_conflicts=True)


# What apps above accounts keep under a user's keys, wiped with them: each registers a function of the user
# from its AppConfig.ready() (the vault: its folders, files, notes and what its own registry names).
_KEY_SHRED_HOOKS: list[Callable[[User], object]] = []


def on_keys_shredded(hook: Callable[[User], object]) -> None:
    """Call ``hook(user)`` in the transaction that destroys a user's keys (account deletion, admin reset)."""
    if hook not in _KEY_SHRED_HOOKS:
        _KEY_SHRED_HOOKS.append(hook)


def _shred_keys(user: User) -> None:
    """Crypto-shred: destroy every wrap of the UDK (SECURITY.md property 11), then the data it protected."""
    Keyring.objects.filter(user=user).delete()
    AppPassword.objects.filter(user=user).delete()
    _revoke_all_sessions(user)
    for hook in _KEY_SHRED_HOOKS:
        hook(user)


def keyring_create(*, user: User, password: str) -> tuple[bytes, str]:
    """Give ``user`` a fresh UDK and X25519 key pair. Returns ``(udk, recovery_key)``."""
    udk = new_key()
    recovery_key = generate_typable_secret()
    private_raw, public_raw = generate_x25519_keypair()
    Keyring.objects.create(
        user=user,
        udk_by_password=wrap_with_password(udk, password, current_kdf_params(), aad=aad_password(user.pk)),
        udk_by_recovery=wrap_with_secret(
            udk, parse_typable_secret(recovery_key), purpose="recovery", aad=aad_recovery(user.pk)
        ),
        public_key=b64e(public_raw),
        private_key_wrapped=wrap_with_key(private_raw, udk, aad=aad_private_key(user.pk)),
    )
    return udk, recovery_key


def _udk_from_password(keyring: Keyring, password: str) -> bytes:
    try:
        return unwrap_with_password(keyring.udk_by_password, password, aad=aad_password(keyring.user_id))
    except (DecryptionError, FormatError):
        raise KeyringMismatch() from None


def keyring_unlock(*, user: User, password) -> bytes:
    """The user's data key from their password (for offline maintenance such as ``vault_reindex``)."""
    _check_password_or_fail(user, password, field="password")
    keyring = Keyring.objects.filter(user=user).first()
    if keyring is None:
        raise VaultLocked("This account has no keys yet: it must sign in once.")
    return _udk_from_password(keyring, password)


class RegistrationClosed(LockerError):
    status_code = 403
    code = "registration_closed"
    detail = "Registration is closed on this server: ask an administrator for an invitation."


def user_register(*, username, email, password, meta: RequestMeta | None = None) -> tuple[User, str]:
    """Create an account with its keys. Returns ``(user, recovery_key)``; the key is shown once.

    Refused (403 ``registration_closed``) while an admin has closed open registration; an invitation
    (``accounts.invitations``) still works then."""
    if not registration_open():
        raise RegistrationClosed()
    return account_create(username=username, email=email, password=password, meta=meta)


def _check_username_and_email(username, email) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in (("username", username), ("email", email)):
        if not isinstance(value, str) or not value.strip():
            errors[name] = ["This field is required."]
    if "username" not in errors:
        try:
            username_validator(username)
        except ValidationError as exc:
            errors["username"] = exc.messages
    if "email" not in errors:
        try:
            validate_email(email)
            if len(email) > 254:
                raise ValidationError("Use at most 254 characters.")
        except ValidationError as exc:
            errors["email"] = exc.messages
    if errors:
        raise InvalidInput(errors=errors)


def account_create(
    *,
    username,
    email,
    password,
    meta: RequestMeta | None = None,
    role: str = User.Role.REGULAR,
    storage_quota: int | None = None,
    within: Callable[[User], object] | None = None,
) -> tuple[User, str]:
    """The registration itself, open or not: check the input, make the user and their keys and record it.
    ``within(user)`` runs in the same transaction (an invitation marks itself used there, or refuses)."""
    _check_username_and_email(username, email)
    _validate_new_password(password, user=User(username=username, email=email))
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(
            "That username is taken.", code="username_taken", errors={"username": ["That username is taken."]}
        )
    extra = {"role": role}
    if storage_quota is not None:
        extra["storage_quota"] = storage_quota
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password, **extra)
            _, recovery_key = keyring_create(user=user, password=password)
            event_record(action=actions.REGISTERED, user=user, meta=meta)
            if within is not None:
                within(user)
    except IntegrityError:
        raise Conflict(
            "That username is taken.", code="username_taken", errors={"username": ["That username is taken."]}
        ) from None
    return user, recovery_key


@dataclass
class LoginResult:
    user: User
    session: UnlockSession
    session_secret: bytes
    recovery_key: str | None = None  # set when this login created the user's keys


def auth_login(*, username, password, kind: str, otp=None, meta: RequestMeta | None = None) -> LoginResult:
    """Check the password (Argon2id #1), then the two-factor code if the user has the factor on
    (:mod:`accounts.twofactor`), unwrap the UDK (Argon2id #2), open an unlock session.

    A user without keys (created by ``createsuperuser`` or the admin, or after
    an admin reset) gets them now, and ``recovery_key`` is set in the result.
    """
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise InvalidInput(
            errors={
                k: ["This field is required."]
                for k, v in (("username", username), ("password", password))
                if not (isinstance(v, str) and v)
            }
        )
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        make_password(password)  # same cost as a real check: no user enumeration by timing
        event_record(action=actions.LOGIN, outcome=Event.Outcome.FAILURE, meta=meta, data={"reason": "unknown_user"})
        raise InvalidCredentials()
    if not user.check_password(password):
        event_record(
            action=actions.LOGIN, user=user, outcome=Event.Outcome.FAILURE, meta=meta, data={"reason": "bad_password"}
        )
        raise InvalidCredentials()
    if not user.is_active:
        event_record(
            action=actions.LOGIN, user=user, outcome=Event.Outcome.FAILURE, meta=meta, data={"reason": "inactive"}
        )
        raise InvalidCredentials("This account is deactivated.", code="account_inactive")
    if twofactor.is_enabled(user):
        if otp is None or otp == "":
            twofactor.record_refused(user=user, meta=meta, reason="otp_required")
            raise TwoFactorRequired()
        if twofactor.check(user=user, code=otp) is None:
            twofactor.record_refused(user=user, meta=meta, reason="bad_otp")
            raise InvalidCredentials("Wrong two-factor code.", code="otp_invalid")

    with transaction.atomic():
        keyring = Keyring.objects.select_for_update().filter(user=user).first()
        recovery_key = None
        if keyring is None:
            udk, recovery_key = keyring_create(user=user, password=password)
        else:
            udk = _udk_from_password(keyring, password)
            if password_wrap_params(keyring.udk_by_password).weaker_than(current_kdf_params()):
                keyring.udk_by_password = wrap_with_password(
                    udk, password, current_kdf_params(), aad=aad_password(user.pk)
                )
                keyring.save(update_fields=["udk_by_password", "updated_at"])
        session, secret = unlock_session_create(user=user, udk=udk, kind=kind, meta=meta)
        event_record(action=actions.LOGIN, user=user, meta=meta, data={"kind": kind})
    return LoginResult(user=user, session=session, session_secret=secret, recovery_key=recovery_key)


def auth_logout(*, user: User, session_id, meta: RequestMeta | None = None) -> None:
    """Close one unlock session: the client's secret stops decrypting at once."""
    with transaction.atomic():
        UnlockSession.objects.filter(user=user, id=session_id).delete()
        event_record(action=actions.LOGOUT, user=user, meta=meta)


def password_change(*, user: User, old_password, new_password, meta: RequestMeta | None = None) -> bytes:
    """Re-wrap the UDK under the new password (O(1) in the data), end every session.

    Returns the UDK so that the caller may open a fresh session for the client
    that made the change.
    """
    try:
        _check_password_or_fail(user, old_password, field="old_password")
    except InvalidInput:
        event_record(action=actions.PASSWORD_CHANGED, user=user, outcome=Event.Outcome.FAILURE, meta=meta)
        raise
    _validate_new_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        keyring = Keyring.objects.select_for_update().filter(user=user).first()
        if keyring is None:
            udk, _ = keyring_create(user=user, password=new_password)
        else:
            udk = _udk_from_password(keyring, old_password)
            keyring.udk_by_password = wrap_with_password(
                udk, new_password, current_kdf_params(), aad=aad_password(user.pk)
            )
            keyring.save(update_fields=["udk_by_password", "updated_at"])
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _revoke_all_sessions(user)
        event_record(action=actions.PASSWORD_CHANGED, user=user, meta=meta)
    return udk


class InvalidRecovery(InvalidInput):
    code = "invalid_recovery"
    detail = "That username and recovery key do not match."


def account_recover(*, username, recovery_key, new_password, meta: RequestMeta | None = None) -> str:
    """Set a new password with the recovery key, keeping all data. Returns a new recovery key."""
    missing = {
        name: ["This field is required."]
        for name, value in (("username", username), ("recovery_key", recovery_key), ("new_password", new_password))
        if not isinstance(value, str) or not value
    }
    if missing:
        raise InvalidInput(errors=missing)
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    keyring = Keyring.objects.filter(user=user).first() if user else None
    try:
        secret = parse_typable_secret(recovery_key)
        if keyring is None:
            raise DecryptionError("no keyring")
        udk = unwrap_with_secret(keyring.udk_by_recovery, secret, purpose="recovery", aad=aad_recovery(user.pk))
    except (DecryptionError, FormatError):
        if user is not None:
            event_record(action=actions.RECOVERY_USED, user=user, outcome=Event.Outcome.FAILURE, meta=meta)
        raise InvalidRecovery() from None
    _validate_new_password(new_password, user=user, field="new_password")
    new_recovery_key = generate_typable_secret()
    with transaction.atomic():
        keyring = Keyring.objects.select_for_update().get(user=user)
        keyring.udk_by_password = wrap_with_password(udk, new_password, current_kdf_params(), aad=aad_password(user.pk))
        keyring.udk_by_recovery = wrap_with_secret(
            udk, parse_typable_secret(new_recovery_key), purpose="recovery", aad=aad_recovery(user.pk)
        )
        keyring.save(update_fields=["udk_by_password", "udk_by_recovery", "updated_at"])
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _revoke_all_sessions(user)
        # the recovery key is the way back for whoever lost the authenticator and the backup codes too; it opens
        # the vault by itself, so a second factor after it would protect nothing (docs/two-factor.md)
        second_factor_was_on = twofactor.turn_off_for_recovery(user=user)
        event_record(action=actions.RECOVERY_USED, user=user, meta=meta, data={"two_factor_off": second_factor_was_on})
    return new_recovery_key


def user_admin_reset(*, admin: User, user: User, new_password, meta: RequestMeta | None = None) -> None:
    """Reset a password without the recovery key: the old vault is destroyed (crypto-shred).

    The account keeps its username, role and quota; at its next login it gets
    a new, empty vault and a new recovery key.
    """
    _validate_new_password(new_password, user=user)
    with transaction.atomic():
        _shred_keys(user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        event_record(action=actions.ADMIN_RESET, user=user, meta=meta, data={"by": str(admin.pk)})


ADMIN_EDITABLE_FIELDS = ("email", "role", "is_active", "storage_quota")


def user_admin_update(*, admin: User, user: User, changes: dict, meta: RequestMeta | None = None) -> User:
    """Change an account's email, role, active flag or quota. Deactivation ends its sessions."""
    unknown = set(changes) - set(ADMIN_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(errors={name: ["Admins cannot change this field."] for name in sorted(unknown)})
    quota = changes.get("storage_quota")
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int)):
        raise InvalidInput(errors={"storage_quota": ["A whole number of bytes."]})
    if quota is not None and quota < 0:
        raise InvalidInput(errors={"storage_quota": ["The quota cannot be negative."]})
    if quota is not None and quota > MAX_STORAGE_QUOTA:
        raise InvalidInput(errors={"storage_quota": ["The quota can be at most 1 PiB."]})
    if user.pk == admin.pk and (changes.get("is_active") is False or changes.get("role") == User.Role.REGULAR):
        raise InvalidInput("You cannot deactivate or demote yourself.", code="self_lockout")
    with transaction.atomic():
        for name, value in changes.items():
            setattr(user, name, value)
        user.save(update_fields=list(changes) or None)
        if changes.get("is_active") is False:
            _revoke_all_sessions(user)
        event_record(
            action=actions.ACCOUNT_UPDATED, user=user, meta=meta, data={"by": str(admin.pk), "fields": sorted(changes)}
        )
    return user


def user_settings_update(
    *, user: User, keep_versions=None, ocr=None, ocr_languages=None, meta: RequestMeta | None = None
) -> User:
    """The user's own settings: how many versions of each file to keep (0 = all); text recognition on or off and
    its languages (Tesseract's names; the vault checks they are installed before it calls this)."""
    changes = {}
    if keep_versions is not None:
        if isinstance(keep_versions, bool) or not isinstance(keep_versions, int) or not 0 <= keep_versions <= 10_000:
            raise InvalidInput(errors={"keep_versions": ["A whole number from 0 (keep all) to 10000."]})
        changes["vault_keep_versions"] = keep_versions
    if ocr is not None:
        if not isinstance(ocr, bool):
            raise InvalidInput(errors={"ocr": ["Must be true or false."]})
        changes["vault_ocr"] = ocr
    if ocr_languages is not None:
        if (
            not isinstance(ocr_languages, list)
            or not 1 <= len(ocr_languages) <= 8
            or not all(isinstance(name, str) and OCR_LANGUAGE.fullmatch(name) for name in ocr_languages)
        ):
            raise InvalidInput(errors={"languages": ["One to 8 language names, such as eng or chi_sim."]})
        changes["vault_ocr_languages"] = "+".join(dict.fromkeys(ocr_languages))

    if changes:
        with transaction.atomic():
            for name, value in changes.items():
                setattr(user, name, value)
            user.save(update_fields=list(changes))
            event_record(action=actions.ACCOUNT_UPDATED, user=user, meta=meta, data={"fields": sorted(changes)})
    return user


def account_delete(*, user: User, password, meta: RequestMeta | None = None) -> None:
    """Delete the account after a password check; wrapped keys are destroyed first."""
    _check_password_or_fail(user, password, field="password")
    with transaction.atomic():
        user_id = user.pk
        _shred_keys(user)
        event_record(action=actions.ACCOUNT_DELETED, meta=meta, object_type="user", object_id=user_id)
        user.delete()
