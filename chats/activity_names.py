"""The titles of chats in a page of activity events, opened with the reader's keys (``activity.naming``): a chat
the event points at, or the one a message event names in its data (``chat``). The reader's own chats only, while
their vault is unlocked; an untitled, deleted or damaged one stays unnamed. One query for the page.
"""

from __future__ import annotations

from chats.models import Chat
from chats.services import chat_title
from locker.crypto.errors import CryptoError
from locker.errors import VaultLocked
from vault.common import is_uuid


def name_chats(request, refs: list) -> dict[tuple[str, str], str]:
    from vault.files.apis import vault_keys

    ids = {ref.object_id for ref in refs if ref.object_type == "chat" and is_uuid(ref.object_id)}
    if not ids or not getattr(request.user, "is_authenticated", False):
        return {}
    try:
        keys = vault_keys(request)
    except VaultLocked:
        return {}
    names = {}
    for chat in Chat.objects.filter(owner=request.user, pk__in=ids):
        try:
            title = chat_title(keys, chat)
        except (CryptoError, UnicodeDecodeError):
            continue
        if title:
            names[("chat", str(chat.pk))] = title
    return names
