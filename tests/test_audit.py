"""Audit inside the action (STYLE.md): every service that changes something writes its activity event in the
same transaction as the change.

The services are enumerated from the service modules, not listed by hand: a new public function there must
get a scenario below (run it, and check its event) or a stated reason why it is not an audited action.
Each scenario runs in a real transaction (no test-wide one), and every event it writes must be saved while
its action's transaction is still open: a crash between the change and its event cannot leave one without
the other.
"""

import importlib
import inspect
from datetime import timedelta

import pyotp
import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.utils import timezone

from activity.models import Event
from tests.factories import DEFAULT_PASSWORD, make_account
from tests.vault.conftest import keys_for, make_upload

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE_MODULES = [
    "accounts.services",
    "accounts.sessions",
    "accounts.app_passwords",
    "accounts.invitations",
    "accounts.site_settings",
    "accounts.twofactor",
    "activity.services",
    "activity.notifications",
    "vault.common",
    "vault.files.services",
    "vault.trash.services",
    "vault.notes.services",
    "vault.sharing.services",
    "vault.sharing.links",
    "vault.transfers.tus.services",
    "chats.services",
]

# Public functions of the service modules that are not audited actions, and why.
NOT_ACTIONS = {
    # reads, key helpers and formats
    "accounts.services.current_kdf_params": "a setting",
    "accounts.services.keyring_unlock": "a read: opens the data key",
    "accounts.sessions.unlock_session_udk": "a read: opens the data key of a session",
    "accounts.app_passwords.app_password_unlock": "a read: checks an app password (Basic auth, every request)",
    "accounts.app_passwords.app_password_unlock_limited": "a read: the same, counting failed attempts",
    "accounts.twofactor.is_enabled": "a read",
    "accounts.twofactor.status": "a read",
    "accounts.twofactor.check": "a step of sign-in: auth_login records auth.login (reason bad_otp when refused)",
    "accounts.twofactor.enrol_begin": "a pending secret: the factor is on only once enrol_confirm records "
    "auth.two_factor_enabled",
    "accounts.twofactor.turn_off_for_recovery": "a step of account_recover, which records auth.recovery_used "
    "(with two_factor_off)",
    "accounts.twofactor.record_refused": "the audit itself (of refused sign-ins)",
    "accounts.services.on_keys_shredded": "registers a hook at start-up",
    "accounts.invitations.invitation_open": "a read: finds a pending invitation from its link",
    "vault.common.changed": "cache bump inside other actions",
    "vault.common.checked_name": "a step of naming: the unique name in a folder",
    "vault.common.free_name": "a step of naming: the next free name in a folder",
    "vault.common.name_taken": "a read",
    "vault.common.is_uuid": "input cleaning",
    "vault.common.owned_file": "a read: the owner-checked lookup",
    "vault.common.owned_folder": "a read: the owner-checked lookup",
    "vault.common.delete_blobs_after_commit": "a step of purges and version pruning",
    "vault.files.services.index_file": "a step of file writes (inside their transactions)",
    "vault.files.services.index_folder": "a step of folder writes (inside their transactions)",
    "vault.notes.services.index_note": "a step of note writes (inside their transactions)",
    "vault.common.clean_name": "input cleaning",
    "vault.files.services.star_set": "a personal marker: changes no data, and nobody else sees it",
    "vault.files.services.reserved_bytes": "a read: the room held by uploads in progress",
    "vault.transfers.tus.services.upload_create": "holds room for bytes to come; the file's event is recorded when "
    "its last byte arrives (file_upload, file_version_add: tests/vault/test_tus.py checks it)",
    "vault.transfers.tus.services.upload_append": "bytes of an upload in progress; the last one finishes it through "
    "file_upload or file_version_add, which record file.uploaded or file.version_added",
    "vault.transfers.tus.services.upload_get": "a read",
    "vault.transfers.tus.services.upload_terminate": "drops bytes that never became a file: no vault data changes",
    "vault.transfers.tus.services.uploads_expire": "housekeeping of bytes that never became a file",
    "vault.transfers.tus.services.metadata_parse": "input parsing",
    "vault.common.clean_tags": "input cleaning",
    "vault.common.clean_title": "input cleaning",
    "vault.common.etag_of": "a format",
    "vault.common.owner_of": "a read: whose vault a write goes to",
    "vault.common.same_vault": "input checking (a move stays in one vault)",
    "vault.common.record": "the audit of writes (the actor's event, and the owner's when a recipient wrote)",
    "vault.notes.services.note_body": "a read",
    "vault.notes.services.note_get": "a read",
    "vault.notes.services.note_key": "a read",
    "vault.notes.services.note_list": "a read",
    "vault.notes.services.note_tags": "a read",
    "vault.notes.services.note_title": "a read",
    "vault.notes.services.note_version_get": "a read",
    "vault.notes.services.note_versions": "a read",
    "vault.notes.services.version_texts": "a read",
    "vault.notes.services.snippet": "a format",
    "vault.notes.services.rewrap_note_key": "a step of folder moves (audited as the move)",
    "chats.services.attachments_folder_find": "a read",
    "chats.services.chat_get": "a read",
    "chats.services.chat_key": "a read",
    "chats.services.chat_list": "a read",
    "chats.services.chat_title": "a read",
    "chats.services.message_content": "a read",
    "chats.services.message_list": "a read",
    "chats.services.index_message": "a step of message_create (audited as the message)",
    # steps of audited actions, and housekeeping without a user
    "accounts.services.keyring_create": "a step of user_register (audited as the registration)",
    "accounts.sessions.unlock_session_create": "a step of auth_login (audited as the login)",
    "accounts.sessions.unlock_session_extend": "a step of token_refresh",
    "accounts.sessions.token_refresh": "a routine refresh is not audited; a reused token is (test_refresh_rotation)",
    "accounts.sessions.unlock_session_purge_expired": "housekeeping of expired rows (manage.py locker_cleanup)",
    "vault.trash.services.vault_wipe": "a step of account deletion and admin reset (audited as those)",
    "vault.trash.services.trash_purge_expired": "housekeeping (manage.py vault_purge_trash), no acting user",
    "activity.services.event_record": "the audit itself",
    "activity.notifications.notify": "a notification of an audited action, written in its transaction",
    "activity.notifications.from_event": "a step of event_record",
    "activity.notifications.quota_crossed": "a step of uploads (audited as the upload)",
    "activity.notifications.notification_list": "a read",
    "activity.notifications.notification_read": "marks the user's own notification read: no data or security change",
    "activity.notifications.notifications_read_all": "marks the user's own notifications read: likewise",
    "vault.sharing.services.shares_made": "a read",
    "vault.sharing.services.shares_received": "a read",
    "vault.sharing.services.share_get": "a read",
    "vault.sharing.services.own_item": "a read: the owner-checked lookup of what is shared",
    "vault.sharing.services.item_key": "a read: the key a share or link wraps",
    "vault.sharing.services.record_on": "the audit itself (of share and link actions)",
    "vault.sharing.links.links_made": "a read",
    "vault.sharing.links.link_open": "a read: finds a link from its URL",
    "vault.sharing.links.link_password_ok": "a read: checks a link's password (attempts are rate limited)",
    "vault.sharing.links.link_files": "a read",
    "vault.sharing.links.link_file": "a read",
    "vault.sharing.links.link_viewed": "a counter of page views, shown with the link; downloads are audited",
}


