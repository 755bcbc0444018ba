"""What the sharing API takes and shows."""

from rest_framework import serializers

from locker.serializers import StrictCharField, StrictUUIDField
from vault.models import Share
from vault.notes.services import note_title
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
        keys = self.context["keys"]
        item = getattr(share, share.kind)
        try:
            if share.kind == "folder":
                name = keys.folder_name(item)
            elif share.kind == "file":
                name = keys.file_name(item)
            else:
                name = note_title(keys, item)
        except CRYPTO_FAILURES:
            name = None
        return {"kind": share.kind, "id": share.item_id, "name": name}
