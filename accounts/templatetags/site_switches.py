"""The site's switches for templates: ``{% registration_is_open as open %}`` (the header's "Create account")."""

from django import template

from accounts.selectors import registration_open

register = template.Library()


@register.simple_tag
def registration_is_open() -> bool:
    return registration_open()
