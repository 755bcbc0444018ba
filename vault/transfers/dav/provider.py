"""The vault as a WsgiDAV resource tree: the user's folders and files at ``/``, what others share with them under
``/Shared/``.

Every read goes through the same lookups as the API (a child is found by its name MAC under the parent's key: one
indexed query a path segment), every write through the vault services (``folder_create``, ``file_upload``,
``file_version_add``, ``folder_update``/``file_update``, ``item_trash``), so what arrives by WebDAV is encrypted,
versioned, quota-checked, indexed, shareable and logged like anything else. A folder's children are loaded in two
queries and their names decrypted in one pass (PROPFIND of large folders).

The request's :class:`DavSession` (user, keys, request metadata) is put in the WSGI environ by
:mod:`vault.transfers.dav.views` under ``locker.dav``.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from django.conf import settings
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_NOT_FOUND,
    HTTP_PRECONDITION_FAILED,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    DAVError,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider

from accounts.models import User
from locker.errors import Conflict, InvalidInput, LockerError, NotFound
from locker.http import RequestMeta, whole_number
from vault.common import UNSET, PreconditionFailed, QuotaExceeded, clean_name
from vault.files import services
from vault.keys import VaultKeys
from vault.models import File, Folder, Share
from vault.transfers.dav.names import SHARED, is_junk, usable
from vault.transfers.downloads import PlaintextReader, plaintext_chunks
from vault.transfers.integrity import CRYPTO_FAILURES
from vault.transfers.receive import IncompleteUpload
from vault.transfers.uploads import FileTooLarge, StorageFull, UploadSink, upload_from_iterable
from vault.trash.services import item_trash

_FILE_FIELDS = (
    "id",
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
_FOLDER_FIELDS = ("id", "owner_id", "parent_id", "key_wrapped", "name_sealed", "created_at", "modified_at")


@dataclass
class DavSession:
    """Who a WebDAV request acts for: set by the view after HTTP Basic with an app password."""

    user: User
    keys: VaultKeys
    meta: RequestMeta
    nodes: dict = field(default_factory=dict)  # path -> resource, for this request (cleared by every write)
    shares: list | None = None
    anchors: dict = field(default_factory=dict)  # id of a shared item -> its path for this user (_Scoped)
    shared_by_me: set | None = None

    def forget(self) -> None:
        self.nodes.clear()
        self.shares = None

    def shares_item(self, item_id) -> bool:
        """Whether the user shares this folder or file of theirs with someone (one query a request)."""
        if self.shared_by_me is None:
            rows = Share.objects.filter(owner_id=self.user.pk, kind__in=("folder", "file"))
            self.shared_by_me = {str(f or g) for f, g in rows.values_list("folder_id", "file_id")}
        return str(item_id) in self.shared_by_me


_CURRENT = threading.local()  # the session of the request this thread serves (LockerProvider.ref_url_to_path)


def dav_error(exc: LockerError) -> DAVError:
    """A vault service's refusal as the WebDAV status a client understands (RFC 4918 section 9.7.1: 507)."""
    if isinstance(exc, QuotaExceeded | StorageFull):
        status = HTTP_INSUFFICIENT_STORAGE
    elif isinstance(exc, FileTooLarge):
        status = HTTP_REQUEST_ENTITY_TOO_LARGE
    elif isinstance(exc, PreconditionFailed):
        status = HTTP_PRECONDITION_FAILED
    elif isinstance(exc, NotFound):
        status = HTTP_NOT_FOUND
    elif isinstance(exc, Conflict):
        status = HTTP_CONFLICT
    elif getattr(exc, "code", "") == "other_vault":
        status = HTTP_FORBIDDEN
    elif isinstance(exc, InvalidInput):
        status = HTTP_BAD_REQUEST
    else:
        status = exc.status_code
    return DAVError(status, context_info=str(exc.detail))


def _session(environ) -> DavSession:
    return environ["locker.dav"]


def _forbidden(why: str) -> DAVError:
    return DAVError(HTTP_FORBIDDEN, context_info=why)


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


# --- locks and dead properties are each user's own ------------------------------------------------------------


