"""Vault serializers. Names and tags are decrypted with the request's VaultKeys (``context["keys"]``)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from locker.filters import MAX_BIGINT
from locker.serializers import StrictCharField, StrictUUIDField
from locker.textrules import NAME_PATTERN, NAME_RULE, TAG_PATTERN, TAG_RULE, tag_list_pattern
from vault import kinds
from vault.common import MAX_NAME_LENGTH, MAX_TAG_LENGTH, MAX_TAGS, etag_of
from vault.models import File, Folder, Note, Star
from vault.notes.services import MAX_TITLE, note_body, note_title
from vault.search import snippets
from vault.transfers.integrity import CRYPTO_FAILURES, integrity_failure_record

ON_CONFLICT = [("error", "error"), ("rename", "rename")]

# What a damaged item shows in place of the fields that failed to open.
DAMAGED_PLACEHOLDERS = {
    "name": "(damaged item)",
    "title": "(damaged item)",
    "tags": [],
    "body": "",
    "excerpt": "",
    "content": "",
    "attachments": [],
}


class MarksDamage(serializers.Serializer):
    """Shows an item whose sealed fields or keys fail to open marked ``damaged``, with placeholders for those
    fields, instead of failing the whole listing; the failure is logged and recorded for the owner
    (vault.transfers.integrity)."""

    damaged = serializers.SerializerMethodField(
        help_text="True when the item's stored names or keys fail their integrity check; its name is a placeholder."
    )

    def get_damaged(self, _item) -> bool:
        return False

    def damage_target(self, instance) -> tuple:
        """``(owner id, object type, object id)`` of the item, for the record."""
        return instance.owner_id, type(instance).__name__.lower(), instance.pk

    def to_representation(self, instance):
        try:
            return super().to_representation(instance)
        except CRYPTO_FAILURES:
            pass
        data = {}
        for field in self._readable_fields:
            try:
                attribute = field.get_attribute(instance)
                data[field.field_name] = None if attribute is None else field.to_representation(attribute)
            except CRYPTO_FAILURES:
                data[field.field_name] = DAMAGED_PLACEHOLDERS.get(field.field_name)
        data["damaged"] = True
        owner_id, object_type, object_id = self.damage_target(instance)
        integrity_failure_record(owner_id=owner_id, object_type=object_type, object_id=object_id, reason="sealed_field")
        return data


class Owned(serializers.Serializer):
    owned = serializers.SerializerMethodField(
        help_text="Whether the item is yours (false: someone shares it with you; only its owner shares it further)."
    )

    def get_owned(self, item) -> bool:
        return item.owner_id == self.context["keys"].owner_id


class Starred(serializers.Serializer):
    starred = serializers.SerializerMethodField(help_text="Whether you starred it (a marker only you see).")

    def get_starred(self, item) -> bool:
        # one query for a whole listing: the ids the reader starred, kept in the (shared) serializer context
        ids = self.context.get("_starred")
        if ids is None:
            rows = Star.objects.filter(user_id=self.context["keys"].owner_id).values_list("folder_id", "file_id")
            ids = self.context["_starred"] = {folder_id or file_id for folder_id, file_id in rows}
        return item.pk in ids


class FolderSerializer(MarksDamage, Owned, Starred):
    id = serializers.UUIDField()
    name = serializers.SerializerMethodField()
    parent = serializers.UUIDField(source="parent_id", allow_null=True)
    tags = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    modified_at = serializers.DateTimeField()

    def get_name(self, folder) -> str:
        return self.context["keys"].folder_name(folder)

    def get_tags(self, folder) -> list[str]:
        return self.context["keys"].folder_tags(folder)


class TextRecognitionSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["pending", "done", "failed", "skipped"],
        help_text="pending: waiting or running; done: the words are searchable; failed or skipped: see reason.",
    )
    reason = serializers.CharField(help_text="Why it failed or was skipped, or that no text was found; else empty.")


class FileSerializer(MarksDamage, Owned, Starred):
    id = serializers.UUIDField()
    name = serializers.SerializerMethodField()
    folder = serializers.UUIDField(source="folder_id", allow_null=True)
    size = serializers.IntegerField()
    mime_type = serializers.CharField()
    tags = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    etag = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    modified_at = serializers.DateTimeField()
    content_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField(help_text="Thumbnail of the current version; null when none.")
    text_recognition = serializers.SerializerMethodField(
        help_text="Text recognition (OCR) of the current version, for images and PDFs; null for other types."
    )

    def get_name(self, file) -> str:
        return self.context["keys"].file_name(file)

    def get_tags(self, file) -> list[str]:
        return self.context["keys"].file_tags(file)

    def get_version(self, file) -> int | None:
        return file.current_version.number if file.current_version_id else None

    def get_etag(self, file) -> str:
        return etag_of(file.current_version_id)

    def get_content_url(self, file) -> str:
        return reverse("api-file-content", args=[file.pk], request=self.context.get("request"))

    def get_preview_url(self, file) -> str | None:
        # current_version__derived comes with the file (select_related), so this costs no query
        derived = getattr(file.current_version, "derived", None) if file.current_version_id else None
        if derived is None or not derived.preview_blob:
            return None
        return reverse("api-file-preview", args=[file.pk], request=self.context.get("request"))

    @extend_schema_field(TextRecognitionSerializer(allow_null=True))
    def get_text_recognition(self, file) -> dict | None:
        derived = getattr(file.current_version, "derived", None) if file.current_version_id else None
        if derived is None or not derived.ocr_state:
            return None
        return {"state": derived.ocr_state, "reason": derived.ocr_reason}


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    size = serializers.IntegerField()
    mime_type = serializers.CharField()
    created_at = serializers.DateTimeField()
    etag = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField(
        help_text="Who wrote this version: the owner, or someone the file is shared with (null: a deleted account)."
    )

    def get_etag(self, version) -> str:
        return etag_of(version.pk)

    def get_author(self, version) -> str | None:
        if not version.author_id:
            return self.context["file"].owner.username
        return version.author.username if version.author is not None else None

    def get_current(self, version) -> bool:
        return version.pk == self.context["file"].current_version_id


class TrashEntrySerializer(MarksDamage):
    id = serializers.UUIDField()
    kind = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()
    size = serializers.SerializerMethodField()
    trashed_at = serializers.DateTimeField()
    original_parent = serializers.SerializerMethodField()

    def get_kind(self, item) -> str:
        return {Folder: "folder", File: "file", Note: "note"}[type(item)]

    def get_name(self, item) -> str:
        keys = self.context["keys"]
        if isinstance(item, Folder):
            return keys.folder_name(item)
        if isinstance(item, Note):
            return note_title(keys, item) or "Untitled note"
        return keys.file_name(item)

    def get_size(self, item) -> int | None:
        return item.size if isinstance(item, File) else None

    def get_original_parent(self, item) -> str | None:
        parent = item.parent_id if isinstance(item, Folder) else item.folder_id
        return str(parent) if parent else None


def _name_field(**kwargs):
    return StrictCharField(
        max_length=MAX_NAME_LENGTH,
        trim_whitespace=False,
        pattern=NAME_PATTERN,
        pattern_message=NAME_RULE,
        help_text=f"1 to {MAX_NAME_LENGTH} characters. {NAME_RULE}",
        **kwargs,
    )


def _tags_field():
    tag = StrictCharField(
        max_length=MAX_TAG_LENGTH, trim_whitespace=False, pattern=TAG_PATTERN, pattern_message=TAG_RULE
    )
    return serializers.ListField(
        child=tag,
        required=False,
        max_length=MAX_TAGS,
        help_text=f"At most {MAX_TAGS} tags of 1 to {MAX_TAG_LENGTH} characters. {TAG_RULE} "
        "Tags that differ only in case are one tag.",
    )


class FolderCreateInput(serializers.Serializer):
    name = _name_field()
    parent = StrictUUIDField(required=False, allow_null=True)
    tags = _tags_field()
    on_conflict = serializers.ChoiceField(choices=ON_CONFLICT, default="error")


class FolderUpdateInput(serializers.Serializer):
    name = _name_field(required=False)
    parent = StrictUUIDField(required=False, allow_null=True)
    tags = _tags_field()
    on_conflict = serializers.ChoiceField(choices=ON_CONFLICT, default="error")


class FileUpdateInput(serializers.Serializer):
    name = _name_field(required=False)
    folder = StrictUUIDField(required=False, allow_null=True)
    tags = _tags_field()
    on_conflict = serializers.ChoiceField(choices=ON_CONFLICT, default="error")


UPLOAD_TAGS_PATTERN = tag_list_pattern(max_tags=MAX_TAGS, max_length=MAX_TAG_LENGTH)
UPLOAD_TAGS_HELP = (
    f"Comma-separated tags: at most {MAX_TAGS}, each at most {MAX_TAG_LENGTH} characters, without control or "
    "format characters; blank ones are skipped."
)


class UploadInput(serializers.Serializer):
    """The non-file fields of a multipart upload (``file`` parts are read separately)."""

    folder = StrictUUIDField(required=False, allow_null=True)
    tags = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        pattern=UPLOAD_TAGS_PATTERN,
        pattern_message=UPLOAD_TAGS_HELP,
        help_text=UPLOAD_TAGS_HELP,
    )
    on_conflict = serializers.ChoiceField(choices=[("version", "version"), *ON_CONFLICT], default="version")


class UploadResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    created = serializers.BooleanField(required=False)
    file = FileSerializer(required=False)
    code = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


class SearchResultSerializer(MarksDamage):
    """A search result of any registered kind (``vault.kinds``): what it is, what it shows, where it opens."""

    kind = serializers.CharField()

    def damage_target(self, result) -> tuple:
        item = result["item"]
        return item.owner_id, result["kind"], item.pk

    id = serializers.UUIDField(source="item.pk")
    name = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField(
        help_text="The containing folder's id (null at the top level); for a message, its chat's id."
    )
    url = serializers.SerializerMethodField(help_text="The page that opens this result (a message: in its chat).")
    size = serializers.SerializerMethodField()
    mime_type = serializers.SerializerMethodField()
    modified_at = serializers.SerializerMethodField()
    score = serializers.IntegerField()

    parent_name = serializers.SerializerMethodField(
        help_text='The name of the folder it is in, as you see it: null at the top level of your files ("Files"), '
        '"Shared with me" for an item shared with you on its own; for a message, null.'
    )
    parent_url = serializers.SerializerMethodField(help_text="The page of that folder (null for a message).")
    snippet = serializers.SerializerMethodField(
        help_text="Plain text around the first matched word: a note's words (Markdown's syntax removed, task boxes "
        "as ☐ and ☑), a message's, or a file's extracted text when a word matched there; else null."
    )
    snippet_marks = serializers.SerializerMethodField(
        help_text="Where the matched words are in ``snippet``: [start, end] pairs in UTF-16 code units (a "
        "JavaScript string's indexes), matched as the search matched them (case and accents folded, prefixes)."
    )
    tags = serializers.SerializerMethodField()

    def _view(self, result) -> kinds.SearchView:
        if "view" not in result:
            result["view"] = kinds.get(result["kind"]).describe(
                self.context["keys"], result["item"], result.get("words", [])
            )
        return result["view"]

    def get_tags(self, result) -> list[str]:
        return self._view(result).tags

    def get_name(self, result) -> str:
        return self._view(result).name

    def get_parent(self, result) -> str | None:
        return self._view(result).parent

    def get_url(self, result) -> str:
        return self._view(result).url

    def get_snippet(self, result) -> str | None:
        return self._view(result).snippet

    def get_snippet_marks(self, result) -> list[list[int]]:
        return snippets.marks(self._view(result).snippet, result.get("words", []))

    def get_parent_name(self, result) -> str | None:
        return self._view(result).parent_name

    def get_parent_url(self, result) -> str | None:
        return self._view(result).parent_url

    def get_size(self, result) -> int | None:
        return getattr(result["item"], "size", None) if result["kind"] == "file" else None

    def get_mime_type(self, result) -> str | None:
        return result["item"].mime_type if result["kind"] == "file" else None

    def get_modified_at(self, result) -> str:
        item = result["item"]
        return (getattr(item, "modified_at", None) or item.created_at).isoformat().replace("+00:00", "Z")


class NoteSerializer(MarksDamage):
    id = serializers.UUIDField()
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    folder = serializers.UUIDField(source="folder_id", allow_null=True)
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    modified_at = serializers.DateTimeField()

    def _key(self, note):
        from vault.notes.services import note_key

        cache = self.context.setdefault("_note_keys", {})
        if note.pk not in cache:
            cache[note.pk] = note_key(self.context["keys"], note)
        return cache[note.pk]

    def get_title(self, note) -> str:
        return note_title(self.context["keys"], note, self._key(note))

    def get_body(self, note) -> str:
        return note_body(self.context["keys"], note, self._key(note))

    def get_tags(self, note) -> list[str]:
        from vault.notes.services import note_tags

        return note_tags(self.context["keys"], note, self._key(note))


class NoteDetailSerializer(NoteSerializer):
    html = serializers.SerializerMethodField(help_text="The body as safe HTML (no raw HTML, links rel=noopener).")

    def get_html(self, note) -> str:
        from vault.notes.markdown import render

        return render(note_body(self.context["keys"], note, self._key(note)))


class NoteListSerializer(NoteSerializer):
    """Lists carry an excerpt, not the whole body."""

    body = None
    excerpt = serializers.SerializerMethodField()

    def get_excerpt(self, note) -> str:
        text = " ".join(note_body(self.context["keys"], note, self._key(note)).split())
        return text[:200] + ("…" if len(text) > 200 else "")


class NoteInput(serializers.Serializer):
    title = StrictCharField(
        max_length=MAX_TITLE,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"At most {MAX_TITLE} characters (runs of whitespace become one space).",
    )
    body = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        schema_extra={"maxLength": settings.LOCKER_MAX_NOTE_BYTES},
        help_text=f"Markdown, at most {settings.LOCKER_MAX_NOTE_BYTES} bytes in UTF-8 (400 `note_too_large`).",
    )
    tags = _tags_field()
    folder = StrictUUIDField(required=False, allow_null=True)
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_BIGINT, help_text="PATCH: the version you edited (412 if stale)."
    )


class NoteVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