# The event each action must write (besides those of the steps that set it up).
EXPECTED = {
    "accounts.services.user_register": "account.registered",
    "accounts.services.account_create": "account.registered",
    "accounts.invitations.invitation_create": "invitation.created",
    "accounts.invitations.invitation_accept": "invitation.used",
    "accounts.invitations.invitation_revoke": "invitation.revoked",
    "accounts.site_settings.site_settings_update": "site.settings_changed",
    "accounts.sessions.unlock_session_rename": "auth.session_renamed",
    "accounts.services.auth_login": "auth.login",
    "accounts.services.auth_logout": "auth.logout",
    "accounts.sessions.unlock_session_revoke": "auth.session_revoked",
    "accounts.services.password_change": "auth.password_changed",
    "accounts.services.account_recover": "auth.recovery_used",
    "accounts.services.user_admin_reset": "account.admin_reset",
    "accounts.services.user_admin_update": "account.updated",
    "accounts.services.user_settings_update": "account.updated",
    "activity.services.export_record": "account.data_exported",
    "accounts.app_passwords.app_password_create": "app_password.created",
    "accounts.twofactor.enrol_confirm": "auth.two_factor_enabled",
    "accounts.twofactor.disable": "auth.two_factor_disabled",
    "accounts.twofactor.backup_codes_renew": "auth.two_factor_codes_renewed",
    "accounts.app_passwords.app_password_revoke": "app_password.revoked",
    "accounts.services.account_delete": "account.deleted",
    "vault.files.services.folder_create": "folder.created",
    "vault.files.services.folder_update": "folder.renamed",
    "vault.files.services.file_upload": "file.uploaded",
    "vault.files.services.file_upload_many": "file.uploaded",
    "vault.files.services.file_update": "file.renamed",
    "vault.files.services.file_version_add": "file.version_added",
    "vault.files.services.file_version_restore": "file.version_restored",
    "vault.files.services.file_download_record": "file.downloaded",
    "vault.files.services.files_download_record": "file.downloaded",
    "vault.trash.services.item_trash": "trash.added",
    "vault.trash.services.trash_restore": "trash.restored",
    "vault.trash.services.trash_purge": "trash.purged",
    "vault.trash.services.trash_empty": "trash.purged",
    "vault.notes.services.note_create": "note.created",
    "vault.notes.services.note_update": "note.updated",
    "vault.notes.services.note_version_restore": "note.updated",
    "chats.services.chat_create": "chat.created",
    "chats.services.chat_update": "chat.renamed",
    "chats.services.chat_delete": "chat.deleted",
    "chats.services.message_create": "message.created",
    "chats.services.message_import": "message.created",
    "chats.services.message_status_update": "message.status_changed",
    "vault.sharing.services.share_create": "share.created",
    "vault.sharing.services.share_update": "share.changed",
    "vault.sharing.services.share_revoke": "share.revoked",
    "vault.sharing.services.share_leave": "share.left",
    "vault.sharing.links.link_create": "link.created",
    "vault.sharing.links.link_revoke": "link.revoked",
    "vault.sharing.links.link_download_record": "link.used",
}


