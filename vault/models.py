"""The encrypted vault: folders, files and their versions.

Key hierarchy (docs/security.md): the user data key (UDK) wraps the keys of
top-level folders and files; each folder key wraps its children's keys; each
file key wraps its versions' content keys; each content key encrypts one blob
in the LKS1 stream format. Names and tags are sealed under the item's own key.
Plaintext metadata: ids, owner, parent, sizes, MIME type, timestamps, trash state.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

# ``modified_at`` is the time the content changed, as a file service shows it (Nextcloud, Seafile, a file's mtime):
# renaming, moving or retagging leaves it alone. ``changed_at`` (a file's ctime) moves with every change, metadata
# included, so that whatever must see every change (the data export's ``?since``) sees renames and tags too.
MODIFIED_AT_HELP = "When the content (a file's bytes, a note's title or body) changed."
CHANGED_AT_HELP = "When anything about the item last changed (name, place, tags or content)."


class Folder(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="folders")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    key_wrapped = models.TextField(help_text="Folder key wrapped by the parent's key (or the UDK at the top).")
    name_sealed = models.TextField(help_text="Name sealed under the folder's own key.")
    name_mac = models.CharField(max_length=64, help_text="Keyed MAC of the normalized name under the parent's key.")
    tags_sealed = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now, help_text=CHANGED_AT_HELP)
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    trashed_with = models.UUIDField(
        null=True, blank=True, help_text="The trash entry that took it (itself or an ancestor)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "parent", "name_mac"],
                condition=models.Q(trashed_at__isnull=True),
                name="vault_folder_unique_live_name",
            ),
            models.UniqueConstraint(
                fields=["owner", "name_mac"],
                condition=models.Q(trashed_at__isnull=True, parent__isnull=True),
                name="vault_folder_unique_live_top_name",
            ),
        ]
        indexes = [models.Index(fields=["owner", "parent", "trashed_at"])]

    def __str__(self):
        return f"folder {self.pk}"


class File(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="files")
    key_wrapped = models.TextField(help_text="File key wrapped by the folder's key (or the UDK at the top).")
    name_sealed = models.TextField()
    name_mac = models.CharField(max_length=64)
    tags_sealed = models.TextField(blank=True)
    current_version = models.ForeignKey(
        "FileVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    size = models.BigIntegerField(default=0, help_text="Plaintext size of the current version.")
    mime_type = models.CharField(max_length=128, default="application/octet-stream")
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now, db_index=True, help_text=MODIFIED_AT_HELP)
    changed_at = models.DateTimeField(default=timezone.now, help_text=CHANGED_AT_HELP)
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    trashed_with = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "folder", "name_mac"],
                condition=models.Q(trashed_at__isnull=True),
                name="vault_file_unique_live_name",
            ),
            models.UniqueConstraint(
                fields=["owner", "name_mac"],
                condition=models.Q(trashed_at__isnull=True, folder__isnull=True),
                name="vault_file_unique_live_top_name",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "folder", "trashed_at"]),
            models.Index(fields=["owner", "trashed_at", "modified_at"], name="vault_file_recent"),
        ]

    def __str__(self):
        return f"file {self.pk}"


class FileVersion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content_key_wrapped = models.TextField(help_text="Content key wrapped by the file key.")
    blob = models.CharField(max_length=255, unique=True, help_text="Storage name: <owner uuid>/<random>.")
    size = models.BigIntegerField(help_text="Plaintext bytes.")
    stored_size = models.BigIntegerField(help_text="Ciphertext bytes (what the quota counts).")
    mime_type = models.CharField(max_length=128)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # the id outlives the account: the blobs stay bound to it
        related_name="+",
        help_text="Who wrote this version (the owner, or a share's recipient); its blobs are bound to this id. "
        "Empty for versions written before sharing existed: the owner.",
    )
    content_mac = models.CharField(
        max_length=64, help_text="Keyed HMAC of the plaintext (per user), for ETag and dedup."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "number"], name="vault_version_unique_number")]
        ordering = ["-number"]

    def __str__(self):
        return f"version {self.number} of {self.file_id}"

    def writer_id(self, file=None):
        """The account this version's blobs (content and thumbnail) are bound to: its author, else the owner."""
        return self.author_id or (file or self.file).owner_id