class _Scoped:
    """WsgiDAV keys locks and dead properties by a resource's ref URL, and every user's tree has the same paths
    (``/notes.txt``). So a ref URL starts with the id of the vault's owner: ``/<user>/<path>`` in the user's own
    tree, one user's lock never blocking another's file nor one user's properties showing on another's.

    A shared item is one resource reached by its owner and its recipients under different paths, so its subtree
    is keyed from the shared item itself: ``/<owner>/~<item id>/<path below it>``, the same for everyone who
    reaches it (its owner through their own folders, a recipient through ``Shared/``). A lock taken there holds
    against the other side too. ``DavSession.anchors`` maps such an item back to this user's path, for the roots
    of the locks a response shows (:meth:`LockerProvider.ref_url_to_path`)."""

    _ref: str | None = None  # this resource's key without a trailing slash, set by its parent
    _anchored = False  # inside a shared item's subtree (keyed from it)

    def get_ref_url(self):
        base = self._ref if self._ref is not None else f"/{_session(self.environ).user.pk}{self.path.rstrip('/')}"
        return quote(base + ("/" if self.is_collection else ""))

    def _scope_child(self, child, item_id=None) -> None:
        """Key ``child`` (a member of this collection) under this one, or from itself if it is a shared item."""
        session = _session(self.environ)
        owner_id = getattr(self, "owner_id", None)
        if item_id is not None and not self._anchored and owner_id == session.user.pk and session.shares_item(item_id):
            child._ref, child._anchored = f"/{owner_id}/~{item_id}", True
            session.anchors[str(item_id)] = child.path.rstrip("/")
            return
        parent = self._ref if self._ref is not None else f"/{session.user.pk}{self.path.rstrip('/')}"
        child._ref, child._anchored = (
            f"{parent.rstrip('/')}/{child.path.rstrip('/').rsplit('/', 1)[-1]}",
            self._anchored,
        )


# --- a place writes go to ------------------------------------------------------------------------------------


class _Place:
    """What files and folders inside a collection need: whose vault it is, the folder (None: the top level), its
    key, and what the user may do there."""

    owner_id = None
    folder: Folder | None = None
    writable = False
    deletable = False
    share_root = False  # an item shared with the user itself (it cannot be renamed, moved or deleted here)

    def folder_id(self):
        return self.folder.pk if self.folder is not None else None

    def folder_key(self) -> bytes:
        return _session(self.environ).keys.for_owner(self.owner_id).folder_key(self.folder)


class LockerProvider(DAVProvider):
    """The resource tree of one request's user."""

    def __repr__(self):
        return "LockerProvider"

    def is_readonly(self):
        return False

    def ref_url_to_path(self, ref_url):
        """This user's path of a ref URL (a lock's root): the part after the owner's id, or below a shared item
        the item's path for this user (:class:`_Scoped`)."""
        _, _owner, top, *rest = (unquote(ref_url).rstrip("/") + "/").split("/", 3)
        below = rest[0].rstrip("/") if rest else ""
        if top.startswith("~"):
            session = getattr(_CURRENT, "session", None)
            anchor = session.anchors.get(top[1:]) if session is not None else None
            if anchor is None:
                return "/"
            return anchor + ("/" + below if below else "")
        return "/" + "/".join(part for part in (top, below) if part)

    def get_resource_inst(self, path: str, environ: dict):
        session = _CURRENT.session = _session(environ)
        path = "/" + "/".join(part for part in path.split("/") if part)  # WsgiDAV's copies join "a/" + "/b"
        if path in session.nodes:
            return session.nodes[path]
        node = self._resolve(path, environ, session)
        session.nodes[path] = node
        return node

    def _resolve(self, path: str, environ: dict, session: DavSession):
        if path == "/":
            return RootCollection(environ)
        parts = [_nfc(part) for part in path.strip("/").split("/")]  # no empty part: see get_resource_inst
        if not all(usable(part) for part in parts) or any(is_junk(part) for part in parts):
            return None
        if parts[0] == SHARED:
            shared = SharedCollection(environ)
            if len(parts) == 1:
                return shared
            node = shared.member_named(parts[1])
            rest = parts[2:]
        else:
            node = RootCollection(environ).child_named(parts[0])
            rest = parts[1:]
        for part in rest:
            if not isinstance(node, FolderResource):
                return None
            node = node.child_named(part)
        return node


# --- collections -------------------------------------------------------------------------------------------


