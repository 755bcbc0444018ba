"""PROPFIND ``Depth: 1`` of a folder, written directly: the answer clients ask for most, and the one that grows
with a folder's size.

WsgiDAV builds one resource object and an XML element tree per child and asks each for every property one call
at a time (about 100 µs a child). Here the children are read in two queries as plain tuples, their names
decrypted in one pass, and each ``<response>`` is formatted from a template: the same properties, names and
statuses WsgiDAV would answer (``tests/vault/test_dav.py`` compares both), in a fraction of the time.

Only the live properties are known here. When a dead property (PROPPATCH) is stored under the folder, or any
lock exists, or the request asks for ``propname`` or for ``include``, :func:`propfind_response` returns None and
WsgiDAV answers instead.
"""

from __future__ import annotations

from collections import namedtuple
from email.utils import formatdate
from time import gmtime, strftime
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.http import HttpResponse
from wsgidav.xml_tools import string_to_xml

from vault.models import File, Folder
from vault.transfers.dav.names import SHARED, is_junk
from vault.transfers.dav.provider import RootCollection, _VaultCollection

MAX_BODY = 64 * 1024
_SAFE = "/!*'(),$-_|."  # what WsgiDAV leaves unquoted in an href
_LOCKS = (
    "<D:lockdiscovery/><D:supportedlock><D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype>"
    "<D:write/></D:locktype></D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype>"
    "<D:write/></D:locktype></D:lockentry></D:supportedlock>"
)
_OK, _MISSING = "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"
LIVE = (
    "resourcetype",
    "creationdate",
    "getcontentlength",
    "getcontenttype",
    "quota-used-bytes",
    "quota-available-bytes",
    "getlastmodified",
    "displayname",
    "getetag",
    "lockdiscovery",
    "supportedlock",
)

FolderRow = namedtuple("FolderRow", "pk owner_id parent_id key_wrapped name_sealed created_at modified_at")
FileRow = namedtuple(
    "FileRow", "pk owner_id folder_id key_wrapped name_sealed current_version_id size mime_type created_at modified_at"
)


def _requested(body: bytes) -> list[tuple[str, str]] | None:
    """``[(namespace, name)]`` of a ``<prop>`` request, ``[]`` for allprop (or no body); None: WsgiDAV's to answer."""
    if not body.strip():
        return []
    try:
        root = string_to_xml(body)
    except Exception:  # noqa: BLE001 - any parse failure is WsgiDAV's to report (400)
        return None
    if root.tag != "{DAV:}propfind" or len(root) != 1:
        return None
    child = root[0]
    if child.tag == "{DAV:}allprop":
        return []
    if child.tag != "{DAV:}prop":
        return None
    wanted = []
    for element in child:
        if not isinstance(element.tag, str) or not element.tag.startswith("{"):
            return None
        namespace, _, name = element.tag[1:].partition("}")
        wanted.append((namespace, name))
    return wanted or None


def _dead_or_locked(provider, prefix: str) -> bool:
    prop_manager, lock_manager = provider.prop_manager, provider.lock_manager
    props = getattr(prop_manager, "_dict", None) or {}  # None until WsgiDAV stores the first one
    if any(url.startswith(prefix) for url in props):
        return True
    storage = getattr(lock_manager, "storage", None) if lock_manager is not None else None
    locks = getattr(storage, "_dict", None)
    return lock_manager is not None and (locks is None or len(locks) > 0)


def _rfc1123(dt) -> str:
    return formatdate(dt.timestamp(), usegmt=True)


def _rfc3339(dt) -> str:
    return strftime("%Y-%m-%dT%H:%M:%SZ", gmtime(dt.timestamp()))


class _Writer:
    def __init__(self, mount: str, wanted: list[tuple[str, str]]):
        self.mount, self.wanted, self.parts = mount, wanted, []
        self.all = not wanted

    def href(self, path: str) -> str:
        return quote(self.mount + path, safe=_SAFE)

    def add(self, path: str, props: dict[str, str]) -> None:
        """One ``<response>``: ``props`` maps a live DAV property's name to its inner XML."""
        if self.all:
            found = "".join(f"<D:{name}>{value}</D:{name}>" for name, value in props.items())
            missing = ""
        else:
            found_parts, missing_parts = [], []
            for namespace, name in self.wanted:
                if namespace == "DAV:" and name in props:
                    value = props[name]
                    found_parts.append(
                        value if name in ("lockdiscovery", "supportedlock") else f"<D:{name}>{value}</D:{name}>"
                    )
                elif namespace == "DAV:":
                    missing_parts.append(f"<D:{name}/>")
                else:
                    missing_parts.append(f'<ns0:{name} xmlns:ns0="{escape(namespace)}"/>')
            found, missing = "".join(found_parts), "".join(missing_parts)
        stats = ""
        if found or self.all:
            stats += f"<D:propstat><D:prop>{found}</D:prop><D:status>{_OK}</D:status></D:propstat>"
        if missing:
            stats += f"<D:propstat><D:prop>{missing}</D:prop><D:status>{_MISSING}</D:status></D:propstat>"
        self.parts.append(f"<D:response><D:href>{self.href(path)}</D:href>{stats}</D:response>")

    def body(self) -> bytes:
        head = "<?xml version='1.0' encoding='UTF-8'?>\n<D:multistatus xmlns:D=\"DAV:\">"
        return (head + "".join(self.parts) + "</D:multistatus>").encode()


