"""The vault's sections of the settings page (``templates/accounts/settings.html`` loads this library: the page
belongs to accounts, which imports nothing of the vault)."""

from django import template

from vault.derived import ocr

register = template.Library()


@register.inclusion_tag("vault/text_recognition.html", takes_context=True)
def text_recognition_settings(context):
    """Text recognition on or off, its languages, and how many files wait or failed (``vault.derived.ocr``)."""
    request = context["request"]
    return {"ocr": ocr.user_settings(request.user), "csrf_token": context.get("csrf_token")}
