"""What the sharing API takes and shows."""

from rest_framework import serializers

from locker.serializers import StrictCharField, StrictUUIDField
from vault import kinds
from vault.models import Share
from vault.transfers.integrity import CRYPTO_FAILURES


class ShareInput(serializers.Serializer):
    item = StrictUUIDField(help_text="A folder, file or note of yours (404 when it is not one).")
    username = StrictCharField(max_length=64, help_text="The exact username of the account to share with.")
    permission = serializers.ChoiceField(
        choices=Share.Permission.choices,
        help_text="view: list, preview, download, search; edit: also change and add; delete: also trash.",
    )


class ShareUpdateInput(serializers.Serializer):
    permission = serializers.ChoiceField(choices=Share.Permission.choices)


class SharedItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Share.Kind.choices)
    id = serializers.UUIDField()
    name = serializers.CharField(allow_null=True, help_text="null when it cannot be opened (damaged).")


def item_of(row, keys) -> dict:
    """The item of a share or a link as its viewer sees it; its name is null when it cannot be opened (damaged)."""
    try:
        name = kinds.get(row.kind).describe(keys, getattr(row, row.kind), []).name
    except CRYPTO_FAILURES:
        name = None
    return {"kind": row.kind, "id": row.item_id, "name": name}


class ShareSerializer(serializers.Serializer):
    """A share as its owner or its recipient sees it (``context["keys"]``: the viewer's keys)."""

    id = serializers.UUIDField()
    item = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username")
    recipient = serializers.CharField(source="recipient.username")
    permission = serializers.ChoiceField(choices=Share.Permission.choices)
    created_at = serializers.DateTimeField()
    modified_at = serializers.DateTimeField()

    def get_item(self, share) -> SharedItemSerializer:
        return item_of(share, self.context["keys"])


class LinkInput(serializers.Serializer):
    item = StrictUUIDField(help_text="A folder or file of yours (404 when it is not one).")
    expires_at = serializers.DateTimeField(
        help_text="When the link stops working: in the future, at most LOCKER_LINK_MAX_DAYS (30) days ahead."
    )
    password = StrictCharField(
        required=False, allow_blank=True, max_length=1024, trim_whitespace=False, help_text="Optional."
    )
    max_downloads = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=1_000_000, help_text="Optional download limit."
    )


class LinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    item = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()
    has_password = serializers.SerializerMethodField()
    max_downloads = serializers.IntegerField(allow_null=True)
    downloads = serializers.IntegerField()
    views = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_item(self, link) -> SharedItemSerializer:
        return item_of(link, self.context["keys"])

    def get_has_password(self, link) -> bool:
        return bool(link.password_hash)


class LinkCreatedSerializer(LinkSerializer):
    url = serializers.CharField(help_text="The link. It holds its secret and is shown this once: copy it now.")