def _collection_props(*, created, modified, name, quota) -> dict:
    props = {"resourcetype": "<D:collection/>"}
    if created is not None:
        props["creationdate"] = _rfc3339(created)
    if quota is not None:
        props["quota-used-bytes"], props["quota-available-bytes"] = str(quota[0]), str(quota[1])
    if modified is not None:
        props["getlastmodified"] = _rfc1123(modified)
    props["displayname"] = escape(name)
    return props


def _file_props(row: FileRow, name: str) -> dict:
    props = {
        "resourcetype": "",
        "creationdate": _rfc3339(row.created_at),
        "getcontentlength": str(row.size),
        "getcontenttype": escape(row.mime_type),
        "getlastmodified": _rfc1123(row.modified_at),
        "displayname": escape(name),
    }
    if row.current_version_id:
        props["getetag"] = row.current_version_id.hex
    return props


def _with_locks(props: dict) -> dict:
    props["lockdiscovery"] = "<D:lockdiscovery/>"
    props["supportedlock"] = _LOCKS.removeprefix("<D:lockdiscovery/>")
    return props


class _AllPropWriter(_Writer):
    def add(self, path: str, props: dict[str, str]) -> None:
        inner = "".join(
            value if name in ("lockdiscovery", "supportedlock") else f"<D:{name}>{value}</D:{name}>"
            for name, value in props.items()
        )
        self.parts.append(
            f"<D:response><D:href>{self.href(path)}</D:href><D:propstat><D:prop>{inner}</D:prop>"
            f"<D:status>{_OK}</D:status></D:propstat></D:response>"
        )


def propfind_response(request, environ: dict, node, mount: str) -> HttpResponse | None:
    """The 207 of a PROPFIND ``Depth: 1`` on a folder (or the top level), or None when WsgiDAV must answer."""
    if not isinstance(node, _VaultCollection) or environ.get("HTTP_DEPTH", "infinity").strip() != "1":
        return None
    body = environ["locker.dav.body"]
    wanted = _requested(body)
    if wanted is None or _dead_or_locked(node.provider, node.get_ref_url()):
        return None
    writer = _AllPropWriter(mount, wanted) if not wanted else _Writer(mount, wanted)
    session = environ["locker.dav"]
    quota = None
    if node.get_used_bytes() is not None:
        quota = (node.get_used_bytes(), node.get_available_bytes())
    base = node.path.rstrip("/")
    own = _collection_props(
        created=None if isinstance(node, RootCollection) else node.item.created_at,
        modified=None if isinstance(node, RootCollection) else node.item.modified_at,
        name=node.get_display_name(),
        quota=quota,
    )
    if isinstance(node, RootCollection):
        own = {"resourcetype": own.pop("resourcetype"), "creationdate": _rfc3339(session.user.date_joined), **own}
    writer.add(base + "/", _with_locks(own))
    if isinstance(node, RootCollection):
        props = _collection_props(created=session.user.date_joined, modified=None, name=SHARED, quota=None)
        writer.add(f"/{SHARED}/", _with_locks(props))
    keys = session.keys.for_owner(node.owner_id)
    parent_key = node.folder_key()
    folder_id = node.folder_id()
    live = {"owner_id": node.owner_id, "trashed_at__isnull": True}
    folders = Folder.objects.filter(parent_id=folder_id, **live).values_list(*_folder_columns())
    for values in folders:
        row = FolderRow(*values)
        name = keys.folder_name(row)
        if is_junk(name) or (isinstance(node, RootCollection) and name == SHARED):
            continue
        props = _collection_props(created=row.created_at, modified=row.modified_at, name=name, quota=quota)
        writer.add(f"{base}/{name}/", _with_locks(props))
    files = File.objects.filter(folder_id=folder_id, **live).values_list(*_file_columns())
    for values in files:
        row = FileRow(*values)
        name = keys.file_name(row, parent_key)
        if is_junk(name):
            continue
        writer.add(f"{base}/{name}", _with_locks(_file_props(row, name)))
    return HttpResponse(writer.body(), status=207, content_type="application/xml; charset=utf-8")


def _folder_columns():
    return ("pk", "owner_id", "parent_id", "key_wrapped", "name_sealed", "created_at", "modified_at")


def _file_columns():
    return (
        "pk",
        "owner_id",
        "folder_id",
        "key_wrapped",
        "name_sealed",
        "current_version_id",
        "size",
        "mime_type",
        "created_at",
        "modified_at",
    )
