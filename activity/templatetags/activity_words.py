"""Template filters for the server-rendered activity tables (``templates/activity/event_table.html``)."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()

RELATIVE_FOR = timedelta(days=7)
OUTCOMES = {"success": "Succeeded", "failure": "Failed"}


@register.filter
def ago(value, now=None) -> str:
    """When, in words: "just now", "5 minutes ago", "3 days ago" for a week; the date ("2026-11-30") after."""
    if not value:
        return ""
    now = now or timezone.now()
    elapsed = now - value
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < RELATIVE_FOR:
        return f"{timesince(value, now, depth=1)} ago"
    return timezone.localtime(value).strftime("%Y-%m-%d")


@register.filter
def outcome_word(value) -> str:
    return OUTCOMES.get(value, value)
