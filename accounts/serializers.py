"""Input and output serializers of the accounts API. Shape only; rules live in services."""

from rest_framework import serializers

from accounts.models import AppPassword, UnlockSession, User
from locker.serializers import StrictCharField


class UserSerializer(serializers.ModelSerializer):
    quota = serializers.IntegerField(source="storage_quota")
    usage = serializers.IntegerField(source="storage_used")
    keep_versions = serializers.IntegerField(source="vault_keep_versions")

    class Meta:
        model = User
        fields = ["id", "username", "email", "role", "quota", "usage", "keep_versions", "date_joined"]
        read_only_fields = fields


class RegisterInput(serializers.Serializer):
    username = StrictCharField(max_length=64)
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=1024, trim_whitespace=False)


class RegisterOutput(serializers.Serializer):
    user = UserSerializer()
    recovery_key = serializers.CharField(help_text="Shown once: store it somewhere safe.")


class TokenInput(serializers.Serializer):
    username = StrictCharField(max_length=64)
    password = StrictCharField(max_length=1024, trim_whitespace=False)


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    recovery_key = serializers.CharField(
        required=False, help_text="Only when this login created the account's keys (first login, after an admin reset)."
    )


class RefreshInput(serializers.Serializer):
    refresh = StrictCharField(max_length=4096)


class PasswordChangeInput(serializers.Serializer):
    old_password = StrictCharField(max_length=1024, trim_whitespace=False)
    new_password = StrictCharField(max_length=1024, trim_whitespace=False)


class RecoverInput(serializers.Serializer):
    username = StrictCharField(max_length=64)
    recovery_key = StrictCharField(max_length=128)
    new_password = StrictCharField(max_length=1024, trim_whitespace=False)


class RecoverOutput(serializers.Serializer):
    recovery_key = serializers.CharField(help_text="A new recovery key; the old one no longer works.")


class AppPasswordInput(serializers.Serializer):
    name = StrictCharField(max_length=100)


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
    password = StrictCharField(max_length=1024, trim_whitespace=False)


class UnlockSessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="True for the session making this request.")

    class Meta:
        model = UnlockSession
        fields = ["id", "kind", "created_at", "expires_at", "ip", "user_agent", "current"]
        read_only_fields = fields

    def get_current(self, obj) -> bool:
        return str(obj.pk) == str(self.context.get("current_session_id"))


class SettingsInput(serializers.Serializer):
    keep_versions = serializers.IntegerField(
        min_value=0, max_value=10_000, required=False, help_text="Keep the newest N versions of each file; 0 keeps all."
    )
