"""Rate limits with django-ratelimit, raising :class:`~locker.errors.RateLimited`.

Limits live in ``settings.LOCKER_RATELIMITS`` (``"10/m"`` style) and count in
the default cache (Redis when ``REDIS_URL`` is set).
"""

from django.conf import settings
from django_ratelimit.core import get_usage

from .errors import RateLimited
from .http import client_ip

# What a refusal says, per group ({seconds} is the wait). Login and recovery limits refuse even the right
# secret until the wait ends (or guessing could go on); they say so, lest a person think the right one is wrong.
DETAILS = {
    "login_user": (
        "Too many sign-in attempts for this account. Until the wait ends, even the correct password is refused: "
        "try again in {seconds} seconds."
    ),
    "login_ip": (
        "Too many sign-in attempts from this address. Until the wait ends, even a correct password is refused: "
        "try again in {seconds} seconds."
    ),
    "recover_ip": (
        "Too many recovery attempts from this address. Until the wait ends, even a correct recovery key is "
        "refused: try again in {seconds} seconds."
    ),
    "recover_user": (
        "Too many recovery attempts for this account. Until the wait ends, even a correct recovery key is refused: "
        "try again in {seconds} seconds."
    ),
    "otp_user": (
        "Too many two-factor codes tried for this account. Until the wait ends, even a correct code is refused: "
        "try again in {seconds} seconds."
    ),
    "otp_user_hour": (
        "Too many two-factor codes tried for this account in the last hour. Until the wait ends, even a correct "
        "code is refused: try again in {seconds} seconds."
    ),
    "register_ip": "Too many registrations from this address; try again in {seconds} seconds.",
}


def usage(request, *, group: str, value: str, increment: bool) -> dict | None:
    """django-ratelimit's count for ``group`` keyed by ``value``, counting this request if ``increment`` (for limits
    that count failures only: look first, count after a failure)."""
    return get_usage(
        getattr(request, "_request", request),
        group=f"locker.{group}",
        key=lambda _group, _request: value,
        rate=settings.LOCKER_RATELIMITS[group],
        increment=increment,
    )


def enforce(request, *, group: str, value: str | None = None) -> None:
    """Count one hit for ``group`` keyed by ``value`` (default: client IP); raise when over."""
    key_value = (value if value is not None else client_ip(request) or "unknown").lower()
    counted = usage(request, group=group, value=key_value, increment=True)
    if counted and counted["should_limit"]:
        retry_after = max(1, int(counted["time_left"]))
        detail = DETAILS.get(group)
        raise RateLimited(retry_after=retry_after, detail=detail and detail.format(seconds=retry_after))
