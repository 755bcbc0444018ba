"""Vault pages: the file browser, the trash, search, and notes.

Thin shells: each renders a template whose entry module (``static/js/files.js``, ``trash.js``,
``search-page.js``, ``notes.js``, ``note.js``, over ``static/js/vault/``) reads and
writes everything through the v1 JSON API with the browser's session and unlock
cookies. The CSRF token travels in a ``data-csrf`` attribute (the cookie is HttpOnly).
The header's search box (``static/js/search.js``) is in ``base.html`` on every page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from locker.errors import LockerError
from locker.http import RequestMeta
from vault.derived import ocr
from vault.files.apis import vault_keys_if_unlocked


@login_required
@never_cache
@require_safe
def browser_view(request, folder_id=None, place="folder"):
    """A folder (the top level without ``folder_id``), or the Recent or Starred view (``place``)."""
    return render(request, "vault/browser.html", {"folder_id": folder_id, "place": place})


@login_required
@never_cache
@require_safe
def trash_view(request):
    return render(request, "vault/trash.html")


@login_required
@never_cache
@require_safe
def search_view(request):
    """Results and filters; the query string (``q``, ``type``, ``tag``...) is read by the script."""
    return render(request, "vault/search.html", {"q": request.GET.get("q", "")[:500]})


@login_required
@never_cache
@require_safe
def notes_view(request):
    return render(request, "vault/notes.html")


@login_required
@never_cache
@require_safe
def note_view(request, note_id=None):
    """The editor of one note; without ``note_id`` a new note, created by its first save."""
    return render(request, "vault/note.html", {"note_id": note_id})


@login_required
@require_POST
def text_recognition_settings_view(request):
    """The settings page's text recognition form: on or off, and the languages (checkboxes)."""
    enabled = request.POST.get("enabled") == "true"
    languages = request.POST.getlist("languages")
    try:
        ocr.settings_update(
            user=request.user,
            keys=vault_keys_if_unlocked(request),
            enabled=enabled,
            languages=languages or None,
            meta=RequestMeta.from_request(request),
        )
    except LockerError as exc:
        problems = [str(message) for messages_ in (exc.errors or {}).values() for message in messages_]
        messages.error(request, " ".join(problems) or exc.detail)
    else:
        messages.success(request, "Text recognition is on." if enabled else "Text recognition is off.")
    return redirect(reverse("settings") + "#text-recognition")
