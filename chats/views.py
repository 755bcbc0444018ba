"""The chat page: a thin shell, like the vault pages; and the page that tells how an assistant is connected.

The template's entry module (``static/js/chat.js``, over ``static/js/chat/``) lists chats and reads and posts messages
through the v1 JSON API with the browser's session and unlock cookies; the CSRF token
travels in a ``data-csrf`` attribute (the cookie is HttpOnly).

``/chats/assistant/`` shows ``docs/assistant.md`` (the one text, rendered like a note: CommonMark, no raw HTML) and
``/chats/assistant/examples/assistant_echo.py`` the example client it links to, as plain text.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from vault.notes.markdown import render as render_markdown

DOCS = settings.BASE_DIR / "docs"


@login_required
@never_cache
@require_safe
def chat_view(request, chat_id=None):
    """The list of chats and, with ``chat_id``, that chat's conversation (a missing one is the script's 404)."""
    return render(request, "chats/chat.html", {"chat_id": chat_id})


@login_required
@require_safe
def assistant_view(request):
    """How replies get into a chat: an assistant program the user connects (docs/assistant.md)."""
    text = (DOCS / "assistant.md").read_text(encoding="utf-8")
    return render(request, "chats/assistant.html", {"doc": render_markdown(text)})


@login_required
@require_safe
def assistant_example_view(request):
    """The example assistant (docs/examples/assistant_echo.py), to read or save."""
    source = (DOCS / "examples" / "assistant_echo.py").read_text(encoding="utf-8")
    response = HttpResponse(source, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response
