"""Django admin for the Admin role: manage accounts, never content.

Edits go through :func:`accounts.services.user_admin_update`; a password
reset goes through :func:`accounts.services.user_admin_reset`, behind a page
that says plainly that the user's data will be destroyed. Quotas are typed and
shown in human units (``accounts.forms.QuotaField``, ``locker.units``).

An admin cannot add an account with its keys: the keys are made from the
user's own password, which the admin must never know. The admin invites
instead (:mod:`accounts.invitations`: a single-use link, shown once), and
opens or closes open registration (:mod:`accounts.site_settings`).
"""

from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import invitations, services, site_settings
from accounts.forms import AdminResetForm, InvitationForm, UserAdminForm
from accounts.models import Invitation, SiteSettings, User
from accounts.selectors import site_settings as site_settings_row
from locker.errors import LockerError
from locker.http import RequestMeta
from locker.units import format_bytes

# Locker has two roles and no groups or per-model permissions; the refresh-token bookkeeping of
# ``token_blacklist`` is internal (sessions are ended from the user's settings, deactivation or a reset).
for internal in (Group, OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(internal):
        admin.site.unregister(internal)


def storage_text(used: int, quota: int) -> str:
    """``"1.5 GiB of 5 GiB"``."""
    return f"{format_bytes(used, trim=True)} of {format_bytes(quota, trim=True)}"


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserAdminForm
    list_display = ["username", "email", "role", "is_active", "two_factor", "storage", "date_joined"]
    list_select_related = ["two_factor"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "email"]
    ordering = ["username"]
    fields = ["username", "email", "role", "is_active", "storage_quota", "storage_usage", "date_joined", "reset_link"]
    readonly_fields = ["username", "storage_usage", "date_joined", "reset_link"]
    actions = ["activate", "deactivate"]

    def has_add_permission(self, request):
        # Keys are made from the user's own password: people register or accept an invitation (the list says so).
        return False

    @admin.display(boolean=True, description="two-factor", ordering="two_factor__enabled_at")
    def two_factor(self, obj):
        row = getattr(obj, "two_factor", None)
        return bool(row and row.enabled_at)

    @admin.display(description="Storage used", ordering="storage_used")
    def storage(self, obj):
        return storage_text(obj.storage_used, obj.storage_quota)

    @admin.display(description="Storage used")
    def storage_usage(self, obj):
        if not obj.pk:
            return "-"
        return f"{storage_text(obj.storage_used, obj.storage_quota)} ({obj.storage_used:,} bytes)"

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


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations: made here (the link shown once), listed with their state, revoked; never edited."""

    list_display = ["username_hint", "role", "quota", "state", "created_by", "created_at", "expires_at", "used_by"]
    list_filter = ["role"]
    list_select_related = ["created_by", "used_by"]
    search_fields = ["username_hint", "used_by__username"]
    readonly_fields = ["username_hint", "role", "quota", "state", "created_by", "created_at", "expires_at", "used_by"]
    fields = readonly_fields
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row says who was invited, by whom, and when

    @admin.display(description="Quota", ordering="storage_quota")
    def quota(self, obj):
        return format_bytes(obj.storage_quota, trim=True)

    @admin.display(description="State")
    def state(self, obj):
        return obj.status().capitalize()

    @admin.action(description="Revoke selected invitations")
    def revoke(self, request, queryset):
        meta = RequestMeta.from_request(request)
        done = 0
        for invitation in queryset:
            try:
                invitations.invitation_revoke(admin=request.user, invitation_id=invitation.pk, meta=meta)
                done += 1
            except LockerError as exc:
                messages.error(request, f"{invitation}: {exc.detail}")
        if done:
            messages.success(request, f"Revoked {done} invitation(s); their links no longer work.")

    def add_view(self, request, form_url="", extra_context=None):
        form = InvitationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                invitation, token = invitations.invitation_create(
                    admin=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
                )
            except LockerError as exc:
                for field, msgs in (exc.errors or {None: [exc.detail]}).items():
                    for msg in msgs:
                        form.add_error(field if field in form.fields else None, msg)
            else:
                link = request.build_absolute_uri(reverse("invitation", args=[token]))
                response = render(
                    request,
                    "admin/accounts/invitation/created.html",
                    {
                        **self._context(request, "Invitation created"),
                        "invitation": invitation,
                        "link": link,
                        "quota_text": format_bytes(invitation.storage_quota, trim=True),
                    },
                    status=201,
                )
                response["Cache-Control"] = "no-store"  # the link is shown once
                return response
        return render(
            request,
            "admin/accounts/invitation/add.html",
            {**self._context(request, "Invite a user"), "form": form},
            status=400 if form.errors else 200,
        )

    def _context(self, request, title):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title}


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    """The one row of site settings: its list opens it; saving goes through the audited service."""

    fields = ["registration_open", "admins_need_two_factor", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) != str(SiteSettings.SINGLETON_ID):
            return None
        return site_settings_row()  # the saved row, or the defaults until the first save

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("admin:accounts_sitesettings_change", args=[SiteSettings.SINGLETON_ID]))

    def save_model(self, request, obj, form, change):
        try:
            site_settings.site_settings_update(
                admin=request.user,
                registration_open=form.cleaned_data["registration_open"],
                admins_need_two_factor=form.cleaned_data["admins_need_two_factor"],
                meta=RequestMeta.from_request(request),
            )
        except LockerError as exc:
            messages.error(request, exc.detail)
