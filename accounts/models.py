"""Users, their key material, app passwords and unlock sessions.

Nothing here is a key the server alone can use (SECURITY.md properties 1-5):
the user data key (UDK) is stored only wrapped, by the password (Argon2id),
the recovery key, each app password and each live unlock session's secret,
which only the client holds.
"""

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.passwords import password_policy_check

USERNAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}\Z"
username_validator = RegexValidator(
    USERNAME_RE,
    "Use 3 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
    code="invalid_username",
)


MAX_STORAGE_QUOTA = 1024**5  # 1 PiB: a larger quota is a typing mistake


def default_quota() -> int:
    return settings.LOCKER_DEFAULT_QUOTA


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)

    def create_user(self, username, email, password=None, **extra):
        """Make an account. ``password`` must pass Locker's one policy (accounts.passwords); None makes an
        account that cannot sign in until an admin sets a password."""
        user = self.model(username=username, email=self.normalize_email(email), **extra)
        if password is not None:
            password_policy_check(password, user=user)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, email, password=None, **extra):
        extra["role"] = User.Role.ADMIN
        return self.create_user(username, email, password, **extra)


class User(AbstractBaseUser):
    """A Locker account. Role ADMIN may use the Django admin; nobody can read content."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        REGULAR = "regular", "Regular"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=64, unique=True, validators=[username_validator])
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REGULAR)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    storage_quota = models.BigIntegerField(default=default_quota, help_text="Bytes the user may store.")
    storage_used = models.BigIntegerField(default=0, editable=False)
    vault_keep_versions = models.PositiveIntegerField(
        default=0, help_text="Keep only the newest N versions of each file (0 keeps all)."
    )
    vault_ocr = models.BooleanField(
        default=True, help_text="Recognise the text of uploaded images and scanned PDFs for search."
    )
    vault_ocr_languages = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Tesseract languages for text recognition, joined by '+' (empty: the server's default).",
    )

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique")]

    def __str__(self):
        return self.username

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    # The Django admin asks for these; the Admin role is the only staff.
    @property
    def is_staff(self) -> bool:
        return self.is_active and self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label) -> bool:
        return self.is_staff


class Keyring(models.Model):
    """A user's wrapped data key and X25519 key pair. Deleting it crypto-shreds the vault."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="keyring")
    udk_by_password = models.TextField()
    udk_by_recovery = models.TextField()
    public_key = models.TextField(help_text="X25519 public key, base64.")
    private_key_wrapped = models.TextField(help_text="X25519 private key wrapped by the UDK.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"keyring of {self.user_id}"


class AppPassword(models.Model):
    """A random, revocable password for one client (CLI, WebDAV), wrapping the UDK.

    Its name is the user's words, so it is sealed like every other name
    (:mod:`accounts.keys`): under the row's own key, which the UDK wraps.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="app_passwords")
    key_wrapped = models.TextField(help_text="This row's own key, wrapped by the user's data key (or public key).")
    name_sealed = models.TextField(help_text="The name, sealed under this row's key.")
    verifier = models.CharField(max_length=64, unique=True)
    udk_wrapped = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"app password {self.pk}"


class TwoFactor(models.Model):
    """A user's second factor: a TOTP secret (RFC 6238), see :mod:`accounts.twofactor`.

    The secret is sealed under a server key that is not in the database (``LOCKER_TOTP_KEY``, derived from
    ``SECRET_KEY`` unless set): a dump of the database alone cannot produce codes.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="two_factor")
    secret_sealed = models.TextField()
    enabled_at = models.DateTimeField(null=True, blank=True, help_text="Empty while enrolment waits for a first code.")
    last_step = models.BigIntegerField(default=0, help_text="The last time step whose code was taken: never twice.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"second factor of {self.user_id}"


class BackupCode(models.Model):
    """A one-time code that stands in for the authenticator once; only its keyed digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="backup_codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "digest"], name="backup_code_once_per_user")]

    def __str__(self):
        return f"backup code {self.pk} of {self.user_id}"


class UnlockSession(models.Model):
    """A logged-in client's unlock: AEAD(Ks, UDK), where only the client holds Ks."""

    class Kind(models.TextChoices):
        BROWSER = "browser", "Browser"
        TOKEN = "token", "API token"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="unlock_sessions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    udk_wrapped = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    device = models.CharField(
        max_length=64, blank=True, help_text="Read from the User-Agent at sign-in (accounts.devices): no user text."
    )
    # A name the user gave this device is their words: sealed like app-password names (accounts.keys).
    name_key_wrapped = models.TextField(blank=True, help_text="This row's own key, wrapped by the user's data key.")
    name_sealed = models.TextField(blank=True, help_text="The user's name for this device, sealed under that key.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} session {self.pk}"


class SiteSettings(models.Model):
    """The site's own switches, one row (pk 1), edited in the admin through
    :func:`accounts.site_settings.site_settings_update`. No row means the defaults."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    registration_open = models.BooleanField(
        default=True,
        help_text="Anyone may create an account on the sign-up page and through the API. "
        "When closed, people join only through an invitation.",
    )
    admins_need_two_factor = models.BooleanField(
        default=False,
        help_text="Admins must have two-factor sign-in on to use the admin pages (they can still sign in to turn it "
        "on).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "site settings"
        verbose_name_plural = "site settings"

    def __str__(self):
        return "Site settings"


class Invitation(models.Model):
    """A single-use sign-up link made by an admin. The link's secret lives only in the link: the server keeps its
    verifier (like app passwords), so a database dump opens no invitation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    verifier = models.CharField(max_length=64, unique=True)
    username_hint = models.CharField(
        max_length=64, blank=True, validators=[username_validator], help_text="Suggested on the sign-up page."
    )
    role = models.CharField(max_length=16, choices=User.Role.choices, default=User.Role.REGULAR)
    storage_quota = models.BigIntegerField(help_text="Bytes the new user may store.")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="invitations_made")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation_used"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        hint = f" for {self.username_hint}" if self.username_hint else ""
        return f"invitation{hint} ({self.created_at:%Y-%m-%d})"

    def status(self, now=None) -> str:
        """``used``, ``revoked``, ``expired`` or ``pending``."""
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "pending"
