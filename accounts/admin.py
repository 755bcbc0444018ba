"""Django admin for the Admin role: manage accounts, never content.

Edits go through :func:`accounts.services.user_admin_update`; a password
reset goes through :func:`accounts.services.user_admin_reset`, behind a page
that says plainly that the user's data will be destroyed.
"""

from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import services
from accounts.forms import AdminResetForm
from accounts.models import User
from locker.errors import LockerError
from locker.http import RequestMeta

# Locker has two roles and no groups or per-model permissions.
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["username", "email", "role", "is_active", "storage_quota", "storage_used", "date_joined"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "email"]
    ordering = ["username"]
    fields = ["username", "email", "role", "is_active", "storage_quota", "storage_used", "date_joined", "reset_link"]
    readonly_fields = ["username", "storage_used", "date_joined", "reset_link"]
    actions = ["activate", "deactivate"]

    def has_add_permission(self, request):
        return False  # people register themselves; admins use ``manage.py createsuperuser``

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; users delete (and crypto-shred) their own accounts

    @admin.display(description="Password")
    def reset_link(self, obj):
        if not obj.pk:
            return "-"
        url = reverse("admin:accounts_user_reset", args=[obj.pk])
        return format_html('<a href="{}">Reset password (destroys this user\'s data)</a>', url)

    def save_model(self, request, obj, form, change):
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in services.ADMIN_EDITABLE_FIELDS
        }
        original = User.objects.get(pk=obj.pk)
        try:
            services.user_admin_update(
                admin=request.user, user=original, changes=changes, meta=RequestMeta.from_request(request)
            )
        except LockerError as exc:
            messages.error(request, exc.detail)

    def _set_active(self, request, queryset, active: bool):
        meta = RequestMeta.from_request(request)
        done = 0
        for user in queryset:
            try:
                services.user_admin_update(admin=request.user, user=user, changes={"is_active": active}, meta=meta)
                done += 1
            except LockerError as exc:
                messages.error(request, f"{user.username}: {exc.detail}")
        if done:
            messages.success(request, f"{'Activated' if active else 'Deactivated'} {done} account(s).")

    @admin.action(description="Activate selected accounts")
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected accounts (ends their sessions)")
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)

    def get_urls(self):
        return [
            path("<uuid:pk>/reset-password/", self.admin_site.admin_view(self.reset_view), name="accounts_user_reset"),
            *super().get_urls(),
        ]

    def reset_view(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        form = AdminResetForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.user_admin_reset(
                    admin=request.user,
                    user=user,
                    new_password=form.cleaned_data["new_password"],
                    meta=RequestMeta.from_request(request),
                )
            except LockerError as exc:
                for msgs in (exc.errors or {"": [exc.detail]}).values():
                    for msg in msgs:
                        form.add_error("new_password", msg)
            else:
                messages.warning(request, f"{user.username}'s password was reset; their old data is gone for good.")
                return redirect("admin:accounts_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "target": user,
            "opts": self.model._meta,
            "title": "Reset password",
        }
        return render(request, "admin/accounts/user/reset_password.html", context)
