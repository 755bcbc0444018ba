"""The chats API (API.md, Chats and the assistant): chats, messages (JSON here), message status."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import pagination, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from chats import services
from chats.models import Chat, Message
from locker.http import RequestMeta
from locker.serializers import StrictCharField
from vault.apis import ERRORS, _validated, vault_keys


class ChatSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_title(self, chat) -> str:
        return services.chat_title(self.context["keys"], chat)


class MessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    chat = serializers.UUIDField(source="chat_id")
    role = serializers.CharField()
    status = serializers.CharField()
    content = serializers.SerializerMethodField()
    reply_to = serializers.UUIDField(source="reply_to_id", allow_null=True)
    created_at = serializers.DateTimeField()

    def get_content(self, message) -> str:
        return services.message_content(self.context["keys"], message, self.context.get("chat"))


class ChatInput(serializers.Serializer):
    title = StrictCharField(max_length=1000, required=False, allow_blank=True)


class MessageInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Message.Role.choices, default=Message.Role.USER)
    content = StrictCharField(allow_blank=True, trim_whitespace=False)
    reply_to = serializers.UUIDField(required=False, allow_null=True)


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Message.Status.choices)


class MessageCursor(pagination.CursorPagination):
    """Oldest to newest, stable under inserts."""

    ordering = ("created_at", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


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
        data = _validated(ChatInput, request.data)
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
        data = _validated(ChatInput, request.data)
        keys = vault_keys(request)
        chat = services.chat_update(user=request.user, keys=keys, chat_id=pk, title=data.get("title", ""))
        return Response(ChatSerializer(chat, context={"keys": keys}).data)

    @extend_schema(
        responses={204: None, **ERRORS}, tags=["chats"], description="Delete the chat and its messages for good."
    )
    def delete(self, request, pk):
        services.chat_delete(user=request.user, chat_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListCreateApi(GenericAPIView):
    queryset = Message.objects.none()  # for the schema
    serializer_class = MessageSerializer
    pagination_class = MessageCursor

    @extend_schema(responses={200: MessageSerializer(many=True), **ERRORS}, tags=["chats"])
    def get(self, request, pk):
        keys = vault_keys(request)
        chat, messages = services.message_list(user=request.user, chat_id=pk)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(
            MessageSerializer(page, many=True, context={"keys": keys, "chat": chat}).data
        )

    @extend_schema(request=MessageInput, responses={201: MessageSerializer, **ERRORS}, tags=["chats"])
    def post(self, request, pk):
        data = _validated(MessageInput, request.data)
        keys = vault_keys(request)
        message = services.message_create(
            user=request.user,
            keys=keys,
            chat_id=pk,
            role=data["role"],
            content=data["content"],
            reply_to=data.get("reply_to"),
            meta=RequestMeta.from_request(request),
        )
        return Response(MessageSerializer(message, context={"keys": keys}).data, status=status.HTTP_201_CREATED)


class MessageDetailApi(APIView):
    @extend_schema(request=StatusInput, responses={200: OpenApiTypes.OBJECT, **ERRORS}, tags=["chats"])
    def patch(self, request, pk):
        data = _validated(StatusInput, request.data)
        message = services.message_status_update(user=request.user, message_id=pk, status=data["status"])
        return Response({"id": str(message.pk), "status": message.status})
