"""Vault pages: the file browser and the trash.

Thin shells: each renders a template whose script (``static/js/vault.js``) reads and
writes everything through the v1 JSON API with the browser's session and unlock
cookies. The CSRF token travels in a ``data-csrf`` attribute (the cookie is HttpOnly).
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@login_required
@never_cache
@require_safe
def browser_view(request, folder_id=None):
    return render(request, "vault/browser.html", {"folder_id": folder_id})


@login_required
@never_cache
@require_safe
def trash_view(request):
    return render(request, "vault/trash.html")