class _VaultCollection(_Scoped, _Place, DAVCollection):
    """A collection holding vault items: the user's top level or a folder."""

    def _children(self) -> tuple[list[Folder], list[File]]:
        folders = Folder.objects.filter(owner_id=self.owner_id, parent_id=self.folder_id(), trashed_at__isnull=True)
        files = File.objects.filter(owner_id=self.owner_id, folder_id=self.folder_id(), trashed_at__isnull=True)
        return list(folders.only(*_FOLDER_FIELDS)), list(files.only(*_FILE_FIELDS))

    def get_member_list(self):
        """Every child in two queries, names decrypted in one pass under this folder's key."""
        session = _session(self.environ)
        keys = session.keys.for_owner(self.owner_id)
        parent_key = self.folder_key()
        folders, files = self._children()
        members = []
        for folder in folders:
            name = keys.folder_name(folder)
            if not is_junk(name):
                members.append(self._wrap(folder, name))
        for file in files:
            name = keys.file_name(file, parent_key)
            if not is_junk(name):
                members.append(self._wrap(file, name))
        for member in members:
            session.nodes.setdefault(member.path.rstrip("/") or "/", member)
        return members

    def get_member_names(self):
        return [member.name for member in self.get_member_list()]

    def get_member(self, name):
        return self.provider.get_resource_inst(util.join_uri(self.path, name), self.environ)

    def _wrap(self, item, name):
        path = util.join_uri(self.path, name)
        cls = FolderResource if isinstance(item, Folder) else FileResource
        child = cls(path, self.environ, item=item, name=name, place=self)
        self._scope_child(child, item.pk)
        return child

    def child_named(self, name: str):
        """The live child called ``name`` (its name MAC under this folder's key: one or two indexed queries)."""
        keys = _session(self.environ).keys
        mac = keys.name_mac(self.folder_key(), name)
        filters = {"owner_id": self.owner_id, "name_mac": mac, "trashed_at__isnull": True}
        folder = Folder.objects.filter(parent_id=self.folder_id(), **filters).only(*_FOLDER_FIELDS).first()
        item = folder or File.objects.filter(folder_id=self.folder_id(), **filters).only(*_FILE_FIELDS).first()
        if item is None:
            return None
        owner_keys = keys.for_owner(self.owner_id)
        real = owner_keys.folder_name(item) if folder is not None else owner_keys.file_name(item, self.folder_key())
        # The MAC matches names alike but for case and accents (the vault keeps one of them in a folder); a path
        # names exactly one, as on a case-sensitive file system. Writing the other is a 409 (name_conflict).
        return self._wrap(item, real) if _nfc(real) == name else None

    # --- writes into the collection ---
    def _check_writable(self):
        if not self.writable:
            raise _forbidden("This folder is shared with you to view only.")

    def create_empty_resource(self, name):
        """A new file: nothing is stored until its body has arrived whole (a PUT), or an empty one (a LOCK)."""
        self._check_writable()
        if is_junk(name):
            junk = JunkResource(util.join_uri(self.path, name), self.environ)
            self._scope_child(junk)
            return junk
        try:
            name = clean_name(name)
        except LockerError as exc:
            raise dav_error(exc) from None
        pending = NewFileResource(util.join_uri(self.path, name), self.environ, name=name, place=self)
        self._scope_child(pending)
        if self.environ.get("REQUEST_METHOD") != "PUT":
            pending.store(upload_from_iterable(**pending.sink_args(), pieces=[]))
        return pending

    def create_collection(self, name):
        self._check_writable()
        session = _session(self.environ)
        try:
            services.folder_create(
                user=session.user, keys=session.keys, name=name, parent_id=self.folder_id(), meta=session.meta
            )
        except LockerError as exc:
            raise dav_error(exc) from None
        finally:
            session.forget()

    def get_used_bytes(self):
        return self._quota_user().storage_used if self._quota_user() else None

    def get_available_bytes(self):
        user = self._quota_user()
        return max(0, user.storage_quota - user.storage_used) if user else None

    def _quota_user(self):
        session = _session(self.environ)
        return session.user if self.owner_id == session.user.pk else None


