"""Request facts that services record (client address and user agent)."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestMeta":
        return cls(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:256])


def client_ip(request) -> str | None:
    """The client's address; X-Forwarded-For only counts behind a configured proxy."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
