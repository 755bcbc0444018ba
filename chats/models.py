"""Chats with the assistant: encrypted titles and messages.

A chat has its own key, wrapped by the owner's data key; it seals the title and every message's content
(associated data: owner, chat, message id), so a message copied into another chat or row fails to open.
Plaintext metadata: ids, role, status, timestamps, reply-to links.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Chat(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats")
    key_wrapped = models.TextField(help_text="Chat key wrapped by the owner's data key.")
    title_sealed = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "-updated_at"], name="chats_recent")]

    def __str__(self):
        return f"chat {self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"
        SYSTEM = "system", "System"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=Role.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENT)
    content_sealed = models.TextField()
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["chat", "created_at", "id"], name="chats_message_order")]

    def __str__(self):
        return f"{self.role} message {self.pk}"


class Attachment(models.Model):
    """A file or voice recording sent with a message. The bytes are a vault file (encrypted, versioned,
    previewed, searched and counted in the quota like any file)."""

    class Kind(models.TextChoices):
        FILE = "file", "File"
        AUDIO = "audio", "Audio"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.ForeignKey("vault.File", null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds, for audio.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return f"{self.kind} attachment {self.pk}"