class RootCollection(_VaultCollection):
    """``/``: the user's own top level, and ``Shared``."""

    def __init__(self, environ):
        super().__init__("/", environ)
        self.owner_id = _session(environ).user.pk
        self.writable = self.deletable = True

    def get_display_name(self):
        return "Locker"

    def get_member_list(self):
        members = [m for m in super().get_member_list() if not (m.name == SHARED and m.path == "/" + SHARED)]
        return [SharedCollection(self.environ), *members]

    def child_named(self, name):
        return SharedCollection(self.environ) if name == SHARED else super().child_named(name)

    def get_creation_date(self):
        return _session(self.environ).user.date_joined.timestamp()

    def get_last_modified(self):
        return None

    def handle_delete(self):
        raise _forbidden("The top level cannot be deleted.")


class SharedCollection(_Scoped, DAVCollection):
    """``/Shared``: each folder or file another user shares with this one, under its name (the owner's username
    added when two are called the same). Read-only itself; what is inside follows each share's permission."""

    def __init__(self, environ):
        super().__init__("/" + SHARED, environ)

    def get_display_name(self):
        return SHARED

    def get_creation_date(self):
        return _session(self.environ).user.date_joined.timestamp()

    def get_last_modified(self):
        return None

    def _entries(self) -> list[tuple[str, Share]]:
        session = _session(self.environ)
        if session.shares is None:
            rows = (
                Share.objects.filter(recipient=session.user, kind__in=("folder", "file"))
                .select_related("owner", "folder", "file")
                .order_by("created_at", "id")
            )
            named = []
            for share in rows:
                item = share.folder if share.kind == "folder" else share.file
                if item is None or item.trashed_at is not None:
                    continue
                keys = session.keys
                try:
                    name = keys.folder_name(item) if share.kind == "folder" else keys.file_name(item)
                except CRYPTO_FAILURES:  # a damaged grant hides one share, not the others
                    continue
                named.append((name, share))
            taken: set[str] = set()
            entries = []
            for name, share in named:
                if name.casefold() in taken:
                    name = f"{name} ({share.owner.username})"
                taken.add(name.casefold())
                entries.append((name, share))
            session.shares = entries
        return session.shares

    def _node(self, name: str, share: Share):
        writable = share.permission in (Share.Permission.EDIT, Share.Permission.DELETE)
        deletable = share.permission == Share.Permission.DELETE
        path = util.join_uri(self.path, name)
        if share.kind == "folder":
            node = FolderResource(path, self.environ, item=share.folder, name=name, place=None)
        else:
            node = FileResource(path, self.environ, item=share.file, name=name, place=None)
        node.owner_id = share.owner_id
        node.writable, node.deletable, node.share_root = writable, deletable, True
        node._ref, node._anchored = f"/{share.owner_id}/~{share.item_id}", True
        _session(self.environ).anchors[str(share.item_id)] = path
        return node

    def get_member_list(self):
        return [self._node(name, share) for name, share in self._entries()]

    def get_member_names(self):
        return [name for name, _ in self._entries()]

    def get_member(self, name):
        return self.member_named(name)

    def member_named(self, name: str):
        for entry_name, share in self._entries():
            if _nfc(entry_name) == name:
                return self._node(entry_name, share)
        return None

    def create_empty_resource(self, name):
        raise _forbidden("Nothing can be added to Shared itself; open one of the shared folders.")

    def create_collection(self, name):
        raise _forbidden("Nothing can be added to Shared itself; open one of the shared folders.")

    def handle_delete(self):
        raise _forbidden("Shared cannot be deleted.")

    def handle_move(self, dest_path):
        raise _forbidden("Shared cannot be moved.")

    def copy_move_single(self, dest_path, *, is_move):
        raise _forbidden("Shared cannot be copied.")


# --- items ---------------------------------------------------------------------------------------------------


