"""DRF authentication classes. Each returns ``(user, UnlockContext)``.

* Bearer JWT: valid only while its unlock session exists, so logout and a
  password change make it answer 401 at once, before its expiry.
* HTTP Basic with username + app password (never the account password).
* The browser session (CSRF enforced); the vault unlocks through the
  HttpOnly unlock cookie, or answers 423 without it.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.app_passwords import app_password_unlock_limited
from accounts.selectors import unlock_session_live
from accounts.tokens import session_from_token
from accounts.unlock import UnlockContext, context_from_cookie
from locker.errors import RateLimited


class SessionRevoked(exceptions.AuthenticationFailed):
    default_detail = _("This session has ended (logged out, password changed or expired). Sign in again.")
    default_code = "session_revoked"


class UnlockingJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is None:
            return None
        try:
            token = self.get_validated_token(raw)
        except InvalidToken:
            raise exceptions.AuthenticationFailed(
                {"code": "token_not_valid", "detail": "The token is invalid or expired."}
            ) from None
        parsed = session_from_token(token)
        if parsed is None:
            raise SessionRevoked({"code": "token_not_valid", "detail": "The token carries no unlock session."})
        session_id, secret = parsed
        session = unlock_session_live(user_id=token.get("user_id"), session_id=session_id)
        if session is None:
            raise SessionRevoked({"code": "session_revoked", "detail": str(SessionRevoked.default_detail)})
        if not session.user.is_active:
            raise exceptions.AuthenticationFailed(
                {"code": "account_inactive", "detail": "This account is deactivated."}
            )
        context = UnlockContext(user_id=session.user_id, session_id=session_id, session_secret=secret, session=session)
        request._request.locker_unlock = context  # for the upload handler, which sees only Django's request
        return session.user, context


class AppPasswordAuthentication(authentication.BasicAuthentication):
    www_authenticate_realm = "locker"

    def authenticate_credentials(self, userid, password, request=None):
        try:
            found = app_password_unlock_limited(request, username=userid, password=password)
        except RateLimited as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.detail) from None
        if found is None:
            raise exceptions.AuthenticationFailed(
                {"code": "invalid_credentials", "detail": "Wrong username or app password."}
            )
        user, row, udk = found
        context = UnlockContext(user_id=user.pk, app_password_id=row.pk, _udk=udk)
        if request is not None:
            request._request.locker_unlock = context
        return user, context

    def authenticate_header(self, request):
        # Bearer comes first in the list; keep its challenge for API clients.
        return None


class UnlockingSessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        return user, context_from_cookie(request._request, user)


class AppPasswordNotAllowed(exceptions.PermissionDenied):
    default_detail = {
        "code": "app_password_not_allowed",
        "detail": "An app password cannot change the account: sign in with your password (a browser or a token).",
    }


def refuse_app_password(request) -> None:
    """Account changes need a signed-in session (browser or token), not an app password: a client holding one
    cannot make more of them, revoke the others, sign devices out, or change the password, the second factor or
    the account. Raises 403 ``app_password_not_allowed``."""
    if isinstance(getattr(request, "successful_authenticator", None), AppPasswordAuthentication):
        raise AppPasswordNotAllowed()
