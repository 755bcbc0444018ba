"""The accounts HTTP API (API.md, Accounts). Thin: validate, call one service, render."""

from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from accounts import app_passwords as app_passwords
from accounts import invitations, selectors, services, twofactor
from accounts import sessions as account_sessions
from accounts.authentication import UnlockingSessionAuthentication, refuse_app_password
from accounts.keys import AccountKeys
from accounts.models import AppPassword, UnlockSession
from accounts.serializers import (
    AccountDeleteInput,
    AppPasswordCreatedSerializer,
    AppPasswordInput,
    AppPasswordSerializer,
    BackupCodesOutput,
    PasswordChangeInput,
    RecoverInput,
    RecoverOutput,
    RefreshInput,
    RegisterInput,
    RegisterOutput,
    SessionRenameInput,
    SettingsInput,
    TokenInput,
    TokenPairOutput,
    TwoFactorChangeInput,
    TwoFactorCodeInput,
    TwoFactorEnrolInput,
    TwoFactorEnrolOutput,
    TwoFactorStatusOutput,
    UnlockSessionSerializer,
    UserSerializer,
)
from accounts.sessions import SessionEnded, TokenInvalid
from accounts.tokens import LockerRefreshToken, RedeemableRefreshToken, session_from_token, token_pair_for
from accounts.unlock import context_for_request, set_unlock_cookie
from locker import ratelimit
from locker.errors import VaultLocked
from locker.http import RequestMeta
from locker.serializers import ErrorSerializer, validated

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 413, 429)}
# two-factor changes: 403 app_password_not_allowed, 404 no enrolment waiting or two-factor off, 409 already on
TWO_FACTOR_ERRORS = {**ERRORS, **{code: OpenApiResponse(ErrorSerializer) for code in (403, 404, 409)}}


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=RegisterInput,
        responses={
            201: RegisterOutput,
            403: OpenApiResponse(ErrorSerializer, description="`registration_closed`: sign up with an invitation."),
            404: OpenApiResponse(ErrorSerializer, description="`invitation_not_valid`"),
            409: ErrorSerializer,
            **ERRORS,
        },
        tags=["accounts"],
    )
    def post(self, request):
        ratelimit.enforce(request, group="register_ip")
        invited = isinstance(request.data, dict) and "invitation" in request.data
        if not invited and not selectors.registration_open():
            raise services.RegistrationClosed()  # before any validation: the same answer to every request
        data = validated(RegisterInput, request.data)
        meta = RequestMeta.from_request(request)
        if "invitation" in data:
            user, recovery_key = invitations.invitation_accept(token=data.pop("invitation"), **data, meta=meta)
        else:
            user, recovery_key = services.user_register(**data, meta=meta)
        return Response(
            {"user": UserSerializer(user).data, "recovery_key": recovery_key}, status=status.HTTP_201_CREATED
        )


class TokenApi(APIView):
    """Log in: check the password, unlock the vault, return a JWT pair."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=TokenInput, responses={200: TokenPairOutput, **ERRORS}, tags=["accounts"])
    def post(self, request):
        ratelimit.enforce(request, group="login_ip")
        data = validated(TokenInput, request.data)
        ratelimit.enforce(request, group="login_user", value=data["username"])
        if data.get("otp"):
            ratelimit.enforce(request, group="otp_user", value=data["username"])
            ratelimit.enforce(request, group="otp_user_hour", value=data["username"])
        result = services.auth_login(
            username=data["username"],
            password=data["password"],
            otp=data.get("otp"),
            kind=UnlockSession.Kind.TOKEN,
            meta=RequestMeta.from_request(request),
        )
        body = token_pair_for(user=result.user, session=result.session, session_secret=result.session_secret)
        if result.recovery_key:
            body["recovery_key"] = result.recovery_key
        return Response(body)


class TokenRefreshApi(APIView):
    """Rotate a refresh token: it is spent once; the unlock session slides with the new pair.

    Presenting an already spent token ends its session (reuse detection, see
    :func:`accounts.services.token_refresh`).
    """

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=RefreshInput, responses={200: TokenPairOutput, **ERRORS}, tags=["accounts"])
    def post(self, request):
        try:
            token = RedeemableRefreshToken(validated(RefreshInput, request.data)["refresh"])
        except TokenError:
            raise TokenInvalid() from None
        return Response(account_sessions.token_refresh(token=token, meta=RequestMeta.from_request(request)))


def _refresh_and_session(request) -> tuple[LockerRefreshToken, UnlockSession]:
    """The request's refresh token, checked (signature, expiry, not spent), and its live unlock session."""
    refresh = validated(RefreshInput, request.data)["refresh"]
    try:
        token = LockerRefreshToken(refresh)
    except TokenError:
        raise TokenInvalid() from None
    parsed = session_from_token(token)
    session = parsed and selectors.unlock_session_live(user_id=token.get("user_id"), session_id=parsed[0])
    if not session:
        raise SessionEnded()
    return token, session


