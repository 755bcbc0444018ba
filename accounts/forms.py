"""Forms of the account pages and the admin: shape only; the services hold the rules."""

from django import forms
from django.conf import settings

from accounts.models import MAX_STORAGE_QUOTA, User
from locker.units import MAX_INPUT_LENGTH, SizeError, format_size_exact, parse_size


class QuotaField(forms.CharField):
    """A storage quota typed in human units ("5 GB", "500 MiB", "1.5 TiB") or a number of bytes; shown back in
    the largest unit that keeps it exact, so saving a form unchanged changes nothing."""

    default_help_text = (
        "For example 5 GB, 500 MiB, 1.5 TiB or a number of bytes. GB = 1000³ bytes, GiB = 1024³ bytes; at most 1 PiB."
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", self.default_help_text)
        super().__init__(**kwargs)  # no max_length: the value is a number once read (parse_size checks the length)
        self.widget.attrs.setdefault("maxlength", str(MAX_INPUT_LENGTH))

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return format_size_exact(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_size(value, maximum=MAX_STORAGE_QUOTA)
        except SizeError as exc:
            raise forms.ValidationError(str(exc), code="invalid_size") from None


class RegisterForm(forms.Form):
    username = forms.CharField(
        max_length=64, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password_confirm = forms.CharField(
        label="Password (again)",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords differ.")
        return data


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=64, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        max_length=1024, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    otp = forms.CharField(
        label="Two-factor code",
        max_length=64,
        required=False,
        help_text="6 digits from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
    )

    def __init__(self, *args, ask_otp: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_otp:
            del self.fields["otp"]  # asked only of an account that has the factor on, after its password


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="New password",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_confirm = forms.CharField(
        label="New password (again)",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_confirm"):
            self.add_error("new_password_confirm", "The two passwords differ.")
        return data


class RecoverForm(forms.Form):
    username = forms.CharField(max_length=64, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    recovery_key = forms.CharField(
        max_length=128,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="The key you saved when you registered (groups of four characters).",
    )
    new_password = forms.CharField(
        label="New password",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class AppPasswordForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "e.g. laptop sync"}),
        help_text="Which client will use it (CLI, WebDAV, ...).",
    )


def _code_field(label: str = "Code", help_text: str = "6 digits from your authenticator app.") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=64,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
    )


def _your_password() -> forms.CharField:
    return forms.CharField(
        label="Your password",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TwoFactorEnrolForm(forms.Form):
    password = _your_password()


class TwoFactorConfirmForm(forms.Form):
    code = _code_field("Code from the app")


class TwoFactorChangeForm(forms.Form):
    password = _your_password()
    code = _code_field(help_text="6 digits from your authenticator app, or a backup code.")


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        max_length=1024, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm = forms.BooleanField(
        label="I understand that all my files, notes and chats will be destroyed and cannot be recovered.",
        required=True,
    )


class AdminResetForm(forms.Form):
    new_password = forms.CharField(label="New password", max_length=1024, strip=False, widget=forms.PasswordInput)
    confirm = forms.BooleanField(
        label="I understand this user's files, notes and chats will be destroyed and cannot be recovered.",
        required=True,
    )


class UserAdminForm(forms.ModelForm):
    """The admin's account form: the quota in human units."""

    storage_quota = QuotaField(label="Storage quota")

    class Meta:
        model = User
        fields = ["username", "email", "role", "is_active", "storage_quota"]


class InvitationForm(forms.Form):
    username_hint = forms.CharField(
        label="Username (suggested)",
        max_length=64,
        required=False,
        help_text="Filled in on the sign-up page; the person may choose another.",
    )
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.REGULAR)
    storage_quota = QuotaField(label="Storage quota")
    valid_days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=90, initial=7, help_text="The link works once, until then."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["storage_quota"].initial = settings.LOCKER_DEFAULT_QUOTA


class DeviceRenameForm(forms.Form):
    name = forms.CharField(
        label="Device name",
        max_length=64,
        required=False,
        help_text="Leave empty to go back to the name read from the browser.",
    )
