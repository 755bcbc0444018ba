"""The activity log: append-only events written by services inside their action's transaction."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Non-content metadata only.")
    # Tamper evidence (activity.chain): each event is chained to the previous one of the same user, over a copy of
    # the user's id that outlives the account (``user`` becomes null when it is deleted).
    user_key = models.CharField(max_length=36, blank=True, help_text="The user's id when written ('' for none).")
    seq = models.PositiveBigIntegerField(default=0, help_text="Position in the user's chain, from 1.")
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user_key", "seq"], name="activity_event_chain"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("activity events are append-only")
        super().save(*args, **kwargs)


class Notification(models.Model):
    """Something a user should hear about (issue: live notifications): derived from activity events and share
    changes, in the same transaction. Like events, it names items by id and holds no content. Ids only grow,
    so a client can resume from the last one it saw."""

    class Kind(models.TextChoices):
        UPLOAD_FINISHED = "upload.finished", "An upload or a new version finished"
        DOWNLOADED = "file.downloaded", "Someone else downloaded your file"
        SHARE_RECEIVED = "share.received", "Someone shared an item with you"
        SHARE_CHANGED = "share.changed", "Your permission on a shared item changed"
        SHARE_REVOKED = "share.revoked", "A share with you ended"
        SHARED_ITEM_CHANGED = "shared_item.changed", "Someone changed an item you share"
        LINK_USED = "link.used", "A public link of yours was used"
        LOGIN_FAILED = "login.failed", "A sign-in to your account failed"
        NEW_DEVICE = "device.signed_in", "A device signed in to your account"
        QUOTA_90 = "quota.90", "Your storage is 90% full"
        QUOTA_100 = "quota.100", "Your storage is full"
        EXPORT_READY = "export.ready", "Your export is ready to download"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Non-content metadata only.")
    event = models.UUIDField(null=True, blank=True, help_text="The activity event it came from, if any.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"], name="activity_notification_user"),
            models.Index(fields=["user", "read_at"], name="activity_notification_unread"),
        ]

    def __str__(self):
        return f"{self.kind} for {self.user_id}"


class ChainHead(models.Model):
    """The last link of each user's chain: locked while an event is appended, so that two at once never fork it."""

    user_key = models.CharField(max_length=36, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"chain of {self.user_key or 'no user'} at {self.seq}"


class ChainAnchor(models.Model):
    """A periodic digest over every chain's head (``manage.py activity_anchor``): copy it off the server, and
    ``activity_verify`` proves no chain was cut back or rewritten before it."""

    created_at = models.DateTimeField(default=timezone.now)
    heads = models.JSONField(help_text="{user_key: [seq, hash]} of every chain when it was made.")
    digest = models.CharField(max_length=64)

    def __str__(self):
        return f"anchor {self.pk} at {self.created_at:%Y-%m-%d %H:%M}"
