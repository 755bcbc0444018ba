"""The admin's view of text recognition: how many jobs wait, which failed and why. Never content, never names:
a job is a version id, its owner, its type and size, and the reason of a failure or a skip in the server's own
words."""

from django.contrib import admin, messages

from vault.derived import ocr
from vault.models import Derived, TextRecognitionJob


@admin.register(TextRecognitionJob)
class TextRecognitionJobAdmin(admin.ModelAdmin):
    list_display = ["version_id", "owner", "mime_type", "size", "ocr_state", "ocr_reason", "ocr_finished_at"]
    list_filter = ["ocr_state", "ocr_reason"]
    search_fields = ["version__file__owner__username"]
    list_select_related = ["version__file__owner"]
    fields = [
        "version_id",
        "owner",
        "mime_type",
        "size",
        "ocr_state",
        "ocr_reason",
        "ocr_claimed_at",
        "ocr_finished_at",
    ]
    readonly_fields = fields
    actions = ["try_again"]
    change_list_template = "admin/vault/textrecognitionjob/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(ocr_state=Derived.Ocr.NONE).order_by("-ocr_finished_at")

    @admin.display(description="owner", ordering="version__file__owner__username")
    def owner(self, job):
        return job.version.file.owner.username

    @admin.display(description="type")
    def mime_type(self, job):
        return job.version.mime_type

    @admin.display(description="bytes")
    def size(self, job):
        return job.version.size

    @admin.action(description="Try the chosen failed or skipped jobs again (on their owner's next request)")
    def try_again(self, request, queryset):
        count = queryset.filter(ocr_state__in=[Derived.Ocr.FAILED, Derived.Ocr.SKIPPED]).update(
            ocr_state=Derived.Ocr.PENDING, ocr_reason="", ocr_claimed_at=None, ocr_finished_at=None
        )
        self.message_user(request, f"{count} jobs will run again when their owners next use Locker.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "recognition": ocr.server_summary()}
        return super().changelist_view(request, extra_context=extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None  # the list and its action; a job itself is read-only

    def has_delete_permission(self, request, obj=None):
        return False
