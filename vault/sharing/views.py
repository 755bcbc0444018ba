"""The public side of links: ``/s/<token>`` (a page), its downloads and a folder's zip. No account needed.

Every failure (unknown, expired, revoked, used up, wrong password) is the same 404 page. A correct password is
remembered in the visitor's session for that link only. The token is a path segment: the log filters in
``locker.logredact`` keep it out of every log line (Django's and gunicorn's access log).
"""

from __future__ import annotations

import functools

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from locker import ratelimit
from locker.errors import LockerError, RateLimited
from locker.http import client_ip
from vault.sharing import links
from vault.transfers.archive import zip_response
from vault.transfers.http import content_response, download_name, preview_response

SESSION_KEY = "locker_links"


def _gone(request):
    return render(request, "vault/link_gone.html", status=404)


def _opened(request, token):
    """``(link, keys)`` when the link works and its password (if any) was given in this session; else None."""
    try:
        link, keys = links.link_open(token)
    except links.LinkGone:
        return None
    if link.password_hash and str(link.pk) not in request.session.get(SESSION_KEY, []):
        return link, None
    return link, keys


def _unlocked(view):
    """A view of a working link whose password (if any) this visitor gave, called as ``view(request, link, keys,
    ...)``; anything else is the 404 page."""

    @functools.wraps(view)
    def wrapper(request, token, **kwargs):
        opened = _opened(request, token)
        if opened is None or opened[1] is None:
            return _gone(request)
        return view(request, *opened, **kwargs)

    return wrapper


def _rows(link, keys):
    """The link's files as ``(file, path within the link)``, folders first by path."""
    names: dict = {}

    def folder_path(folder):
        if folder is None or folder.pk == link.folder_id:
            return ""
        if folder.pk not in names:
            names[folder.pk] = f"{folder_path(folder.parent)}{keys.folder_name(folder)}/"
        return names[folder.pk]

    rows = [
        (file, folder_path(file.folder if link.kind == "folder" else None) + keys.file_name(file))
        for file in links.link_files(link)
    ]
    return sorted(rows, key=lambda row: (row[1].count("/") == 0, row[1].casefold()))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def link_page(request, token):
    opened = _opened(request, token)
    if opened is None:
        return _gone(request)
    link, keys = opened
    if request.method == "POST":
        try:
            ratelimit.enforce(request, group="link_password_link", value=str(link.pk))
            ratelimit.enforce(request, group="link_password_ip", value=client_ip(request) or "unknown")
        except RateLimited:
            return render(request, "vault/link_gone.html", status=429)
        if not links.link_password_ok(link, request.POST.get("password", "")):
            return _gone(request)
        request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, [])[-49:], str(link.pk)]
        return redirect(request.path)
    if keys is None:
        return render(request, "vault/link_password.html")
    links.link_viewed(link)
    rows = _rows(link, keys)
    item_name = keys.folder_name(link.folder) if link.kind == "folder" else rows[0][1] if rows else ""
    preview = None
    if link.kind == "file" and rows:
        derived = getattr(rows[0][0].current_version, "derived", None)
        preview = rows[0][0] if derived is not None and derived.preview_blob else None
    return render(
        request,
        "vault/link.html",
        {"link": link, "name": item_name, "rows": rows, "total": sum(f.size for f, _ in rows), "preview": preview},
    )


@never_cache
@require_safe
@_unlocked
def link_download(request, link, keys, file_id):
    try:
        file = links.link_file(link, file_id)
        wanted = request.headers.get("Range", "")
        resumed = wanted.startswith("bytes=") and not wanted[6:].startswith("0-")
        if request.method == "GET" and not resumed:  # a resumed range is the same download, not another
            links.link_download_record(link, what="file")
    except links.LinkGone:
        return _gone(request)
    return content_response(request, keys=keys, file=file, version=file.current_version, name=download_name(keys, file))


@never_cache
@require_safe
@_unlocked
def link_zip(request, link, keys):
    """The whole folder as one zip, built while it streams (constant memory)."""
    if link.kind != "folder":
        return _gone(request)
    try:
        links.link_download_record(link, what="zip")
    except links.LinkGone:
        return _gone(request)
    entries = [(path, file) for file, path in _rows(link, keys) if file.current_version_id]
    return zip_response(keys, entries, filename=f"{keys.folder_name(link.folder)}.zip")


@never_cache
@require_safe
@_unlocked
def link_preview(request, link, keys, file_id):
    """A file's thumbnail on the link's page (not counted as a download)."""
    try:
        return preview_response(request, keys=keys, file=links.link_file(link, file_id))
    except LockerError:  # no thumbnail, or the link went away: the same 404 page
        return _gone(request)