class SearchToken(models.Model):
    """One blind-index token of one item (SECURITY.md property 8).

    ``token`` is a truncated keyed HMAC of a normalized word (or word prefix), under
    a key derived from the owner's data key per field and per kind of token; the
    server cannot tell which word it stands for. Equal words of one user give equal
    tokens: that, and the number of tokens per item, is the documented leakage.
    """

    class Kind(models.IntegerChoices):
        FILE = 1, "file"
        FOLDER = 2, "folder"
        NOTE = 3, "note"
        MESSAGE = 4, "message"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    item_id = models.UUIDField()
    token = models.BigIntegerField()

    class Meta:
        indexes = [
            # covering: a search reads only this index, never the table
            models.Index(fields=["owner", "token", "kind", "item_id"], name="vault_search_lookup"),
            models.Index(fields=["kind", "item_id"], name="vault_search_item"),
        ]

    def __str__(self):
        return f"token of {self.get_kind_display()} {self.item_id}"


class Note(models.Model):
    """An encrypted note: title, Markdown body and tags sealed under the note's own key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    key_wrapped = models.TextField(help_text="Note key wrapped by the folder's key (or the UDK at the top).")
    title_sealed = models.TextField()
    body_sealed = models.TextField()
    tags_sealed = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Number of the current body.")
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now, db_index=True, help_text=MODIFIED_AT_HELP)
    changed_at = models.DateTimeField(default=timezone.now, help_text=CHANGED_AT_HELP)
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    trashed_with = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "folder", "trashed_at"])]

    def __str__(self):
        return f"note {self.pk}"


class NoteVersion(models.Model):
    """A previous body (and title) of a note, kept when a PATCH changes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title_sealed = models.TextField()
    body_sealed = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "number"], name="vault_noteversion_unique_number")]
        ordering = ["-number"]

    def __str__(self):
        return f"version {self.number} of note {self.note_id}"


class Derived(models.Model):
    """Data derived from a file version's content at upload: a thumbnail blob (encrypted like any blob), and the
    beginning of the extracted text, sealed, for search snippets.

    The extracted words feed the blind index (``content`` field). Only a bounded excerpt of the text is kept
    (``text_sealed``: at most ``vault.derived.derive.MAX_EXCERPT_CHARS``), sealed under a key derived from the
    version's content key (``vault.keys.VaultKeys.seal_excerpt``): it is as readable as the file's bytes, no more.
    """

    version = models.OneToOneField(FileVersion, on_delete=models.CASCADE, primary_key=True, related_name="derived")
    preview_blob = models.CharField(max_length=255, blank=True, help_text="Encrypted thumbnail (LKS1), or empty.")
    preview_key_wrapped = models.TextField(blank=True, help_text="Thumbnail content key wrapped by the file key.")
    preview_mime = models.CharField(max_length=64, blank=True)
    preview_size = models.BigIntegerField(default=0)
    preview_error = models.CharField(
        max_length=200, blank=True, help_text="Why there is no preview (shown to the user)."
    )
    text_indexed = models.BooleanField(default=False)
    text_sealed = models.TextField(
        blank=True, help_text="The first characters of the extracted text, sealed (search snippets), or empty."
    )

    class Ocr(models.TextChoices):
        """Text recognition of an image or a PDF (``vault.derived.ocr``): a job after the version commits."""

        NONE = "", "Not applicable"
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    ocr_state = models.CharField(max_length=8, choices=Ocr.choices, default=Ocr.NONE, blank=True)
    ocr_reason = models.CharField(
        max_length=200, blank=True, help_text="Why text recognition failed or was skipped (never content)."
    )
    ocr_claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a server took the pending job (another takes it once this is stale)."
    )
    ocr_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["ocr_state"],
                name="vault_derived_ocr_open",
                condition=models.Q(ocr_state__in=["pending", "failed"]),
            )
        ]

    def __str__(self):
        return f"derived data of {self.version_id}"


class TextRecognitionJob(Derived):
    """Text recognition as the admin sees it: each version's job, its state and reason, never content or names."""

    class Meta:
        proxy = True
        verbose_name = "text recognition job"


class ContentWords(models.Model):
    """The distinct words of a version's extracted text (those its ``content`` tokens were made from), sorted and
    sealed under a key derived from the version's content key (``vault.keys.VaultKeys.seal_words``).

    The owner searches content through the blind index; a share's recipient, who must not hold the owner's index
    keys, searches the words of what is shared here, opened with the keys the share gives (docs/sharing.md). As
    readable as the file's bytes, no more. A table of its own so that listings, which read ``Derived``, never load it.
    """

    version = models.OneToOneField(
        FileVersion, on_delete=models.CASCADE, primary_key=True, related_name="content_words"
    )
    words_sealed = models.TextField()

    def __str__(self):
        return f"content words of {self.version_id}"


