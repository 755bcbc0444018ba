"""The chats API (API.md, Chats and the assistant): chats, messages (JSON here), message status."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import pagination, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from chats import services
from chats.models import Chat, Message
from locker import ratelimit
from locker.errors import InvalidInput
from locker.http import RequestMeta
from locker.pagination import MAX_PAGE_SIZE, page_size_from, page_size_schema
from locker.serializers import ErrorSerializer, StrictCharField, StrictUUIDField, check_form, validated
from locker.textrules import NO_NUL_PATTERN, schema_pattern
from vault.files.apis import ERRORS, vault_keys
from vault.serializers import MarksDamage
from vault.transfers.receive import received_form


class ChatSerializer(MarksDamage):
    id = serializers.UUIDField()
    title = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_title(self, chat) -> str:
        return services.chat_title(self.context["keys"], chat)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.SerializerMethodField(help_text="The vault file id.")
    kind = serializers.CharField()
    name = serializers.SerializerMethodField()
    size = serializers.SerializerMethodField()
    mime_type = serializers.SerializerMethodField()
    duration = serializers.FloatField(allow_null=True)
    content_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()

    def _file(self, attachment):
        file = attachment.file
        return file if file is not None and file.trashed_at is None else None

    def get_id(self, attachment) -> str | None:
        return str(attachment.file_id) if attachment.file_id else None

    def get_name(self, attachment) -> str | None:
        file = self._file(attachment)
        return self.context["keys"].file_name(file) if file else None

    def get_size(self, attachment) -> int | None:
        file = self._file(attachment)
        return file.size if file else None

    def get_mime_type(self, attachment) -> str | None:
        file = self._file(attachment)
        return file.mime_type if file else None

    def get_content_url(self, attachment) -> str | None:
        file = self._file(attachment)
        return reverse("api-file-content", args=[file.pk], request=self.context.get("request")) if file else None

    def get_preview_url(self, attachment) -> str | None:
        file = self._file(attachment)
        derived = getattr(file.current_version, "derived", None) if file and file.current_version_id else None
        if not derived or not derived.preview_blob:
            return None
        return reverse("api-file-preview", args=[file.pk], request=self.context.get("request"))


class MessageSerializer(MarksDamage):
    id = serializers.UUIDField()
    chat = serializers.UUIDField(source="chat_id")
    role = serializers.CharField()
    status = serializers.CharField()
    content = serializers.SerializerMethodField()
    reply_to = serializers.UUIDField(source="reply_to_id", allow_null=True)
    created_at = serializers.DateTimeField()
    attachments = serializers.SerializerMethodField()

    def get_attachments(self, message) -> list[dict]:
        return AttachmentSerializer(message.attachments.all(), many=True, context=self.context).data

    def get_content(self, message) -> str:
        return services.message_content(self.context["keys"], message, self.context.get("chat"))


class ChatInput(serializers.Serializer):
    title = StrictCharField(
        max_length=services.MAX_TITLE,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"At most {services.MAX_TITLE} characters (runs of whitespace become one space).",
    )


CONTENT_HELP = f"At most {settings.LOCKER_MAX_MESSAGE_BYTES} bytes in UTF-8 (400 `message_too_large`)."


FOLDER_HELP = (
    f"One of your folders to keep this message's attachments in (404 for any other id); without it they go to "
    f"the top-level folder “{services.ATTACHMENTS_FOLDER}”, made on first use."
)


class MessageInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Message.Role.choices, default=Message.Role.USER)
    content = StrictCharField(
        allow_blank=True,
        trim_whitespace=False,
        schema_extra={"maxLength": settings.LOCKER_MAX_MESSAGE_BYTES},
        help_text=CONTENT_HELP,
    )
    reply_to = StrictUUIDField(
        required=False, allow_null=True, help_text="A message of this chat (400 when it is not one)."
    )
    folder = StrictUUIDField(
        required=False,
        allow_null=True,
        help_text=FOLDER_HELP,
    )


class MessageJSONInput(MessageInput):
    """The JSON body (for the schema): with no attachments, a message needs text (400 ``empty_message``)."""

    content = StrictCharField(
        trim_whitespace=False,
        schema_extra={"minLength": 1, "maxLength": settings.LOCKER_MAX_MESSAGE_BYTES},
        help_text=CONTENT_HELP,
    )


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Message.Status.choices)


class MessageCursor(pagination.CursorPagination):
    """Oldest to newest, stable under inserts.

    ``?latest=1`` (without a cursor) starts at the other end: the newest page, still oldest first
    within it, with a ``previous`` link to older messages and no ``next``. A chat opens on its
    newest messages in one request, however long it is.
    """

    ordering = ("created_at", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return page_size_from(request, param=self.page_size_query_param, default=self.page_size)

    def get_schema_operation_parameters(self, view):
        cursor, _ = super().get_schema_operation_parameters(view)
        return [cursor, page_size_schema(default=self.page_size)]

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        latest = request.query_params.get("latest", "0")
        if latest not in ("0", "1"):
            raise InvalidInput(errors={"latest": ["Must be 1 (start at the newest messages) or 0."]})
        if cursor is None and latest == "1":
            return pagination.Cursor(offset=0, reverse=True, position=None)
        return cursor  # a cursor (from a previous or next link) wins


class ChatListCreateApi(GenericAPIView):
    queryset = Chat.objects.none()  # for the schema; reads go through chats.services
    serializer_class = ChatSerializer

    @extend_schema(responses={200: ChatSerializer(many=True), **ERRORS}, tags=["chats"])
    def get(self, request):
        keys = vault_keys(request)
        page = self.paginate_queryset(services.chat_list(user=request.user))
        return self.get_paginated_response(ChatSerializer(page, many=True, context={"keys": keys}).data)

    @extend_schema(request=ChatInput, responses={201: ChatSerializer, **ERRORS}, tags=["chats"])
    def post(self, request):
        data = validated(ChatInput, request.data)
        keys = vault_keys(request)
        chat = services.chat_create(
            user=request.user, keys=keys, title=data.get("title", ""), meta=RequestMeta.from_request(request)
        )
        return Response(ChatSerializer(chat, context={"keys": keys}).data, status=status.HTTP_201_CREATED)


class ChatDetailApi(APIView):
    @extend_schema(responses={200: ChatSerializer, **ERRORS}, tags=["chats"])
    def get(self, request, pk):
        keys = vault_keys(request)
        return Response(ChatSerializer(services.chat_get(user=request.user, chat_id=pk), context={"keys": keys}).data)

    @extend_schema(request=ChatInput, responses={200: ChatSerializer, **ERRORS}, tags=["chats"])
    def patch(self, request, pk):
        data = validated(ChatInput, request.data)
        keys = vault_keys(request)
        chat = services.chat_update(
            user=request.user,
            keys=keys,
            chat_id=pk,
            title=data.get("title", ""),
            meta=RequestMeta.from_request(request),
        )
        return Response(ChatSerializer(chat, context={"keys": keys}).data)

    @extend_schema(
        responses={204: None, **ERRORS},
        tags=["chats"],
        description="Delete the chat and its messages for good; its attachments go to the trash.",
    )
    def delete(self, request, pk):
        services.chat_delete(user=request.user, chat_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


MESSAGE_POST_SCHEMA = {
    "request": {
        "application/json": MessageJSONInput,
        "multipart/form-data": {
            "type": "object",
            "properties": {
                "content": {
                    "type": "string",
                    "maxLength": settings.LOCKER_MAX_MESSAGE_BYTES,
                    "pattern": schema_pattern(NO_NUL_PATTERN),
                    "description": CONTENT_HELP,
                },
                "role": {"type": "string", "enum": list(Message.Role.values)},
                "reply_to": {"type": "string", "format": "uuid"},
                "folder": {"type": "string", "format": "uuid", "description": FOLDER_HELP},
                "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "audio": {"type": "string", "format": "binary"},
            },
            # text, a file or a recording (400 ``empty_message``)
            "anyOf": [
                {"required": ["content"], "properties": {"content": {"minLength": 1}}},
                {"required": ["file"], "properties": {"file": {"minItems": 1}}},
                {"required": ["audio"]},
            ],
        },
    },
    "responses": {201: MessageSerializer, 413: ErrorSerializer, 415: ErrorSerializer, 429: ErrorSerializer, **ERRORS},
}


class MessageListCreateApi(GenericAPIView):
    queryset = Message.objects.none()  # for the schema
    serializer_class = MessageSerializer
    pagination_class = MessageCursor
    upload_fields = (
        "file",
        "audio",
    )  # POST streams these multipart parts to encrypted blobs (vault.transfers.upload_handler)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "latest",
                OpenApiTypes.INT,
                enum=[0, 1],
                description="1: start at the newest page (oldest first within it; follow `previous` for older).",
            ),
            OpenApiParameter(
                "after",
                OpenApiTypes.UUID,
                description="Only the messages after this one (a message of this chat, else 400): what a client "
                "following the chat has not seen yet.",
            ),
        ],
        responses={200: MessageSerializer(many=True), **ERRORS},
        tags=["chats"],
    )
    def get(self, request, pk):
        keys = vault_keys(request)
        after = request.query_params.getlist("after")
        if len(after) > 1:
            raise InvalidInput(errors={"after": ["Give one message id."]})
        chat, messages = services.message_list(user=request.user, chat_id=pk, after=after[0] if after else None)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(
            MessageSerializer(page, many=True, context={"keys": keys, "chat": chat, "request": request}).data
        )

    @extend_schema(
        **MESSAGE_POST_SCHEMA,
        tags=["chats"],
        description="JSON {role, content}, or multipart with content, role, any number of `file` parts and one `audio` "
        "part. Atomic: the message and all its attachments are stored, or nothing is.",
    )
    def post(self, request, pk):
        ratelimit.enforce(request, group="message_user", value=str(request.user.pk))
        keys = vault_keys(request)
        form, received = received_form(request, check_size=request.content_type.startswith("multipart/"))
        check_form(MessageInput(), form)
        fields = {k: form.get(k) for k in ("role", "content", "reply_to", "folder") if k in form}
        fields.setdefault("content", "")
        data = validated(MessageInput, fields)
        files = received.get("file", [])
        audios = received.get("audio", [])
        if len(audios) > 1:
            raise InvalidInput(
                "Send one recording per message.", code="too_many_audio", errors={"audio": ["One part."]}
            )
        audio = audios[0] if audios else None
        if audio is not None:
            ratelimit.enforce(request, group="audio_user", value=str(request.user.pk))
        message = services.message_create(
            user=request.user,
            keys=keys,
            chat_id=pk,
            role=data["role"],
            content=data["content"],
            reply_to=data.get("reply_to"),
            files=files,
            audio=audio,
            folder_id=data.get("folder"),
            meta=RequestMeta.from_request(request),
        )
        message = services.message_list(user=request.user, chat_id=pk)[1].get(pk=message.pk)
        return Response(
            MessageSerializer(message, context={"keys": keys, "request": request}).data, status=status.HTTP_201_CREATED
        )


class AttachmentsFolderSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="Null until the first attachment makes the folder.")
    name = serializers.CharField()


class AttachmentsFolderApi(APIView):
    @extend_schema(
        responses={200: AttachmentsFolderSerializer, **ERRORS},
        tags=["chats"],
        description=f"Where attachments go by default: the top-level folder “{services.ATTACHMENTS_FOLDER}” "
        "(`id` null until the first attachment makes it).",
    )
    def get(self, request):
        folder = services.attachments_folder_find(user=request.user, keys=vault_keys(request))
        return Response({"id": str(folder.pk) if folder else None, "name": services.ATTACHMENTS_FOLDER})


class MessageDetailApi(APIView):
    @extend_schema(request=StatusInput, responses={200: OpenApiTypes.OBJECT, **ERRORS}, tags=["chats"])
    def patch(self, request, pk):
        data = validated(StatusInput, request.data)
        message = services.message_status_update(
            user=request.user, message_id=pk, status=data["status"], meta=RequestMeta.from_request(request)
        )
        return Response({"id": str(message.pk), "status": message.status})
