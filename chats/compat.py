"""Compatibility routes named in the assistant seed, as thin aliases of the v1 endpoints.

| alias | v1 endpoint |
|---|---|
| ``POST /api/auth/login`` | ``POST /api/v1/auth/token`` |
| ``POST /api/upload/files`` | ``POST /api/v1/files/`` |
| ``POST /api/messages`` | ``POST /api/v1/chats/{chat}/messages/`` (``chat`` in the body; default: newest chat) |
| ``POST /api/upload/audio`` | the same, with an ``audio`` part |
| ``GET /api/user/data`` | ``GET /api/v1/me/data`` |
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounts.apis import ERRORS, TokenApi
from accounts.serializers import TokenInput, TokenPairOutput
from chats import services
from chats.apis import MESSAGE_POST_SCHEMA, MessageListCreateApi
from vault.export.apis import MyDataApi
from vault.files.apis import ERRORS as VAULT_ERRORS
from vault.files.apis import UPLOAD_SCHEMA, FileListCreateApi, vault_keys


class LoginAlias(TokenApi):
    @extend_schema(
        request=TokenInput,
        responses={200: TokenPairOutput, **ERRORS},
        tags=["compatibility"],
        operation_id="compat_login",
        description="Alias of POST /api/v1/auth/token.",
    )
    def post(self, request):
        return super().post(request)


class UploadFilesAlias(FileListCreateApi):
    http_method_names = ["post", "options"]

    @extend_schema(
        **UPLOAD_SCHEMA,
        tags=["compatibility"],
        operation_id="compat_upload_files",
        description="Alias of POST /api/v1/files/.",
    )
    def post(self, request):
        return super().post(request)


class MessagesAlias(MessageListCreateApi):
    """``chat`` (optional) names the chat; without it the newest chat is used, or an "Assistant" chat is made."""

    http_method_names = ["post", "options"]

    def _chat_id(self, request):
        chat_id = request.query_params.get("chat") or request.data.get("chat")
        if chat_id:
            return chat_id
        newest = services.chat_list(user=request.user).first()
        if newest is not None:
            return newest.pk
        return services.chat_create(user=request.user, keys=vault_keys(request), title="Assistant").pk

    @extend_schema(
        **MESSAGE_POST_SCHEMA,
        tags=["compatibility"],
        operation_id="compat_messages",
        description="Alias of POST /api/v1/chats/{chat}/messages/ with `chat` in the body (optional).",
    )
    def post(self, request):
        return super().post(request, self._chat_id(request))


class UploadAudioAlias(MessagesAlias):
    @extend_schema(
        **MESSAGE_POST_SCHEMA,
        tags=["compatibility"],
        operation_id="compat_upload_audio",
        description="Alias of POST /api/v1/chats/{chat}/messages/ with an `audio` part (optional `content`, `chat`).",
    )
    def post(self, request):
        return super().post(request)


class UserDataAlias(MyDataApi):
    @extend_schema(
        parameters=[OpenApiParameter("since", OpenApiTypes.DATETIME, description="Only what changed since then.")],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **VAULT_ERRORS},
        tags=["compatibility"],
        operation_id="compat_user_data",
        description="Alias of GET /api/v1/me/data.",
    )
    def get(self, request):
        return super().get(request)
