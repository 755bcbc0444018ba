from django.contrib import admin

from activity.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: the activity log is append-only."""

    list_display = ["created_at", "action", "outcome", "user", "ip", "object_type", "object_id"]
    list_filter = ["action", "outcome"]
    search_fields = ["user__username", "object_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
