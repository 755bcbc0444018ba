"""Names of the events the activity log records. One dotted name per action."""

LOGIN = "auth.login"
LOGOUT = "auth.logout"
SESSION_REVOKED = "auth.session_revoked"
PASSWORD_CHANGED = "auth.password_changed"
RECOVERY_USED = "auth.recovery_used"
REGISTERED = "account.registered"
ACCOUNT_DELETED = "account.deleted"
ADMIN_RESET = "account.admin_reset"
ACCOUNT_UPDATED = "account.updated"
APP_PASSWORD_CREATED = "app_password.created"
APP_PASSWORD_REVOKED = "app_password.revoked"

ALL = [
    LOGIN,
    LOGOUT,
    SESSION_REVOKED,
    PASSWORD_CHANGED,
    RECOVERY_USED,
    REGISTERED,
    ACCOUNT_DELETED,
    ADMIN_RESET,
    ACCOUNT_UPDATED,
    APP_PASSWORD_CREATED,
    APP_PASSWORD_REVOKED,
]
