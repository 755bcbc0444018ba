"""The chat page: a thin shell, like the vault pages.

The template's entry module (``static/js/chat.js``, over ``static/js/chat/``) lists chats and reads and posts messages
through the v1 JSON API with the browser's session and unlock cookies; the CSRF token
travels in a ``data-csrf`` attribute (the cookie is HttpOnly).
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@login_required
@never_cache
@require_safe
def chat_view(request, chat_id=None):
    """The list of chats and, with ``chat_id``, that chat's conversation (a missing one is the script's 404)."""
    return render(request, "chats/chat.html", {"chat_id": chat_id})