class _Item:
    """What a folder and a file have in common: a row, a name, the place it is in, and its writes."""

    kind = ""

    def _init_item(self, item, name, place):
        self.item, self.name = item, name
        if place is not None:
            self.owner_id = place.owner_id
            self.writable, self.deletable = place.writable, place.deletable
            self.share_root = False

    def get_display_name(self):
        return self.name

    def get_creation_date(self):
        return self.item.created_at.timestamp()

    def get_last_modified(self):
        return self.item.modified_at.timestamp()

    def _parent(self):
        return self.provider.get_resource_inst(util.get_uri_parent(self.path), self.environ)

    def _check_changeable(self, what: str):
        if self.share_root:
            raise _forbidden(f"A shared item itself cannot be {what} here; its owner can.")
        if not self.writable:
            raise _forbidden("This is shared with you to view only.")

    def handle_delete(self):
        """Into the owner's trash, with everything below (a folder), once no lock below stands in the way."""
        if self.share_root:
            raise _forbidden("Leave a share from the web page; its owner's item stays.")
        if not self.deletable:
            raise _forbidden("This is shared with you without permission to delete.")
        lock_manager = self.provider.lock_manager
        if lock_manager is not None:
            lock_manager.check_write_permission(
                url=self.get_ref_url(),
                depth="infinity",
                token_list=self.environ.get("wsgidav.ifLockTokenList", []),
                principal=self.environ["wsgidav.user_name"],
            )
        self.delete()
        return True

    def delete(self):
        session = _session(self.environ)
        if not self.deletable or self.share_root:
            raise _forbidden("This is shared with you without permission to delete.")
        try:
            item_trash(user=session.user, kind=self.kind, item_id=self.item.pk, meta=session.meta)
        except LockerError as exc:
            raise dav_error(exc) from None
        finally:
            session.forget()
        self.remove_all_properties(recursive=True)
        self.remove_all_locks(recursive=True)

    def _destination(self, dest_path: str):
        """``(parent collection, name)`` of a COPY or MOVE destination, or a clear refusal."""
        parent = self.provider.get_resource_inst(util.get_uri_parent(dest_path), self.environ)
        if not isinstance(parent, _VaultCollection):
            if isinstance(parent, SharedCollection):
                raise _forbidden("Nothing can be added to Shared itself; open one of the shared folders.")
            raise DAVError(HTTP_CONFLICT, context_info="The destination's folder does not exist.")
        parent._check_writable()
        name = util.get_uri_name(dest_path.rstrip("/"))
        if is_junk(name):
            raise _forbidden("That name is kept by file managers for themselves.")
        try:
            return parent, clean_name(name)
        except LockerError as exc:
            raise dav_error(exc) from None

    def support_recursive_move(self, dest_path):
        """Within one vault a move is the rename/move service (one key re-wrapped whatever lies below); into
        another person's vault it is a copy and a trash, done item by item by WsgiDAV."""
        if self.share_root:
            return True  # refused in move_recursive
        parent = self.provider.get_resource_inst(util.get_uri_parent(dest_path), self.environ)
        return isinstance(parent, _VaultCollection) and parent.owner_id == self.owner_id

    def move_recursive(self, dest_path):
        self._check_changeable("moved or renamed")
        session = _session(self.environ)
        parent, name = self._destination(dest_path)
        target = parent.folder_id()
        moving = str(target or "") != str(self._current_parent_id() or "")
        changes = {"name": name} if name != self.name else {}
        try:
            if self.kind == "folder":
                services.folder_update(
                    user=session.user,
                    keys=session.keys,
                    folder_id=self.item.pk,
                    parent_id=target if moving else UNSET,
                    meta=session.meta,
                    **changes,
                )
            else:
                services.file_update(
                    user=session.user,
                    keys=session.keys,
                    file_id=self.item.pk,
                    folder_id=target if moving else UNSET,
                    meta=session.meta,
                    **changes,
                )
        except LockerError as exc:
            raise dav_error(exc) from None
        finally:
            session.forget()
        prop_manager = self.provider.prop_manager
        if prop_manager:
            dest = self.provider.get_resource_inst(dest_path, self.environ)
            if dest is not None and dest.get_ref_url() != self.get_ref_url():  # a shared item keeps its key
                prop_manager.move_properties(
                    self.get_ref_url(), dest.get_ref_url(), with_children=True, environ=self.environ
                )
        return []

    def _current_parent_id(self):
        return self.item.parent_id if self.kind == "folder" else self.item.folder_id

    def _copied_props(self, dest_path):
        prop_manager = self.provider.prop_manager
        if prop_manager:
            dest = self.provider.get_resource_inst(dest_path, self.environ)
            if dest is not None:
                prop_manager.copy_properties(self.get_ref_url(), dest.get_ref_url(), self.environ)


