"""Account pages: register (open, or through an invitation), recovery key, login, logout, recover, settings.

Thin views over the same services as the API. Secrets shown once (recovery
keys, app passwords) are rendered straight into the response of the POST that
made them, never stored in the session or redirected through a URL.
"""

from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import app_passwords as app_passwords
from accounts import invitations, selectors, services, twofactor
from accounts import sessions as account_sessions
from accounts.forms import (
    AccountDeleteForm,
    AppPasswordForm,
    DeviceRenameForm,
    LoginForm,
    PasswordChangeForm,
    RecoverForm,
    RegisterForm,
    TwoFactorChangeForm,
    TwoFactorConfirmForm,
    TwoFactorEnrolForm,
)
from accounts.models import UnlockSession
from accounts.unlock import SESSION_KEY as UNLOCK_SESSION_KEY
from accounts.unlock import clear_unlock_cookie, context_from_cookie, set_unlock_cookie
from activity import words
from activity.selectors import event_list
from locker import ratelimit
from locker.errors import LockerError, RateLimited, TwoFactorRequired, VaultLocked
from locker.http import RequestMeta

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _form_error(form, exc: LockerError) -> None:
    """Put a service error onto the form: per-field messages where the service named fields."""
    if exc.errors:
        for field, msgs in exc.errors.items():
            target = field if field in form.fields else None
            for msg in msgs:
                form.add_error(target, msg)
    else:
        form.add_error(None, exc.detail)


def _status_for(exc: LockerError) -> int:
    return exc.status_code if exc.status_code in (409, 413, 423, 429) else 400


