"""Forms of the account pages: shape only; the services hold the rules."""

from django import forms


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