class TagIndex(models.Model):
    """One tag of one item, for tag counts and tag filters without a plaintext tag table.

    ``token`` is a keyed HMAC of the normalized tag (equal tags of one user share it);
    ``tag_sealed`` is the tag's text sealed under a key derived from the owner's data
    key, bound to the owner and the token, so a listing decrypts one name per tag.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.PositiveSmallIntegerField(choices=SearchToken.Kind.choices)
    item_id = models.UUIDField()
    token = models.BigIntegerField()
    tag_sealed = models.TextField()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "token", "kind", "item_id"], name="vault_tag_lookup"),
            models.Index(fields=["kind", "item_id"], name="vault_tag_item"),
        ]

    def __str__(self):
        return f"tag of {self.get_kind_display()} {self.item_id}"


class Share(models.Model):
    """``owner`` lets ``recipient`` use one folder (with everything in it, now and later), file or note.

    ``key_wrapped`` is the item's own key (a folder's key for a folder) wrapped to the recipient's X25519 public
    key, with associated data binding the item, the owner and the recipient (``vault.sharing.keys``): one wrap
    whatever the size of what is shared. Deleting the row revokes the grant at once.
    """

    class Kind(models.TextChoices):
        FOLDER = "folder"
        FILE = "file"
        NOTE = "note"

    class Permission(models.TextChoices):
        VIEW = "view", "view"
        EDIT = "edit", "edit"
        DELETE = "delete", "delete"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares_made")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares_received")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    file = models.ForeignKey(File, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    note = models.ForeignKey(Note, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    permission = models.CharField(max_length=8, choices=Permission.choices)
    key_wrapped = models.TextField(help_text="The item's key wrapped to the recipient's X25519 public key.")
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="folder", folder__isnull=False, file__isnull=True, note__isnull=True)
                    | models.Q(kind="file", folder__isnull=True, file__isnull=False, note__isnull=True)
                    | models.Q(kind="note", folder__isnull=True, file__isnull=True, note__isnull=False)
                ),
                name="vault_share_one_item",
            ),
            models.UniqueConstraint(fields=["recipient", "folder"], name="vault_share_unique_folder"),
            models.UniqueConstraint(fields=["recipient", "file"], name="vault_share_unique_file"),
            models.UniqueConstraint(fields=["recipient", "note"], name="vault_share_unique_note"),
        ]
        indexes = [models.Index(fields=["owner", "created_at"], name="vault_share_owner")]

    def __str__(self):
        return f"share of {self.kind} {self.item_id}"

    @property
    def item_id(self):
        return {"folder": self.folder_id, "file": self.file_id, "note": self.note_id}[self.kind]


class IndexPending(models.Model):
    """A change to the owner's search index made through a share, waiting for the owner's keys.

    A recipient who renames or adds an item holds the item's key but not the owner's blind-index keys (those
    would let them test words against all of the owner's tokens). The change (the fields' old and new words) is
    sealed under the item's own key, with associated data ``("index-pending", owner, kind, item, row)``, and
    applied by the owner's next search (``vault.search.index.apply_pending``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.PositiveSmallIntegerField(choices=SearchToken.Kind.choices)
    item_id = models.UUIDField()
    change_sealed = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["owner", "created_at"], name="vault_index_pending_owner")]

    def __str__(self):
        return f"pending index change of {self.get_kind_display()} {self.item_id}"


class Link(models.Model):
    """A public link to a folder or a file: whoever holds its URL (and its password, if it has one) may open it.

    The URL's token is a random secret. Only its SHA-256 is stored (``token_hash``, to find the row); the link's
    key is derived from the secret and wraps the item's key (``key_wrapped``, associated data ``("link-key", kind,
    item, owner, link)``), so the server at rest cannot open what a link shows without the URL.
    """

    class Kind(models.TextChoices):
        FOLDER = "folder"
        FILE = "file"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    file = models.ForeignKey(File, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    key_wrapped = models.TextField(help_text="The item's key wrapped by the key derived from the URL's secret.")
    password_hash = models.CharField(max_length=255, blank=True, help_text="Argon2id, when the link has a password.")
    expires_at = models.DateTimeField()
    max_downloads = models.PositiveIntegerField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="folder", folder__isnull=False, file__isnull=True)
                    | models.Q(kind="file", folder__isnull=True, file__isnull=False)
                ),
                name="vault_link_one_item",
            )
        ]
        indexes = [models.Index(fields=["owner", "created_at"], name="vault_link_owner")]

    def __str__(self):
        return f"link to {self.kind} {self.item_id}"

    @property
    def item_id(self):
        return self.folder_id if self.kind == "folder" else self.file_id


