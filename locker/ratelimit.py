"""Rate limits with django-ratelimit, raising :class:`~locker.errors.RateLimited`.

Limits live in ``settings.LOCKER_RATELIMITS`` (``"10/m"`` style) and count in
the default cache (Redis when ``REDIS_URL`` is set).
"""

from django.conf import settings
from django_ratelimit.core import get_usage

from .errors import RateLimited
from .http import client_ip


def enforce(request, *, group: str, value: str | None = None) -> None:
    """Count one hit for ``group`` keyed by ``value`` (default: client IP); raise when over."""
    rate = settings.LOCKER_RATELIMITS[group]
    key_value = (value if value is not None else client_ip(request) or "unknown").lower()
    usage = get_usage(
        getattr(request, "_request", request),
        group=f"locker.{group}",
        key=lambda _group, _request: key_value,
        rate=rate,
        increment=True,
    )
    if usage and usage["should_limit"]:
        raise RateLimited(retry_after=usage["time_left"])