class FolderResource(_Item, _VaultCollection):
    kind = "folder"

    def __init__(self, path, environ, *, item: Folder, name: str, place: _Place | None):
        super().__init__(path, environ)
        self._init_item(item, name, place)
        self.folder = item

    def copy_move_single(self, dest_path, *, is_move):
        """COPY of a folder: the folder at the destination (WsgiDAV then copies what is inside, item by item)."""
        session = _session(self.environ)
        parent, name = self._destination(dest_path)
        existing = self.provider.get_resource_inst(dest_path, self.environ)
        if isinstance(existing, FolderResource):
            return
        try:
            services.folder_create(
                user=session.user, keys=session.keys, name=name, parent_id=parent.folder_id(), meta=session.meta
            )
        except LockerError as exc:
            raise dav_error(exc) from None
        finally:
            session.forget()
        self._copied_props(dest_path)


class FileResource(_Scoped, _Item, _Place, DAVNonCollection):
    kind = "file"

    def __init__(self, path, environ, *, item: File, name: str, place: _Place | None):
        DAVNonCollection.__init__(self, path, environ)
        self._init_item(item, name, place)
        self._sink = None

    def get_content_length(self):
        return self.item.size

    def get_content_type(self):
        return self.item.mime_type

    def get_etag(self):
        return self.item.current_version_id.hex if self.item.current_version_id else None

    def support_etag(self):
        return True

    def support_ranges(self):
        return True

    def version(self):
        """The current version (loaded for a read)."""
        return self.item.versions.get(pk=self.item.current_version_id)

    def get_content(self):
        """The plaintext as a file object (GET is served by the view: vault.transfers.http.content_response)."""
        keys = _session(self.environ).keys
        return PlaintextReader(keys, self.item, self.version())

    def sink_args(self) -> dict:
        session = _session(self.environ)
        return {"owner_id": session.user.pk, "mac_key": session.keys.content_mac_key(), "name": self.name}

    def begin_write(self, *, content_type=None):
        """The body streams into the encrypting sink; nothing is stored until it has arrived whole."""
        self._check_writable_file()
        _refuse_early(self.environ, self._quota_owner())
        self._sink = UploadSink(**self.sink_args())
        return _SinkWriter(self._sink)

    def _check_writable_file(self):
        if not self.writable:
            raise _forbidden("This is shared with you to view only.")

    def _quota_owner(self) -> User:
        session = _session(self.environ)
        return session.user if self.owner_id == session.user.pk else User.objects.get(pk=self.owner_id)

    def end_write(self, *, with_errors):
        sink, self._sink = self._sink, None
        if sink is None:
            return
        if with_errors:
            if not sink.closed:
                sink.abort()
            return
        declared = whole_number(self.environ.get("CONTENT_LENGTH"))
        if declared is not None and sink.size < declared:
            sink.abort()
            raise dav_error(IncompleteUpload())
        try:
            upload = sink.finish()
        except LockerError as exc:
            raise dav_error(exc) from None
        self.store(upload)

    def store(self, upload):
        """A new version of this file (``If-Match`` checked again inside the service's transaction)."""
        session = _session(self.environ)
        upload.modified_at = client_mtime(self.environ)
        if_match = self.environ.get("HTTP_IF_MATCH")
        if_match = if_match if if_match and "," not in if_match else None
        try:
            services.file_version_add(
                user=session.user,
                keys=session.keys,
                file_id=self.item.pk,
                upload=upload,
                if_match=if_match,
                meta=session.meta,
            )
        except LockerError as exc:
            raise dav_error(exc) from None
        finally:
            session.forget()
        self.item.refresh_from_db()

    def copy_move_single(self, dest_path, *, is_move):
        """COPY of a file: a new file (or a new version of the one there) from the decrypted content."""
        session = _session(self.environ)
        parent, name = self._destination(dest_path)
        existing = self.provider.get_resource_inst(dest_path, self.environ)
        version = self.version()
        try:
            upload = upload_from_iterable(
                owner_id=session.user.pk,
                mac_key=session.keys.content_mac_key(),
                name=name,
                pieces=plaintext_chunks(session.keys, self.item, version),
                max_size=max(version.size, settings.LOCKER_MAX_UPLOAD_SIZE),
            )
            upload.mime_type = version.mime_type
            if isinstance(existing, FileResource):
                services.file_version_add(
                    user=session.user, keys=session.keys, file_id=existing.item.pk, upload=upload, meta=session.meta
                )
            else:
                services.file_upload(
                    user=session.user,
                    keys=session.keys,
                    upload=upload,
                    folder_id=parent.folder_id(),
                    on_conflict="error",
                    meta=session.meta,
                )
        except LockerError as exc:
            raise dav_error(exc) from None
        finally:
            session.forget()
        self._copied_props(dest_path)


