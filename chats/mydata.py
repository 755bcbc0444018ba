"""Chats with their messages in the data export (``vault.export.services``: a section of ``GET /api/v1/me/data``)
and in the personal zip export (``vault.export.archive``: ``Chats/<title>/chat.md`` and ``chat.json``), registered
at start-up."""

from __future__ import annotations

import json
from collections.abc import Iterator

from chats.models import Chat, Message
from chats.services import chat_title, message_content
from locker.errors import LockerError
from vault.export.archive import Export, bytes_member, register_part, safe_name
from vault.export.imports import register_importer
from vault.export.services import BATCH, array, dump, register_section


def write_chats(user, keys, request, changed) -> Iterator[str]:
    def message_items(chat):
        messages = changed(Message.objects.filter(chat=chat), "created_at").order_by("created_at", "id")
        for message in messages.prefetch_related("attachments").iterator(BATCH):
            yield {
                "id": message.pk,
                "role": message.role,
                "status": message.status,
                "content": message_content(keys, message, chat),
                "reply_to": message.reply_to_id,
                "created_at": message.created_at,
                "attachments": [
                    {"file": a.file_id, "kind": a.kind, "duration": a.duration} for a in message.attachments.all()
                ],
            }

    yield "["
    for n, chat in enumerate(Chat.objects.filter(owner=user).order_by("created_at", "id").iterator(BATCH)):
        head = {
            "id": chat.pk,
            "title": chat_title(keys, chat),
            "created_at": chat.created_at,
            "updated_at": chat.updated_at,
        }
        yield ("," if n else "") + dump(head)[:-1] + ', "messages": '
        yield from array(message_items(chat))
        yield "}"
    yield "]"


def chats_part(export: Export) -> Iterator:
    """Each chat as Markdown (for reading) and JSON (for an import), attachments linked to their files in the zip."""
    keys = export.keys
    for chat in Chat.objects.filter(owner=export.user).order_by("created_at", "id").iterator(BATCH):
        title = chat_title(keys, chat)
        directory = export.paths.unique("Chats", safe_name(title, "chat"))
        messages = []
        lines = [f"# {title}", ""]
        rows = Message.objects.filter(chat=chat).order_by("created_at", "id").prefetch_related("attachments")
        for message in rows.iterator(BATCH):
            content = message_content(keys, message, chat)
            attachments = [
                {
                    "kind": a.kind,
                    "duration": a.duration,
                    "path": export.file_paths.get(a.file_id),  # None: the file is gone or in the trash
                }
                for a in message.attachments.all()
            ]
            messages.append(
                {
                    "id": str(message.pk),
                    "role": message.role,
                    "status": message.status,
                    "content": content,
                    "reply_to": str(message.reply_to_id) if message.reply_to_id else None,
                    "created_at": message.created_at.isoformat(),
                    "attachments": attachments,
                }
            )
            who = "You" if message.role == Message.Role.USER else message.role.capitalize()
            lines += [f"**{who}** · {message.created_at:%Y-%m-%d %H:%M} UTC", "", content, ""]
            for a in attachments:
                link = "../../" + a["path"] if a["path"] else None
                label = "Voice recording" if a["kind"] == "audio" else "Attachment"
                lines.append(f"- {label}: [{a['path'].rsplit('/', 1)[-1]}](<{link}>)" if link else f"- {label} (gone)")
            if attachments:
                lines.append("")
        record = {
            "id": str(chat.pk),
            "title": title,
            "path": directory,
            "messages": len(messages),
            "created_at": chat.created_at.isoformat(),
        }
        export.entries("chats").append(record)
        yield bytes_member(f"{directory}/chat.md", "\n".join(lines).encode(), chat.updated_at)
        yield bytes_member(f"{directory}/chat.json", dump({**record, "messages": messages}).encode(), chat.updated_at)


def import_chats(ctx, entries: list[dict]) -> None:
    """The chats of an export (``vault.export.imports``): a chat with the same title and as many messages is taken
    to be there already; others are made again, their attachments linked to the files the import stored."""
    from chats.services import chat_create, message_import

    mine: dict[str, list[int]] = {}
    for chat in Chat.objects.filter(owner=ctx.user):
        mine.setdefault(chat_title(ctx.keys, chat), []).append(chat.messages.count())
    for entry in entries:
        title = entry.get("title") if isinstance(entry.get("title"), str) else ""
        same = entry.get("messages") in mine.get(title, [])
        (ctx.report.skipped if same else ctx.report.created)["chats"] += 1
        if same or ctx.report.dry_run:
            continue
        try:
            record = json.loads(ctx.members[f"{entry['path']}/chat.json"])
            chat = chat_create(user=ctx.user, keys=ctx.keys, title=title, meta=ctx.meta)
            for message in record.get("messages", []):
                attachments = [
                    (ctx.file_ids[a["path"]], a.get("kind"), a.get("duration"))
                    for a in message.get("attachments", [])
                    if isinstance(a, dict) and a.get("path") in ctx.file_ids
                ]
                message_import(
                    user=ctx.user,
                    keys=ctx.keys,
                    chat_id=chat.pk,
                    role=message.get("role"),
                    content=message.get("content") or "",
                    attachments=attachments,
                    meta=ctx.meta,
                )
        except (KeyError, ValueError, TypeError, LockerError) as exc:
            ctx.report.failed.append({"path": entry.get("path"), "reason": getattr(exc, "detail", "not readable")})


def register() -> None:
    register_section("chats", 40, write_chats)
    register_part("chats", 40, chats_part)
    register_importer("chats", import_chats)
