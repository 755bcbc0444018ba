from django import template

from locker.units import format_bytes

register = template.Library()


@register.filter(name="bytes")
def human_bytes(value) -> str:
    """1536 -> '1.5 KiB' (:func:`locker.units.format_bytes`, shared with the admin's quota column)."""
    return format_bytes(value)
