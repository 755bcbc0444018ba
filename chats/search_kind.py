"""Chat messages as a kind of the vault's registry (``vault.kinds``): found by search, opened in their chat,
re-indexed with the rest, deleted with the account. Registered from ``ChatsConfig.ready()``."""

from __future__ import annotations

from django.urls import reverse

from chats.models import Chat, Message
from chats.services import chat_title, index_message, message_content
from vault import kinds
from vault.models import SearchToken
from vault.notes.services import snippet


def describe_message(keys, message: Message, words) -> kinds.SearchView:
    return kinds.SearchView(
        name=chat_title(keys, message.chat) or "Chat",
        parent=str(message.chat_id),
        snippet=snippet(message_content(keys, message), words),
        url=f"{reverse('chat', args=[message.chat_id])}#message-{message.pk}",
    )


def reindex_messages(user, keys, step) -> int:
    return kinds.reindex_rows(
        Message.objects.filter(owner=user).select_related("chat").order_by("pk"),
        step,
        read=lambda message: message_content(keys, message),
        write=lambda message, content: index_message(user=user, keys=keys, message_id=message.pk, content=content),
    )


def wipe_chats(user) -> None:
    Chat.objects.filter(owner=user).delete()


def register() -> None:
    kinds.register(
        kinds.ItemKind(
            name="message",
            code=SearchToken.Kind.MESSAGE,
            model=Message,
            describe=describe_message,
            reindex=reindex_messages,
            live={},
            date_field="created_at",
            folder_field=None,
            select_related=("chat",),
            wipe=wipe_chats,
        )
    )
