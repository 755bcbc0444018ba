"""Input and output serializers of the accounts API. Shape only; rules live in services."""

from django.conf import settings
from rest_framework import serializers

from accounts.devices import device_name
from accounts.models import USERNAME_RE, AppPassword, UnlockSession, User
from locker.serializers import StrictCharField
from locker.textrules import NOT_BLANK_NO_NUL_PATTERN


def _min_password_length() -> int:
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith(".MinimumLengthValidator"):
            return validator.get("OPTIONS", {}).get("min_length", 8)
    return 1


MIN_PASSWORD_LENGTH = _min_password_length()
PASSWORD_RULE = (
    f"At least {MIN_PASSWORD_LENGTH} characters, not all digits, not a common password and not too like the "
    "username or email (400 `weak_password`)."
)


def _new_password():
    """A password being chosen: its strength is the service's rule (400 ``weak_password``); the schema states
    the length it needs."""
    return StrictCharField(
        max_length=1024,
        trim_whitespace=False,
        schema_extra={"minLength": MIN_PASSWORD_LENGTH},
        help_text=PASSWORD_RULE,
    )


class UserSerializer(serializers.ModelSerializer):
    quota = serializers.IntegerField(source="storage_quota")
    usage = serializers.IntegerField(source="storage_used")
    keep_versions = serializers.IntegerField(source="vault_keep_versions")

    class Meta:
        model = User
        fields = ["id", "username", "email", "role", "quota", "usage", "keep_versions", "date_joined"]
        read_only_fields = fields


USERNAME_AROUND_SPACES = r"^\s*" + USERNAME_RE[1:-2] + r"\s*\Z"


class RegisterInput(serializers.Serializer):
    username = StrictCharField(
        max_length=64,  # after surrounding spaces are trimmed (a taken name with spaces around it is still 409)
        pattern=USERNAME_AROUND_SPACES,
        pattern_message="Use 3 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
    )
    email = StrictCharField(max_length=254, trim_whitespace=False, schema_extra={"format": "email"})
    password = _new_password()
    invitation = StrictCharField(
        max_length=128,
        required=False,
        help_text="The secret of an admin's invitation link (the last part of `/invite/<secret>`): the account gets "
        "the invitation's role and quota, and registration works even while it is closed "
        "(404 `invitation_not_valid` if used, expired or revoked).",
    )


class RegisterOutput(serializers.Serializer):
    user = UserSerializer()
    recovery_key = serializers.CharField(help_text="Shown once: store it somewhere safe.")


class TokenInput(serializers.Serializer):
    username = StrictCharField(max_length=64)
    password = StrictCharField(max_length=1024, trim_whitespace=False)
    otp = StrictCharField(
        max_length=64,
        required=False,
        help_text="The two-factor code (6 digits from the authenticator app, or a backup code), for an account that "
        "has two-factor sign-in on; without it such an account's sign-in answers 401 otp_required.",
    )


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    recovery_key = serializers.CharField(
        required=False, help_text="Only when this login created the account's keys (first login, after an admin reset)."
    )


class RefreshInput(serializers.Serializer):
    refresh = StrictCharField(max_length=4096)


class PasswordChangeInput(serializers.Serializer):
    old_password = StrictCharField(
        max_length=1024, trim_whitespace=False, help_text="The current password (400 `wrong_password` if not)."
    )
    new_password = _new_password()


class RecoverInput(serializers.Serializer):
    username = StrictCharField(max_length=64)
    recovery_key = StrictCharField(
        max_length=128, help_text="The account's recovery key (400 `invalid_recovery` if it does not match)."
    )
    new_password = _new_password()


class RecoverOutput(serializers.Serializer):
    recovery_key = serializers.CharField(help_text="A new recovery key; the old one no longer works.")


class AppPasswordInput(serializers.Serializer):
    name = StrictCharField(
        max_length=100,
        trim_whitespace=False,
        pattern=NOT_BLANK_NO_NUL_PATTERN,
        pattern_message="This field may not be blank.",
        help_text="1 to 100 characters, not all spaces (runs of whitespace become one space).",
    )


class AppPasswordSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="Opened from its sealed form with the caller's unlocked key.")

    class Meta:
        model = AppPassword
        fields = ["id", "name", "created_at", "last_used_at"]
        read_only_fields = fields


class AppPasswordCreatedSerializer(AppPasswordSerializer):
    password = serializers.CharField(help_text="Shown once.")

    class Meta(AppPasswordSerializer.Meta):
        fields = [*AppPasswordSerializer.Meta.fields, "password"]
        read_only_fields = fields


class AccountDeleteInput(serializers.Serializer):
    password = StrictCharField(
        max_length=1024, trim_whitespace=False, help_text="The account password (400 `wrong_password` if not)."
    )


class UnlockSessionSerializer(serializers.ModelSerializer):
    """A signed-in device. ``name`` is the one its user gave it (opened with their unlocked key) or else
    ``device``, read from its User-Agent at sign-in."""

    current = serializers.SerializerMethodField(help_text="True for the session making this request.")
    name = serializers.SerializerMethodField(help_text="The user's name for this device, or else `device`.")
    device = serializers.SerializerMethodField(help_text='Read from the User-Agent at sign-in: "Firefox on Linux".')
    renamed = serializers.SerializerMethodField(help_text="True when `name` is one the user gave.")

    class Meta:
        model = UnlockSession
        fields = ["id", "name", "device", "renamed", "kind", "created_at", "expires_at", "ip", "user_agent", "current"]
        read_only_fields = fields

    def _named(self, obj):
        if not hasattr(obj, "renamed"):
            keys = self.context.get("account_keys")
            given = keys.session_name(obj) if keys is not None and obj.name_sealed else None
            obj.renamed = given is not None
            obj.name = given or obj.device or device_name(obj.user_agent)
        return obj

    def get_current(self, obj) -> bool:
        return str(obj.pk) == str(self.context.get("current_session_id"))

    def get_name(self, obj) -> str:
        return self._named(obj).name

    def get_device(self, obj) -> str:
        return obj.device or device_name(obj.user_agent)

    def get_renamed(self, obj) -> bool:
        return self._named(obj).renamed


class SessionRenameInput(serializers.Serializer):
    name = StrictCharField(
        max_length=64,
        allow_blank=True,
        trim_whitespace=False,
        help_text="0 to 64 characters (runs of whitespace become one space); empty goes back to `device`. "
        "Stored sealed under the user's key.",
    )


class SettingsInput(serializers.Serializer):
    keep_versions = serializers.IntegerField(
        min_value=0, max_value=10_000, required=False, help_text="Keep the newest N versions of each file; 0 keeps all."
    )


class TwoFactorStatusOutput(serializers.Serializer):
    enabled = serializers.BooleanField()
    enabled_at = serializers.DateTimeField(allow_null=True)
    pending = serializers.BooleanField(help_text="An enrolment waits for its first code.")
    backup_codes_left = serializers.IntegerField()


class TwoFactorEnrolInput(serializers.Serializer):
    password = StrictCharField(max_length=1024, trim_whitespace=False)


class TwoFactorEnrolOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="The TOTP secret in base32, to type into an authenticator by hand.")
    uri = serializers.CharField(help_text="The otpauth:// URI that the QR code holds.")
    qr_svg = serializers.CharField(help_text="The URI as a QR code: an <svg> element, drawn by the server.")


class TwoFactorCodeInput(serializers.Serializer):
    code = StrictCharField(max_length=64, help_text="6 digits from the authenticator app.")


class TwoFactorChangeInput(serializers.Serializer):
    password = StrictCharField(max_length=1024, trim_whitespace=False)
    code = StrictCharField(max_length=64, help_text="6 digits from the authenticator app, or a backup code.")


class BackupCodesOutput(serializers.Serializer):
    backup_codes = serializers.ListField(
        child=serializers.CharField(), help_text="Ten one-time codes, shown this once: each signs in once."
    )