def enumerated_services() -> set[str]:
    names = set()
    for module_name in SERVICE_MODULES:
        module = importlib.import_module(module_name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module_name and not name.startswith("_"):
                names.add(f"{module_name}.{name}")
    return names


@pytest.fixture
def world(db):
    from accounts.models import User

    alice = make_account("alice")
    admin = make_account("root", role=User.Role.ADMIN)
    return {"account": alice, "user": alice.user, "keys": keys_for(alice), "admin": admin.user}


def _scenarios():
    from accounts import app_passwords as app_passwords
    from accounts import invitations, site_settings, twofactor
    from accounts import services as accounts
    from accounts import sessions as account_sessions
    from activity import services as activity_services
    from chats import services as chats
    from vault.files import services as vault
    from vault.notes import services as notes
    from vault.sharing import links
    from vault.sharing import services as sharing
    from vault.trash import services as trash

    def folder(w):
        return vault.folder_create(user=w["user"], keys=w["keys"], name="f")

    def file(w, name="a.txt"):
        return vault.file_upload(user=w["user"], keys=w["keys"], upload=make_upload(w["keys"], name, b"x")).file

    def chat(w):
        return chats.chat_create(user=w["user"], keys=w["keys"], title="c")

    def message(w):
        return chats.message_create(user=w["user"], keys=w["keys"], chat_id=chat(w).pk, role="user", content="hi")

    def udk(w):
        return w["keys"].udk

    def link(w):
        soon = timezone.now() + timedelta(days=1)
        return links.link_create(user=w["user"], keys=w["keys"], item_id=file(w).pk, expires_at=soon)[0]

    def two_factor_on(w) -> list[str]:
        secret = twofactor.enrol_begin(user=w["user"], password=DEFAULT_PASSWORD).secret
        return twofactor.enrol_confirm(user=w["user"], code=pyotp.TOTP(secret).now())

    def shared(w):
        item = folder(w)
        return sharing.share_create(user=w["user"], keys=w["keys"], item_id=item.pk, username="root", permission="view")

    return {
        "accounts.services.user_register": lambda w: accounts.user_register(
            username="carol", email="c@example.org", password=DEFAULT_PASSWORD
        ),
        "accounts.services.account_create": lambda w: accounts.account_create(
            username="dora", email="d@example.org", password=DEFAULT_PASSWORD
        ),
        "accounts.invitations.invitation_create": lambda w: invitations.invitation_create(admin=w["admin"]),
        "accounts.invitations.invitation_accept": lambda w: invitations.invitation_accept(
            token=invitations.invitation_create(admin=w["admin"])[1],
            username="erin",
            email="e@example.org",
            password=DEFAULT_PASSWORD,
        ),
        "accounts.invitations.invitation_revoke": lambda w: invitations.invitation_revoke(
            admin=w["admin"], invitation_id=invitations.invitation_create(admin=w["admin"])[0].pk
        ),
        "accounts.site_settings.site_settings_update": lambda w: site_settings.site_settings_update(
            admin=w["admin"], registration_open=False
        ),
        "accounts.twofactor.enrol_confirm": two_factor_on,
        "accounts.twofactor.disable": lambda w: twofactor.disable(
            user=w["user"], password=DEFAULT_PASSWORD, code=two_factor_on(w)[0]
        ),
        "accounts.twofactor.backup_codes_renew": lambda w: twofactor.backup_codes_renew(
            user=w["user"], password=DEFAULT_PASSWORD, code=two_factor_on(w)[0]
        ),
        "accounts.sessions.unlock_session_rename": lambda w: account_sessions.unlock_session_rename(
            user=w["user"],
            session_id=account_sessions.unlock_session_create(user=w["user"], udk=udk(w), kind="token")[0].pk,
            udk=udk(w),
            name="laptop",
        ),
        "accounts.services.auth_login": lambda w: accounts.auth_login(
            username="alice", password=DEFAULT_PASSWORD, kind="token"
        ),
        "accounts.services.auth_logout": lambda w: accounts.auth_logout(
            user=w["user"],
            session_id=account_sessions.unlock_session_create(user=w["user"], udk=udk(w), kind="token")[0].pk,
        ),
        "accounts.sessions.unlock_session_revoke": lambda w: account_sessions.unlock_session_revoke(
            user=w["user"],
            session_id=account_sessions.unlock_session_create(user=w["user"], udk=udk(w), kind="token")[0].pk,
        ),
        "accounts.services.password_change": lambda w: accounts.password_change(
            user=w["user"], old_password=DEFAULT_PASSWORD, new_password="another long passphrase"
        ),
        "accounts.services.account_recover": lambda w: accounts.account_recover(
            username="alice", recovery_key=w["account"].recovery_key, new_password="another long passphrase"
        ),
        "accounts.services.user_admin_reset": lambda w: accounts.user_admin_reset(
            admin=w["admin"], user=w["user"], new_password="another long passphrase"
        ),
        "accounts.services.user_admin_update": lambda w: accounts.user_admin_update(
            admin=w["admin"], user=w["user"], changes={"storage_quota": 12345}
        ),
        "activity.services.export_record": lambda w: activity_services.export_record(user=w["user"], what="data"),
        "accounts.services.user_settings_update": lambda w: accounts.user_settings_update(
            user=w["user"], keep_versions=3
        ),
        "accounts.app_passwords.app_password_create": lambda w: app_passwords.app_password_create(
            user=w["user"], udk=udk(w), name="cli"
        ),
        "accounts.app_passwords.app_password_revoke": lambda w: app_passwords.app_password_revoke(
            user=w["user"],
            app_password_id=app_passwords.app_password_create(user=w["user"], udk=udk(w), name="x")[0].pk,
        ),
        "accounts.services.account_delete": lambda w: accounts.account_delete(
            user=w["user"], password=DEFAULT_PASSWORD
        ),
        "vault.files.services.folder_create": folder,
        "vault.files.services.folder_update": lambda w: vault.folder_update(
            user=w["user"], keys=w["keys"], folder_id=folder(w).pk, name="g"
        ),
        "vault.files.services.file_upload": file,
        "vault.files.services.file_upload_many": lambda w: vault.file_upload_many(
            user=w["user"], keys=w["keys"], uploads=[make_upload(w["keys"], "m.txt", b"m")]
        ),
        "vault.files.services.file_update": lambda w: vault.file_update(
            user=w["user"], keys=w["keys"], file_id=file(w).pk, name="b.txt"
        ),
        "vault.files.services.file_version_add": lambda w: vault.file_version_add(
            user=w["user"], keys=w["keys"], file_id=file(w).pk, upload=make_upload(w["keys"], "a.txt", b"y")
        ),
        "vault.files.services.file_version_restore": lambda w: vault.file_version_restore(
            user=w["user"],
            keys=w["keys"],
            file_id=vault.file_version_add(
                user=w["user"], keys=w["keys"], file_id=file(w).pk, upload=make_upload(w["keys"], "a.txt", b"y")
            ).file_id,
            number=1,
        ),
        "vault.files.services.file_download_record": lambda w: vault.file_download_record(user=w["user"], file=file(w)),
        "vault.files.services.files_download_record": lambda w: vault.files_download_record(
            user=w["user"], files=[file(w)]
        ),
        "vault.trash.services.item_trash": lambda w: trash.item_trash(user=w["user"], kind="file", item_id=file(w).pk),
        "vault.trash.services.trash_restore": lambda w: trash.trash_restore(
            user=w["user"], keys=w["keys"], item_id=_trashed(vault, w, file(w)).pk
        ),
        "vault.trash.services.trash_purge": lambda w: trash.trash_purge(
            user=w["user"], item_id=_trashed(vault, w, file(w)).pk
        ),
        "vault.trash.services.trash_empty": lambda w: (_trashed(vault, w, file(w)), trash.trash_empty(user=w["user"])),
        "vault.notes.services.note_create": lambda w: notes.note_create(
            user=w["user"], keys=w["keys"], title="n", body="b"
        ),
        "vault.notes.services.note_update": lambda w: notes.note_update(
            user=w["user"],
            keys=w["keys"],
            note_id=notes.note_create(user=w["user"], keys=w["keys"], title="n").pk,
            body="changed",
        ),
        "vault.notes.services.note_version_restore": lambda w: notes.note_version_restore(
            user=w["user"],
            keys=w["keys"],
            note_id=notes.note_update(
                user=w["user"],
                keys=w["keys"],
                note_id=notes.note_create(user=w["user"], keys=w["keys"], title="n").pk,
                body="changed",
            ).pk,
            number=1,
        ),
        "chats.services.chat_create": chat,
        "chats.services.chat_update": lambda w: chats.chat_update(
            user=w["user"], keys=w["keys"], chat_id=chat(w).pk, title="renamed"
        ),
        "chats.services.chat_delete": lambda w: chats.chat_delete(user=w["user"], chat_id=chat(w).pk),
        "chats.services.message_create": message,
        "chats.services.message_import": lambda w: chats.message_import(
            user=w["user"], keys=w["keys"], chat_id=chat(w).pk, role="assistant", content="imported"
        ),
        "chats.services.message_status_update": lambda w: chats.message_status_update(
            user=w["user"], message_id=message(w).pk, status="read"
        ),
        "vault.sharing.services.share_create": shared,
        "vault.sharing.links.link_create": link,
        "vault.sharing.links.link_revoke": lambda w: links.link_revoke(user=w["user"], link_id=link(w).pk),
        "vault.sharing.links.link_download_record": lambda w: links.link_download_record(link(w), what="file"),
        "vault.sharing.services.share_update": lambda w: sharing.share_update(
            user=w["user"], share_id=shared(w).pk, permission="edit"
        ),
        "vault.sharing.services.share_revoke": lambda w: sharing.share_revoke(
            user=w["user"], keys=w["keys"], share_id=shared(w).pk
        ),
        "vault.sharing.services.share_leave": lambda w: sharing.share_leave(user=w["admin"], share_id=shared(w).pk),
    }


def _trashed(vault, w, item):
    from vault.trash.services import item_trash

    item_trash(user=w["user"], kind="file", item_id=item.pk)
    return item


def test_every_service_is_audited_or_says_why_not():
    scenarios = {name for name in _scenarios() if not name.startswith("_")}
    enumerated = enumerated_services()
    assert not scenarios & set(NOT_ACTIONS), "a service is both audited and exempted"
    assert set(EXPECTED) == scenarios
    missing = enumerated - scenarios - set(NOT_ACTIONS)
    assert not missing, f"services with neither a scenario nor a reason: {sorted(missing)}"
    stale = (scenarios | set(NOT_ACTIONS)) - enumerated
    assert not stale, f"entries for services that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("service", sorted(name for name in _scenarios() if not name.startswith("_")))
def test_each_action_writes_its_event_inside_its_transaction(world, service):
    assert not connection.in_atomic_block  # a real transaction per action, not a test-wide one
    recorded = []

    def saw(sender, instance, created, **kwargs):
        recorded.append((instance.action, connection.in_atomic_block))

    run = _scenarios()[service]
    post_save.connect(saw, sender=Event, dispatch_uid="audit-test")
    try:
        run(world)
    finally:
        post_save.disconnect(sender=Event, dispatch_uid="audit-test")
    assert EXPECTED[service] in [action for action, _ in recorded], f"{service} did not record {EXPECTED[service]}"
    outside = [action for action, inside in recorded if not inside]
    assert not outside, f"{service} wrote {outside} outside its action's transaction"
