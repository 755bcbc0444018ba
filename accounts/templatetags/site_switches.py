"""The site's switches for templates: ``{% registration_is_open as open %}`` (the header's "Create account")."""

import logging

from django import template
from django.db import DatabaseError

from accounts.selectors import registration_open

register = template.Library()
log = logging.getLogger(__name__)


@register.simple_tag
def registration_is_open() -> bool:
    """Whether the header offers "Create account". A page about an error (a refused form, a database that does not
    answer) must still render: when the switch cannot be read, the link is left out (the register page itself
    says whether registration is open)."""
    try:
        return registration_open()
    except DatabaseError:
        log.warning("the registration switch could not be read; the header leaves out 'Create account'")
        return False