def _with_retry_after(response, exc: LockerError):
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _safe_next(request, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _signed_in_response(request, result, make_response):
    """Sign the browser in, then build the page (so it shows the signed-in header and a fresh CSRF token)."""
    login(request, result.user, backend=MODEL_BACKEND)
    response = make_response()
    set_unlock_cookie(response, request, result.session.pk, result.session_secret)
    return response


def _recovery_key_page(request, recovery_key: str, *, reason: str, next_url: str = "home"):
    """The shown-once recovery key; "Continue" goes to ``next_url`` (a URL name or a local path)."""
    parts = urlsplit(resolve_url(next_url))
    response = render(
        request,
        "accounts/recovery_key.html",
        {
            "recovery_key": recovery_key,
            "reason": reason,
            "next_path": parts.path or "/",
            "next_query": parse_qsl(parts.query),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def _register_and_sign_in(request, form, template: str, context: dict, register):
    """The POST half of both sign-up pages: ``register(meta)`` makes the account, then the browser signs in
    and sees the recovery key once, as after any registration."""
    meta = RequestMeta.from_request(request)
    try:
        ratelimit.enforce(request, group="register_ip")
        user, recovery_key = register(meta)
        result = services.auth_login(
            username=user.username,
            password=form.cleaned_data["password"],
            kind=UnlockSession.Kind.BROWSER,
            meta=meta,
        )
    except invitations.InvitationInvalid:
        return _invitation_invalid(request)
    except LockerError as exc:
        _form_error(form, exc)
        return _with_retry_after(render(request, template, {**context, "form": form}, status=_status_for(exc)), exc)
    return _signed_in_response(request, result, lambda: _recovery_key_page(request, recovery_key, reason="registered"))


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def register_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    if not selectors.registration_open():
        return render(request, "accounts/register.html", {"closed": True}, status=403)
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _register_and_sign_in(
            request,
            form,
            "accounts/register.html",
            {},
            lambda meta: services.user_register(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                meta=meta,
            ),
        )
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


def _invitation_invalid(request):
    """One page for every link that does not lead to a sign-up (used, expired, revoked, unknown): no detail."""
    response = render(request, "accounts/invitation_invalid.html", status=404)
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_view(request, token):
    """Sign up through an admin's invitation link (works while open registration is closed)."""
    try:
        invitation = invitations.invitation_open(token=token)
    except invitations.InvitationInvalid:
        return _invitation_invalid(request)
    context = {"invitation": invitation, "signed_in_as": request.user if request.user.is_authenticated else None}
    if request.user.is_authenticated:  # accepting would make a second account while signed in as the first
        return render(request, "accounts/invitation.html", context)
    form = RegisterForm(request.POST or None, initial={"username": invitation.username_hint})
    if request.method == "POST" and form.is_valid():
        return _register_and_sign_in(
            request,
            form,
            "accounts/invitation.html",
            context,
            lambda meta: invitations.invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                meta=meta,
            ),
        )
    status = 400 if form.errors else 200
    response = render(request, "accounts/invitation.html", {**context, "form": form}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and _udk_or_none(request) is not None:
        return redirect(_safe_next(request))  # already signed in and unlocked
    form = LoginForm(request.POST or None, ask_otp="otp" in request.POST)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        otp = form.cleaned_data.get("otp") or None
        try:
            ratelimit.enforce(request, group="login_ip")
            ratelimit.enforce(request, group="login_user", value=username)
            if otp:
                ratelimit.enforce(request, group="otp_user", value=username)
                ratelimit.enforce(request, group="otp_user_hour", value=username)
            result = services.auth_login(
                username=username,
                password=form.cleaned_data["password"],
                otp=otp,
                kind=UnlockSession.Kind.BROWSER,
                meta=RequestMeta.from_request(request),
            )
        except TwoFactorRequired:
            form = LoginForm(initial={"username": username}, ask_otp=True)
            form.fields["username"].widget.attrs.pop("autofocus", None)
            form.fields["otp"].widget.attrs["autofocus"] = True
            asked = "Enter the code from your authenticator app (or a backup code), and your password again."
            context = {"form": form, "next": request.POST.get("next", ""), "otp_asked": asked}
            return render(request, "accounts/login.html", context, status=200)
        except LockerError as exc:
            _form_error(form, exc)
            status = 429 if isinstance(exc, RateLimited) else 400
            return _with_retry_after(render(request, "accounts/login.html", {"form": form}, status=status), exc)
        next_url = _safe_next(request)
        if result.recovery_key:
            return _signed_in_response(
                request,
                result,
                lambda: _recovery_key_page(request, result.recovery_key, reason="new_keys", next_url=next_url),
            )
        return _signed_in_response(request, result, lambda: redirect(next_url))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", ""), "registration_open": selectors.registration_open()},
    )


@require_http_methods(["GET", "POST"])
def logout_view(request):
    if request.method == "GET":
        return render(request, "accounts/logout.html")
    if request.user.is_authenticated:
        session_id = request.session.get(UNLOCK_SESSION_KEY)
        if session_id:
            services.auth_logout(user=request.user, session_id=session_id, meta=RequestMeta.from_request(request))
    logout(request)
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    clear_unlock_cookie(response)
    messages.info(request, "You are signed out; your vault is locked.")
    return response


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def recover_view(request):
    form = RecoverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.enforce(request, group="recover_ip")
            ratelimit.enforce(request, group="recover_user", value=form.cleaned_data["username"])
            recovery_key = services.account_recover(meta=RequestMeta.from_request(request), **form.cleaned_data)
        except LockerError as exc:
            _form_error(form, exc)
            return _with_retry_after(
                render(request, "accounts/recover.html", {"form": form}, status=_status_for(exc)), exc
            )
        if request.user.is_authenticated:
            logout(request)
        return _recovery_key_page(request, recovery_key, reason="recovered", next_url="login")
    return render(request, "accounts/recover.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def home_view(request):
    context = {
        "recent": words.worded(request, event_list(actor=request.user)[:5]),  # in words, names opened
        "unlocked": _udk_or_none(request) is not None,  # really opens the key: never "unlocked" when it is not
    }
    return render(request, "accounts/home.html", context)


def _udk_or_none(request) -> bytes | None:
    """This browser's data key, or None while its vault is locked (sealed names are then not shown)."""
    try:
        return context_from_cookie(request, request.user).udk()
    except VaultLocked:
        return None


def _settings_page(request, *, status=200, **forms):
    udk = _udk_or_none(request)
    sessions = list(selectors.unlock_session_list(user=request.user))
    context = {
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "app_password_form": forms.get("app_password_form") or AppPasswordForm(),
        "delete_form": forms.get("delete_form") or AccountDeleteForm(),
        "app_passwords": selectors.app_password_list(user=request.user, udk=udk),
        "sessions": selectors.unlock_session_names(sessions, user=request.user, udk=udk),
        "rename_form": forms.get("rename_form"),
        "rename_session_id": forms.get("rename_session_id"),
        "current_session_id": request.session.get(UNLOCK_SESSION_KEY),
        "recent": words.worded(request, event_list(actor=request.user)[:10]),
        "new_app_password": forms.get("new_app_password"),
        "two_factor": twofactor.status(request.user),
        "two_factor_enrol_form": forms.get("two_factor_enrol_form") or TwoFactorEnrolForm(prefix="tf"),
        "two_factor_confirm_form": forms.get("two_factor_confirm_form") or TwoFactorConfirmForm(prefix="tf"),
        "two_factor_off_form": forms.get("two_factor_off_form") or TwoFactorChangeForm(prefix="tf-off"),
        "two_factor_codes_form": forms.get("two_factor_codes_form") or TwoFactorChangeForm(prefix="tf-codes"),
        "enrolment": forms.get("enrolment"),
        "backup_codes": forms.get("backup_codes"),
    }
    response = render(request, "accounts/settings.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
def settings_view(request):
    return _settings_page(request)


@sensitive_post_parameters()
@login_required
@require_POST
def password_change_view(request):
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        meta = RequestMeta.from_request(request)
        try:
            udk = services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                meta=meta,
            )
        except LockerError as exc:
            _form_error(form, exc)
        else:
            session, secret = account_sessions.unlock_session_create(
                user=request.user, udk=udk, kind=UnlockSession.Kind.BROWSER, meta=meta
            )
            update_session_auth_hash(request, request.user)
            messages.success(request, "Password changed. Your other devices are signed out.")
            response = redirect("settings")
            set_unlock_cookie(response, request, session.pk, secret)
            return response
    return _settings_page(request, status=400, password_form=form)


@login_required
@require_POST
def app_password_create_view(request):
    form = AppPasswordForm(request.POST)
    if form.is_valid():
        try:
            udk = context_from_cookie(request, request.user).udk()
            row, password = app_passwords.app_password_create(
                user=request.user, udk=udk, name=form.cleaned_data["name"], meta=RequestMeta.from_request(request)
            )
        except VaultLocked:
            return _locked_redirect(request)
        except LockerError as exc:
            _form_error(form, exc)
        else:
            return _settings_page(request, status=201, new_app_password={"name": row.name, "password": password})
    return _settings_page(request, status=400, app_password_form=form)


def _otp_limits(request) -> None:
    ratelimit.enforce(request, group="otp_user", value=str(request.user.pk))
    ratelimit.enforce(request, group="otp_user_hour", value=str(request.user.pk))


def _two_factor_failed(request, exc: LockerError, form, key: str):
    _form_error(form, exc)
    response = _settings_page(request, status=_status_for(exc), **{key: form})
    return _with_retry_after(response, exc)


@sensitive_post_parameters()
@login_required
@require_POST
def two_factor_enrol_view(request):
    """Step 1: the password; the page then shows the QR code, the secret as text and asks for a first code."""
    form = TwoFactorEnrolForm(request.POST, prefix="tf")
    if not form.is_valid():
        return _settings_page(request, status=400, two_factor_enrol_form=form)
    try:
        enrolment = twofactor.enrol_begin(
            user=request.user, password=form.cleaned_data["password"], meta=RequestMeta.from_request(request)
        )
    except LockerError as exc:
        return _two_factor_failed(request, exc, form, "two_factor_enrol_form")
    return _settings_page(request, enrolment=enrolment)


@login_required
@require_POST
def two_factor_confirm_view(request):
    """Step 2: a first code turns it on; the page shows the backup codes, this once."""
    form = TwoFactorConfirmForm(request.POST, prefix="tf")
    if not form.is_valid():
        return _settings_page(request, status=400, two_factor_confirm_form=form)
    try:
        _otp_limits(request)
        codes = twofactor.enrol_confirm(
            user=request.user, code=form.cleaned_data["code"], meta=RequestMeta.from_request(request)
        )
    except LockerError as exc:
        return _two_factor_failed(request, exc, form, "two_factor_confirm_form")
    return _settings_page(request, backup_codes=codes)


def _two_factor_change(request, prefix: str, key: str, change):
    """A change that takes the password and a code (new backup codes, turning it off): the form, the limits on
    codes, the service. Returns ``(the service's answer, None)``, or ``(None, the page with the form's errors)``."""
    form = TwoFactorChangeForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return None, _settings_page(request, status=400, **{key: form})
    try:
        _otp_limits(request)
        return change(user=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data), None
    except LockerError as exc:
        return None, _two_factor_failed(request, exc, form, key)


@sensitive_post_parameters()
@login_required
@require_POST
def two_factor_codes_view(request):
    codes, failed = _two_factor_change(request, "tf-codes", "two_factor_codes_form", twofactor.backup_codes_renew)
    return failed or _settings_page(request, backup_codes=codes)


@sensitive_post_parameters()
@login_required
@require_POST
def two_factor_disable_view(request):
    _, failed = _two_factor_change(request, "tf-off", "two_factor_off_form", twofactor.disable)
    if failed:
        return failed
    messages.success(request, "Two-factor sign-in is off: your password alone signs you in.")
    return redirect(reverse("settings") + "#two-factor")


@login_required
@require_POST
def app_password_revoke_view(request, pk):
    try:
        app_passwords.app_password_revoke(user=request.user, app_password_id=pk, meta=RequestMeta.from_request(request))
    except LockerError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "App password revoked.")
    return redirect("settings")


@login_required
@require_POST
def session_revoke_view(request, pk):
    try:
        account_sessions.unlock_session_revoke(user=request.user, session_id=pk, meta=RequestMeta.from_request(request))
    except LockerError as exc:
        messages.error(request, exc.detail)
        return redirect("settings")
    if str(pk) == str(request.session.get(UNLOCK_SESSION_KEY)):
        logout(request)
        response = redirect("login")
        clear_unlock_cookie(response)
        return response
    messages.success(request, "That device is signed out.")
    return redirect("settings")


@login_required
@require_POST
def session_rename_view(request, pk):
    """Name one of my devices (the name sealed under my key: needs this browser unlocked)."""
    form = DeviceRenameForm(request.POST)
    if form.is_valid():
        try:
            udk = context_from_cookie(request, request.user).udk()
            account_sessions.unlock_session_rename(
                user=request.user,
                session_id=pk,
                udk=udk,
                name=form.cleaned_data["name"],
                meta=RequestMeta.from_request(request),
            )
        except VaultLocked:
            return _locked_redirect(request)
        except LockerError as exc:
            if exc.status_code == 404:
                messages.error(request, exc.detail)
                return redirect("settings")
            _form_error(form, exc)
        else:
            messages.success(request, "Device renamed.")
            return redirect(reverse("settings") + "#sessions")
    return _settings_page(request, status=400, rename_form=form, rename_session_id=str(pk))


@sensitive_post_parameters()
@login_required
@require_POST
def account_delete_view(request):
    form = AccountDeleteForm(request.POST)
    if form.is_valid():
        try:
            services.account_delete(
                user=request.user, password=form.cleaned_data["password"], meta=RequestMeta.from_request(request)
            )
        except LockerError as exc:
            _form_error(form, exc)
        else:
            logout(request)
            messages.info(request, "Your account and everything in it has been deleted.")
            response = redirect("login")
            clear_unlock_cookie(response)
            return response
    return _settings_page(request, status=400, delete_form=form)


def _locked_redirect(request):
    logout(request)
    messages.warning(request, "Your vault is locked: sign in again to unlock it.")
    response = redirect_to_login(reverse("settings"))
    clear_unlock_cookie(response)
    return response