class Star(models.Model):
    """``user`` starred one folder or file (their own, or one shared with them): a per-user marker, ids only.

    Nothing about the item is stored here: its name stays sealed in its own row. Trashing the item keeps the star
    (it shows again after a restore); purging it deletes the star with it.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="stars")
    file = models.ForeignKey(File, null=True, blank=True, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(folder__isnull=False, file__isnull=True)
                    | models.Q(folder__isnull=True, file__isnull=False)
                ),
                name="vault_star_one_item",
            ),
            models.UniqueConstraint(fields=["user", "folder"], name="vault_star_unique_folder"),
            models.UniqueConstraint(fields=["user", "file"], name="vault_star_unique_file"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="vault_star_user")]

    def __str__(self):
        return f"star of {'folder' if self.folder_id else 'file'} {self.folder_id or self.file_id}"


class ExportJob(models.Model):
    """A personal export built in the background (``vault.export.jobs``), kept until downloaded or expired.

    The zip (AES-encrypted under the user's passphrase, but with readable member names: a zip's directory is not
    encrypted) is stored once more encrypted, as an LKS1 blob under a random key wrapped by the owner's data key
    (``key_wrapped``, purpose ``export-key``): at rest it is as closed as any file of theirs.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Being built"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    all_versions = models.BooleanField(default=False)
    total_bytes = models.BigIntegerField(default=0, help_text="Bytes of files to put in the zip (an estimate).")
    done_bytes = models.BigIntegerField(default=0)
    blob = models.CharField(max_length=255, blank=True)
    key_wrapped = models.TextField(blank=True)
    size = models.BigIntegerField(default=0, help_text="Bytes of the finished zip.")
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["owner", "-created_at"], name="vault_export_owner")]

    def __str__(self):
        return f"export {self.pk} ({self.status})"


class Upload(models.Model):
    """A resumable upload (tus, ``vault.transfers.tus``) while its bytes arrive, and for a while after it finished.

    Its bytes are encrypted as they arrive, in the stream format, under a content key wrapped by the uploader's data
    key (``key_wrapped``, purpose ``upload-key``): whole chunks go to ``blob`` (a blob being written, named like any
    other), the plaintext after the last whole chunk (less than 64 KiB) is kept sealed in ``pending_sealed`` until the
    next bytes complete it. Name, folder, tags and target file are sealed too (``meta_sealed``). ``reserved`` bytes of
    ``quota_user``'s quota are held from creation until the upload finishes or expires. ``busy_until`` is the lease of
    the one request appending to it (a second one is refused, never interleaved).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    quota_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_reservations"
    )
    version_id = models.UUIDField(default=uuid.uuid4, help_text="The file version the finished upload becomes.")
    length = models.BigIntegerField(help_text="Upload-Length: the plaintext's size in bytes.")
    offset = models.BigIntegerField(default=0, help_text="Upload-Offset: plaintext bytes received.")
    reserved = models.BigIntegerField(default=0, help_text="Quota bytes held: the finished blob's stored size.")
    key_wrapped = models.TextField()
    meta_sealed = models.TextField()
    header = models.BinaryField(max_length=64, help_text="The stream's header (its salt), written first to the blob.")
    sealed_chunks = models.BigIntegerField(default=0)
    blob = models.CharField(max_length=255)
    blob_size = models.BigIntegerField(default=0, help_text="Bytes of the blob that count: more is a torn append.")
    pending_sealed = models.BinaryField(default=b"")
    busy_until = models.DateTimeField(null=True, blank=True)
    file_id = models.UUIDField(null=True, blank=True, help_text="The file it became, once finished.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["quota_user", "file_id"], name="vault_upload_reserved"),
            models.Index(fields=["expires_at"], name="vault_upload_expires"),
        ]

    def __str__(self):
        return f"upload {self.pk} ({self.offset}/{self.length})"

    @property
    def finished(self) -> bool:
        return self.file_id is not None