class LogoutApi(APIView):
    """End this client's session: its tokens stop working and decrypting at once."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=RefreshInput, responses={204: None, **ERRORS}, tags=["accounts"])
    def post(self, request):
        token, session = _refresh_and_session(request)
        services.auth_logout(user=session.user, session_id=session.pk, meta=RequestMeta.from_request(request))
        token.blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    @extend_schema(request=PasswordChangeInput, responses={204: None, **ERRORS}, tags=["accounts"])
    def post(self, request):
        refuse_app_password(request)
        data = validated(PasswordChangeInput, request.data)
        udk = services.password_change(user=request.user, meta=RequestMeta.from_request(request), **data)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        if isinstance(request.successful_authenticator, UnlockingSessionAuthentication):
            # The browser that made the change stays signed in and unlocked.
            session, secret = account_sessions.unlock_session_create(
                user=request.user, udk=udk, kind=UnlockSession.Kind.BROWSER, meta=RequestMeta.from_request(request)
            )
            update_session_auth_hash(request._request, request.user)
            set_unlock_cookie(response, request._request, session.pk, secret)
        return response


def _otp_limits(request) -> None:
    """Count a two-factor code tried for the signed-in account (per minute and per hour)."""
    ratelimit.enforce(request, group="otp_user", value=str(request.user.pk))
    ratelimit.enforce(request, group="otp_user_hour", value=str(request.user.pk))


class TwoFactorApi(APIView):
    """Whether my account signs in with a second factor (docs/two-factor.md)."""

    @extend_schema(responses={200: TwoFactorStatusOutput, **ERRORS}, tags=["accounts"])
    def get(self, request):
        return Response(TwoFactorStatusOutput(twofactor.status(request.user)).data)


class TwoFactorEnrolApi(APIView):
    """Start turning on two-factor sign-in: a new secret, as text, URI and QR code. Confirm with a first code."""

    @extend_schema(
        request=TwoFactorEnrolInput, responses={200: TwoFactorEnrolOutput, **TWO_FACTOR_ERRORS}, tags=["accounts"]
    )
    def post(self, request):
        refuse_app_password(request)
        data = validated(TwoFactorEnrolInput, request.data)
        enrolment = twofactor.enrol_begin(user=request.user, meta=RequestMeta.from_request(request), **data)
        return Response({"secret": enrolment.secret, "uri": enrolment.uri, "qr_svg": enrolment.qr_svg})


class TwoFactorConfirmApi(APIView):
    """Turn two-factor sign-in on with a first code; answers the backup codes, shown this once."""

    @extend_schema(
        request=TwoFactorCodeInput, responses={200: BackupCodesOutput, **TWO_FACTOR_ERRORS}, tags=["accounts"]
    )
    def post(self, request):
        refuse_app_password(request)
        data = validated(TwoFactorCodeInput, request.data)
        _otp_limits(request)
        codes = twofactor.enrol_confirm(user=request.user, meta=RequestMeta.from_request(request), **data)
        return Response({"backup_codes": codes})


class TwoFactorDisableApi(APIView):
    """Turn two-factor sign-in off: the password and a current code (or a backup code)."""

    @extend_schema(request=TwoFactorChangeInput, responses={204: None, **TWO_FACTOR_ERRORS}, tags=["accounts"])
    def post(self, request):
        refuse_app_password(request)
        data = validated(TwoFactorChangeInput, request.data)
        _otp_limits(request)
        twofactor.disable(user=request.user, meta=RequestMeta.from_request(request), **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BackupCodesApi(APIView):
    """New backup codes (the old ones stop working): the password and a current code."""

    @extend_schema(
        request=TwoFactorChangeInput, responses={200: BackupCodesOutput, **TWO_FACTOR_ERRORS}, tags=["accounts"]
    )
    def post(self, request):
        refuse_app_password(request)
        data = validated(TwoFactorChangeInput, request.data)
        _otp_limits(request)
        codes = twofactor.backup_codes_renew(user=request.user, meta=RequestMeta.from_request(request), **data)
        return Response({"backup_codes": codes})


class RecoverApi(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=RecoverInput, responses={200: RecoverOutput, **ERRORS}, tags=["accounts"])
    def post(self, request):
        ratelimit.enforce(request, group="recover_ip")
        data = validated(RecoverInput, request.data)
        ratelimit.enforce(request, group="recover_user", value=data["username"])
        key = services.account_recover(meta=RequestMeta.from_request(request), **data)
        return Response({"recovery_key": key})


class AppPasswordListCreateApi(ListAPIView):
    serializer_class = AppPasswordSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AppPassword.objects.none()
        # The names are sealed: listing them needs the unlocked key (423 without it).
        return selectors.app_password_list(user=self.request.user, udk=context_for_request(self.request).udk())

    @extend_schema(responses={200: AppPasswordSerializer(many=True), 423: ErrorSerializer}, tags=["accounts"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=AppPasswordInput,
        responses={201: AppPasswordCreatedSerializer, 409: ErrorSerializer, 423: ErrorSerializer, **ERRORS},
        tags=["accounts"],
    )
    def post(self, request):
        refuse_app_password(request)
        data = validated(AppPasswordInput, request.data)
        udk = context_for_request(request).udk()
        row, password = app_passwords.app_password_create(
            user=request.user, udk=udk, name=data["name"], meta=RequestMeta.from_request(request)
        )
        row.password = password
        return Response(AppPasswordCreatedSerializer(row).data, status=status.HTTP_201_CREATED)


class AppPasswordDetailApi(APIView):
    @extend_schema(responses={204: None, 404: ErrorSerializer}, tags=["accounts"])
    def delete(self, request, pk):
        own = getattr(request.auth, "app_password_id", None)
        if own is not None and str(own) != str(pk):
            refuse_app_password(request)  # an app password revokes itself (sign out), not the others
        app_passwords.app_password_revoke(user=request.user, app_password_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListApi(ListAPIView):
    """My signed-in clients (browsers and API tokens), newest first."""

    serializer_class = UnlockSessionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return UnlockSession.objects.none()
        return selectors.unlock_session_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_session_context(self.request)}

    @extend_schema(tags=["accounts"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _session_context(request) -> dict:
    """What the session serializer needs: the caller's session, and their key to open device names (none while
    their vault is locked: names then fall back to the one read from the User-Agent)."""
    unlock = context_for_request(request)
    try:
        keys = AccountKeys(request.user.pk, unlock.udk())
    except VaultLocked:
        keys = None
    return {"current_session_id": unlock.session_id, "account_keys": keys}


class SessionDetailApi(APIView):
    @extend_schema(
        request=SessionRenameInput,
        responses={200: UnlockSessionSerializer, 404: ErrorSerializer, 423: ErrorSerializer, **ERRORS},
        tags=["accounts"],
        description="Name a signed-in device (sealed under the user's key). An empty name goes back to the one "
        "read from its User-Agent.",
    )
    def patch(self, request, pk):
        refuse_app_password(request)
        data = validated(SessionRenameInput, request.data)
        udk = context_for_request(request).udk()
        session = account_sessions.unlock_session_rename(
            user=request.user, session_id=pk, udk=udk, name=data["name"], meta=RequestMeta.from_request(request)
        )
        session.renamed = bool(session.name)
        session.name = session.name or session.device or "Unknown device"
        context = {"request": request, **_session_context(request)}
        return Response(UnlockSessionSerializer(session, context=context).data)

    @extend_schema(responses={204: None, 404: ErrorSerializer}, tags=["accounts"], description="Sign a client out.")
    def delete(self, request, pk):
        refuse_app_password(request)
        account_sessions.unlock_session_revoke(user=request.user, session_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses={200: UserSerializer}, tags=["accounts"])
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=SettingsInput, responses={200: UserSerializer, **ERRORS}, tags=["accounts"])
    def patch(self, request):
        data = validated(SettingsInput, request.data)
        user = services.user_settings_update(user=request.user, meta=RequestMeta.from_request(request), **data)
        return Response(UserSerializer(user).data)

    @extend_schema(
        request=AccountDeleteInput,
        responses={204: None, **ERRORS},
        tags=["accounts"],
        description="Delete the account and crypto-shred its vault. Needs the password.",
    )
    def delete(self, request):
        refuse_app_password(request)
        data = validated(AccountDeleteInput, request.data)
        services.account_delete(user=request.user, password=data["password"], meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
