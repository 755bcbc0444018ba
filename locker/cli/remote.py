"""Remote paths (``/Documents/taxes/2026.pdf``) over the API's ids: folders looked up by name, level by level, and
remembered for the rest of the command; uploads (small ones in one request, large ones resumable over tus) and
streamed downloads."""

from __future__ import annotations

import base64
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from locker.cli.client import Api, CliError

TUS_FROM = 8 * 1024 * 1024  # files this large or larger go up resumably
TUS_PIECE = 16 * 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def parts_of(path: str) -> list[str]:
    """``/a/b/`` → ``["a", "b"]``, names NFC-normalized as the server keeps them."""
    parts = [unicodedata.normalize("NFC", part) for part in path.strip().strip("/").split("/") if part]
    if any(part in {".", ".."} for part in parts):
        raise CliError(f"{path}: '.' and '..' are not names on the server.", CliError.USAGE)
    return parts


@dataclass
class Item:
    kind: str  # "folder" or "file"
    data: dict  # the API's representation (None data: the top level)

    @property
    def id(self) -> str | None:
        return self.data.get("id") if self.data else None

    @property
    def name(self) -> str:
        return self.data.get("name", "/") if self.data else "/"


ROOT = Item("folder", {})


class Remote:
    def __init__(self, api: Api):
        self.api = api
        self._folders: dict[tuple, dict] = {}
        self.on_folder = None  # called with each folder this makes (a sync keeps its remote tree up to date)

    # --- listing and lookup ---------------------------------------------------------------------------------
    def folders(self, folder_id: str | None) -> list[dict]:
        params = {"parent": folder_id} if folder_id else {}
        return list(self.api.pages("folders/", params))

    def files(self, folder_id: str | None) -> list[dict]:
        params = {"folder": folder_id} if folder_id else {}
        return list(self.api.pages("files/", params))

    def child_folder(self, parent_id: str | None, name: str) -> dict | None:
        key = (parent_id, name)
        if key not in self._folders:
            for folder in self.folders(parent_id):
                self._folders[(parent_id, folder["name"])] = folder
        return self._folders.get(key)

    def resolve(self, path: str) -> Item:
        """The folder or file at ``path`` (404 in words when there is none)."""
        parts = parts_of(path)
        if not parts:
            return ROOT
        parent: str | None = None
        for depth, name in enumerate(parts):
            folder = self.child_folder(parent, name)
            if folder is not None:
                parent = folder["id"]
                if depth == len(parts) - 1:
                    return Item("folder", folder)
                continue
            if depth == len(parts) - 1:
                for file in self.files(parent):
                    if file["name"] == name:
                        return Item("file", file)
            raise CliError(f"{path}: no such file or folder on the server.", CliError.NOT_FOUND)
        raise AssertionError("unreachable")

    def folder_id(self, path: str, *, create: bool = False) -> str | None:
        """The id of the folder at ``path`` (None: the top level), made with its parents if ``create``."""
        parent: str | None = None
        for name in parts_of(path):
            folder = self.child_folder(parent, name)
            if folder is None:
                if not create:
                    raise CliError(f"{path}: no such folder on the server.", CliError.NOT_FOUND)
                folder = self.mkdir(parent, name)
            parent = folder["id"]
        return parent

    def mkdir(self, parent_id: str | None, name: str) -> dict:
        body = {"name": name, "parent": parent_id}
        response = self.api.send("POST", "folders/", json=body)
        if response.status_code == 409:  # made meanwhile (another client): use it
            self._folders.pop((parent_id, name), None)
            existing = self.child_folder(parent_id, name)
            if existing is not None:
                return existing
        if response.status_code != 201:
            from locker.cli.client import error_of

            raise error_of(response)
        folder = response.json()
        self._folders[(parent_id, name)] = folder
        if self.on_folder is not None:
            self.on_folder(folder)
        return folder

    # --- bytes ------------------------------------------------------------------------------------------------
    def upload(
        self,
        local: Path,
        *,
        folder_id: str | None,
        name: str | None = None,
        file_id: str | None = None,
        progress: Callable[[int], None] | None = None,
        on_tus: Callable[[str], None] | None = None,
    ) -> dict:
        """Upload ``local`` as ``name`` into the folder (a new version when the name exists), or as a new version
        of ``file_id``. Returns the file's representation."""
        name = unicodedata.normalize("NFC", name or local.name)
        size = local.stat().st_size
        if size >= TUS_FROM:
            return self._upload_tus(
                local, size, folder_id=folder_id, name=name, file_id=file_id, progress=progress, on_tus=on_tus
            )
        if file_id is not None:
            with local.open("rb") as handle:
                body = self.api.json("PUT", f"files/{file_id}/content", content=handle.read())
        else:
            with local.open("rb") as handle:
                data = {"on_conflict": "version"}
                if folder_id:
                    data["folder"] = folder_id
                answer = self.api.json("POST", "files/", data=data, files={"file": (name, handle)})
            result = answer[0] if isinstance(answer, list) else answer
            if not result.get("ok", True):
                raise CliError(f"{name}: {result.get('detail') or result.get('code')}")
            body = result["file"]
        if progress:
            progress(size)
        return body

    def upload_many(self, files: list[tuple[Path, str]], folder_id: str | None) -> list[dict]:
        """Several small files into one folder in one request (a same-name file gets a new version); one outcome
        each, ``{ok, file}`` or ``{ok: false, code, detail}``, in order."""
        handles = [(name, local.open("rb")) for local, name in files]
        try:
            data = {"on_conflict": "version", **({"folder": folder_id} if folder_id else {})}
            parts = [("file", (unicodedata.normalize("NFC", name), handle)) for name, handle in handles]
            response = self.api.request("POST", "files/", data=data, files=parts, ok=(201, 400, 404, 409, 413, 507))
        finally:
            for _, handle in handles:
                handle.close()
        body = response.json()
        if isinstance(body, list):
            return body
        if isinstance(body, dict) and isinstance(body.get("results"), list) and len(body["results"]) == len(files):
            return body["results"]  # every one refused, each with its reason
        return [{"ok": False, "code": body.get("code"), "detail": body.get("detail")}] * len(files)

    def _upload_tus(self, local: Path, size: int, *, folder_id, name, file_id, progress, on_tus=None) -> dict:
        meta = (
            {"file": file_id}
            if file_id
            else {"name": name, "on_conflict": "version", **({"folder": folder_id} if folder_id else {})}
        )
        encoded = ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in meta.items())
        created = self.api.request(
            "POST", "uploads/", headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": encoded}, ok=(201,)
        )
        location = created.headers["Location"]
        if on_tus is not None:
            on_tus(location)  # a sync remembers it, to resume after an interruption
        return self.resume_tus(local, location, progress=progress)

    def resume_tus(self, local: Path, location: str, *, progress=None) -> dict:
        """Send what the server has not got of an upload (HEAD, then PATCHes from its offset)."""
        head = self.api.request("HEAD", location, headers=TUS)
        offset = int(head.headers["Upload-Offset"])
        file_id = head.headers.get("Locker-File-Id")
        size = local.stat().st_size
        with local.open("rb") as handle:
            while file_id is None:
                handle.seek(offset)
                piece = handle.read(TUS_PIECE)
                headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
                answer = self.api.request("PATCH", location, headers=headers, content=piece, ok=(204,))
                offset = int(answer.headers["Upload-Offset"])
                file_id = answer.headers.get("Locker-File-Id")
                if progress:
                    progress(offset)
                if offset >= size and file_id is None:
                    raise CliError(f"{local}: the server took every byte but made no file of them.")
        return self.api.json("GET", f"files/{file_id}/")

    def download(self, file: dict, target: Path, *, progress: Callable[[int], None] | None = None) -> Path:
        """Stream a file's current version to ``target`` (written beside it, then renamed into place)."""
        tmp = target.with_name(f".{target.name}.locker-part")
        with self.api.http.stream("GET", f"files/{file['id']}/content") as response:
            if response.status_code != 200:
                response.read()
                from locker.cli.client import error_of

                raise error_of(response)
            done = 0
            with tmp.open("wb") as handle:
                for chunk in response.iter_bytes(1024 * 1024):
                    handle.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
        return target