def client_mtime(environ):
    """The content's modification time a client sends with a PUT (``X-OC-Mtime``, Unix seconds, as Nextcloud and
    ownCloud take it: rclone's ``owncloud`` and ``nextcloud`` vendors, the desktop clients), or None (now). Times
    before 1970 or more than a day ahead are ignored."""
    raw = environ.get("HTTP_X_OC_MTIME", "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if not 0 <= seconds <= time.time() + 86400:
        return None
    environ["locker.dav.mtime_accepted"] = True
    return datetime.fromtimestamp(seconds, tz=UTC)


class NewFileResource(FileResource):
    """A file a PUT (or a LOCK on an unmapped URL) is creating: stored by ``file_upload`` once its body is whole."""

    def __init__(self, path, environ, *, name: str, place: _VaultCollection):
        DAVNonCollection.__init__(self, path, environ)
        self.item, self.name, self.place = None, name, place
        self.owner_id = place.owner_id
        self.writable, self.deletable, self.share_root = place.writable, place.deletable, False
        self._sink = None

    def get_content_length(self):
        return self.item.size if self.item else 0

    def get_content_type(self):
        return self.item.mime_type if self.item else "application/octet-stream"

    def get_etag(self):
        return super().get_etag() if self.item else None

    def get_creation_date(self):
        return self.item.created_at.timestamp() if self.item else None

    def get_last_modified(self):
        return self.item.modified_at.timestamp() if self.item else None

    def store(self, upload):
        session = _session(self.environ)
        upload.modified_at = client_mtime(self.environ)
        try:
            result = services.file_upload(
                user=session.user,
                keys=session.keys,
                upload=upload,
                folder_id=self.place.folder_id(),
                on_conflict="error",  # a name alike but for case or accents exists: 409, never a silent overwrite
                meta=session.meta,
            )
        except LockerError as exc:
            raise dav_error(exc) from None
        finally:
            session.forget()
        self.item = result.file


class JunkResource(_Scoped, DAVNonCollection):
    """A file manager's own file (``.DS_Store``, ``._*``, ``Thumbs.db``, ``desktop.ini``): its body is read and
    dropped, the PUT succeeds, and it is never listed (docs/webdav.md)."""

    def get_content_length(self):
        return 0

    def get_content_type(self):
        return "application/octet-stream"

    def get_etag(self):
        return None

    def support_etag(self):
        return False

    def get_content(self):
        raise DAVError(HTTP_NOT_FOUND)

    def begin_write(self, *, content_type=None):
        return _Discard()

    def end_write(self, *, with_errors):
        return None


class _Discard:
    def writelines(self, pieces):
        for _ in pieces:
            pass

    def close(self):
        return None


class _SinkWriter:
    """What WsgiDAV writes a PUT body to: the encrypting sink, with its refusals as WebDAV statuses."""

    def __init__(self, sink: UploadSink):
        self._sink = sink

    def writelines(self, pieces):
        try:
            for piece in pieces:
                self._sink.write(piece)
        except LockerError as exc:
            raise dav_error(exc) from None

    def close(self):
        return None


def _refuse_early(environ, owner: User) -> None:
    """Refuse a body that cannot fit from its declared length (413 past the size limit, 507 past the free space),
    before reading it. A borderline one is decided exactly after encryption, in the service's transaction."""
    size = whole_number(environ.get("CONTENT_LENGTH"))
    if size is None:
        return
    if size > settings.LOCKER_MAX_UPLOAD_SIZE:
        raise dav_error(FileTooLarge(settings.LOCKER_MAX_UPLOAD_SIZE))
    free = owner.storage_quota - owner.storage_used
    if size > free:  # ciphertext is never smaller than the plaintext
        raise dav_error(QuotaExceeded.needing(needed=size, free=free, quota=owner.storage_quota))
