"""Names of the events the activity log records. One dotted name per action."""

LOGIN = "auth.login"
LOGOUT = "auth.logout"
SESSION_REVOKED = "auth.session_revoked"
SESSION_RENAMED = "auth.session_renamed"
REFRESH_TOKEN_REUSED = "auth.refresh_token_reused"
PASSWORD_CHANGED = "auth.password_changed"
RECOVERY_USED = "auth.recovery_used"
TWO_FACTOR_ENABLED = "auth.two_factor_enabled"
TWO_FACTOR_DISABLED = "auth.two_factor_disabled"
TWO_FACTOR_CODES_RENEWED = "auth.two_factor_codes_renewed"
REGISTERED = "account.registered"
ACCOUNT_DELETED = "account.deleted"
ADMIN_RESET = "account.admin_reset"
ACCOUNT_UPDATED = "account.updated"
DATA_EXPORTED = "account.data_exported"
APP_PASSWORD_CREATED = "app_password.created"
APP_PASSWORD_REVOKED = "app_password.revoked"
INVITATION_CREATED = "invitation.created"
INVITATION_REVOKED = "invitation.revoked"
INVITATION_USED = "invitation.used"
SITE_SETTINGS_CHANGED = "site.settings_changed"
FOLDER_CREATED = "folder.created"
FOLDER_RENAMED = "folder.renamed"
FOLDER_MOVED = "folder.moved"
FILE_UPLOADED = "file.uploaded"
FILE_DOWNLOADED = "file.downloaded"
FILE_VERSION_ADDED = "file.version_added"
FILE_VERSION_RESTORED = "file.version_restored"
FILE_RENAMED = "file.renamed"
FILE_MOVED = "file.moved"
FILE_RETAGGED = "file.retagged"
INTEGRITY_FAILED = "file.integrity_failed"
ITEM_TRASHED = "trash.added"
ITEM_RESTORED = "trash.restored"
ITEM_PURGED = "trash.purged"
QUOTA_REFUSED = "quota.refused"
NOTE_CREATED = "note.created"
NOTE_UPDATED = "note.updated"
CHAT_CREATED = "chat.created"
CHAT_RENAMED = "chat.renamed"
CHAT_DELETED = "chat.deleted"
MESSAGE_CREATED = "message.created"
MESSAGE_STATUS_CHANGED = "message.status_changed"
AUDIO_UPLOADED = "audio.uploaded"
SHARE_CREATED = "share.created"
SHARE_CHANGED = "share.changed"
SHARE_REVOKED = "share.revoked"
SHARE_LEFT = "share.left"
# on the recipient's side: a share made to them, its permission changed, its end
SHARE_RECEIVED = "share.received"
SHARE_RECEIVED_CHANGED = "share.received_changed"
SHARE_RECEIVED_ENDED = "share.received_ended"
LINK_CREATED = "link.created"
LINK_REVOKED = "link.revoked"
LINK_USED = "link.used"

ALL = [
    LOGIN,
    LOGOUT,
    SESSION_REVOKED,
    SESSION_RENAMED,
    REFRESH_TOKEN_REUSED,
    PASSWORD_CHANGED,
    RECOVERY_USED,
    TWO_FACTOR_ENABLED,
    TWO_FACTOR_DISABLED,
    TWO_FACTOR_CODES_RENEWED,
    REGISTERED,
    ACCOUNT_DELETED,
    ADMIN_RESET,
    ACCOUNT_UPDATED,
    DATA_EXPORTED,
    APP_PASSWORD_CREATED,
    APP_PASSWORD_REVOKED,
    INVITATION_CREATED,
    INVITATION_REVOKED,
    INVITATION_USED,
    SITE_SETTINGS_CHANGED,
    FOLDER_CREATED,
    FOLDER_RENAMED,
    FOLDER_MOVED,
    FILE_UPLOADED,
    FILE_DOWNLOADED,
    FILE_VERSION_ADDED,
    FILE_VERSION_RESTORED,
    FILE_RENAMED,
    FILE_MOVED,
    FILE_RETAGGED,
    INTEGRITY_FAILED,
    ITEM_TRASHED,
    ITEM_RESTORED,
    ITEM_PURGED,
    QUOTA_REFUSED,
    NOTE_CREATED,
    NOTE_UPDATED,
    CHAT_CREATED,
    CHAT_RENAMED,
    CHAT_DELETED,
    MESSAGE_CREATED,
    MESSAGE_STATUS_CHANGED,
    AUDIO_UPLOADED,
    SHARE_CREATED,
    SHARE_CHANGED,
    SHARE_REVOKED,
    SHARE_LEFT,
    SHARE_RECEIVED,
    SHARE_RECEIVED_CHANGED,
    SHARE_RECEIVED_ENDED,
    LINK_CREATED,
    LINK_REVOKED,
    LINK_USED,
]
