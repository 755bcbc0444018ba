"""Locker's one password policy, for every way an account gets a password.

:func:`password_policy_check` runs Django's validators
(``AUTH_PASSWORD_VALIDATORS``: at least 10 characters, not a common password,
not all digits, not like the username or email) and an upper bound of
:data:`MAX_LENGTH` characters (each sign-in runs Argon2id over it twice).

It is called by the user manager, so every account made in code goes through
it (``createsuperuser``, interactive or ``--noinput`` with
``DJANGO_SUPERUSER_PASSWORD``; Django's "bypass validation" answer does not
bypass it), and by the services that set a password: registration (API and
page), password change, recovery and the admin's reset.
"""

from django.contrib.auth import hashers
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from locker.crypto import kdf

MAX_LENGTH = 1024


def password_policy_check(password: str, *, user) -> None:
    """Raise :class:`~django.core.exceptions.ValidationError` (all messages) unless ``password`` may be used."""
    if not isinstance(password, str) or not password:
        raise ValidationError("Enter a password.", code="password_required")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"Use at most {MAX_LENGTH} characters.", code="password_too_long")
    validate_password(password, user)


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    """Django's Argon2 password hasher (same algorithm and stored format) that waits for one of the process's
    Argon2 slots (``LOCKER_ARGON2_CONCURRENCY``), as the key derivation does: a burst of sign-ins then takes a
    bounded amount of memory instead of 100 MiB more for each one at once."""

    def encode(self, password, salt):
        with kdf.argon2_slot():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with kdf.argon2_slot():
            return super().verify(password, encoded)
