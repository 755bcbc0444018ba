"""OpenAPI descriptions of Locker's authentication classes (drf-spectacular extensions)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.UnlockingJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/v1/auth/token. It unlocks the vault while its session lives.",
        }


class AppPasswordScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.AppPasswordAuthentication"
    name = "appPasswordAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Username and an app password (never the account password).",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.UnlockingSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid", "description": "Browser session (with CSRF)."}
