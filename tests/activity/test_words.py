"""activity.words: every action of activity/actions.py in a sentence from the reader's point of view."""

import uuid
from types import SimpleNamespace

import pytest

from activity import actions, words
from activity.models import Event, Notification

ME = uuid.uuid4()
READER = SimpleNamespace(pk=ME)
FILE, FOLDER, DEST, NOTE, CHAT, APP = (str(uuid.uuid4()) for _ in range(6))
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def event(action, *, outcome="success", object_type="", object_id="", data=None, user_id=ME, user_agent=""):
    return Event(
        user_id=user_id,
        action=action,
        outcome=outcome,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
        user_agent=user_agent,
    )


def on_file(action, **data):
    return event(action, object_type="file", object_id=FILE, data=data)


def on_folder(action, **data):
    return event(action, object_type="folder", object_id=FOLDER, data=data)


NAMES = {
    ("file", FILE): "invoice-acme.pdf",
    ("folder", FOLDER): "Holidays",
    ("folder", DEST): "Documents",
    ("note", NOTE): "Plans",
    ("chat", CHAT): "Trip",
    ("app_password", APP): "laptop",
}

# One event of each action with the sentence its owner reads, the items named. A new action in actions.py needs a
# line here (test_every_action_has_a_wording_and_a_case fails without one).
CASES = {
    actions.LOGIN: (
        event(actions.LOGIN, user_agent=FIREFOX, data={"kind": "browser"}),
        "You signed in from Firefox on Linux",
    ),
    actions.LOGOUT: (event(actions.LOGOUT), "You signed out"),
    actions.SESSION_REVOKED: (event(actions.SESSION_REVOKED, object_type="session"), "You signed a device out"),
    actions.SESSION_RENAMED: (event(actions.SESSION_RENAMED, object_type="session"), "You renamed a signed-in device"),
    actions.INVITATION_CREATED: (
        event(actions.INVITATION_CREATED, object_type="invitation", data={"role": "regular", "valid_days": 7}),
        "You created an invitation to sign up as a regular user",
    ),
    actions.INVITATION_REVOKED: (
        event(actions.INVITATION_REVOKED, object_type="invitation"),
        "You revoked an invitation",
    ),
    actions.INVITATION_USED: (
        event(actions.INVITATION_USED, object_type="invitation", data={"by": str(uuid.uuid4())}),
        "You signed up with an invitation",
    ),
    actions.SITE_SETTINGS_CHANGED: (
        event(actions.SITE_SETTINGS_CHANGED, object_type="site_settings", data={"registration_open": False}),
        "You closed sign-up: new accounts need an invitation",
    ),
    actions.REFRESH_TOKEN_REUSED: (
        event(actions.REFRESH_TOKEN_REUSED, outcome="failure"),
        "One of your sign-in tokens was used twice and refused; that device was signed out",
    ),
    actions.PASSWORD_CHANGED: (event(actions.PASSWORD_CHANGED), "You changed your password"),
    actions.RECOVERY_USED: (event(actions.RECOVERY_USED), "You used your recovery key and chose a new password"),
    actions.TWO_FACTOR_ENABLED: (event(actions.TWO_FACTOR_ENABLED), "You turned on two-factor sign-in"),
    actions.TWO_FACTOR_DISABLED: (event(actions.TWO_FACTOR_DISABLED), "You turned off two-factor sign-in"),
    actions.TWO_FACTOR_CODES_RENEWED: (
        event(actions.TWO_FACTOR_CODES_RENEWED),
        "You made new two-factor backup codes",
    ),
    actions.REGISTERED: (event(actions.REGISTERED), "You created your account"),
    actions.ACCOUNT_DELETED: (
        event(actions.ACCOUNT_DELETED, user_id=None, object_type="user", object_id=str(uuid.uuid4())),
        "An account was deleted",
    ),
    actions.ADMIN_RESET: (
        event(actions.ADMIN_RESET, data={"by": str(uuid.uuid4())}),
        "An administrator reset your password; the files of the old vault were erased",
    ),
    actions.ACCOUNT_UPDATED: (
        event(actions.ACCOUNT_UPDATED, data={"by": str(uuid.uuid4()), "fields": ["role", "storage_quota"]}),
        "An administrator changed your account: role, storage quota",
    ),
    actions.DATA_EXPORTED: (event(actions.DATA_EXPORTED, data={"what": "data"}), "You exported all your data"),
    actions.APP_PASSWORD_CREATED: (
        event(actions.APP_PASSWORD_CREATED, object_type="app_password", object_id=APP),
        "You created the app password laptop",
    ),
    actions.APP_PASSWORD_REVOKED: (event(actions.APP_PASSWORD_REVOKED), "You revoked an app password"),
    actions.FOLDER_CREATED: (
        on_folder(actions.FOLDER_CREATED, folder=DEST),
        "You created the folder Holidays in Documents",
    ),
    actions.FOLDER_RENAMED: (on_folder(actions.FOLDER_RENAMED), "You renamed a folder to Holidays"),
    actions.FOLDER_MOVED: (on_folder(actions.FOLDER_MOVED, folder=None), "You moved Holidays to the top level"),
    actions.FILE_UPLOADED: (on_file(actions.FILE_UPLOADED, folder=DEST), "You uploaded invoice-acme.pdf to Documents"),
    actions.FILE_DOWNLOADED: (
        on_file(actions.FILE_DOWNLOADED, version=2),
        "You downloaded version 2 of invoice-acme.pdf",
    ),
    actions.FILE_VERSION_ADDED: (on_file(actions.FILE_VERSION_ADDED), "You saved a new version of invoice-acme.pdf"),
    actions.FILE_VERSION_RESTORED: (
        on_file(actions.FILE_VERSION_RESTORED, **{"from": 1}),
        "You restored version 1 of invoice-acme.pdf",
    ),
    actions.FILE_RENAMED: (on_file(actions.FILE_RENAMED), "You renamed a file to invoice-acme.pdf"),
    actions.FILE_MOVED: (on_file(actions.FILE_MOVED, folder=DEST), "You moved invoice-acme.pdf to Documents"),
    actions.FILE_RETAGGED: (on_file(actions.FILE_RETAGGED), "You changed the tags of invoice-acme.pdf"),
    actions.INTEGRITY_FAILED: (
        event(
            actions.INTEGRITY_FAILED,
            outcome="failure",
            object_type="file",
            object_id=FILE,
            data={"reason": "missing", "version": 3},
        ),
        "Version 3 of invoice-acme.pdf failed its integrity check: its stored data is missing",
    ),
    actions.ITEM_TRASHED: (on_file(actions.ITEM_TRASHED), "You moved invoice-acme.pdf to the trash"),
    actions.ITEM_RESTORED: (on_folder(actions.ITEM_RESTORED), "You restored Holidays from the trash"),
    actions.ITEM_PURGED: (
        event(actions.ITEM_PURGED, object_type="trash", data={"bytes": 10, "items": 3}),
        "You emptied your trash (3 items)",
    ),
    actions.QUOTA_REFUSED: (
        event(actions.QUOTA_REFUSED, outcome="failure", data={"bytes": 5}),
        "An upload was refused: your storage is full",
    ),
    actions.NOTE_CREATED: (
        event(actions.NOTE_CREATED, object_type="note", object_id=NOTE),
        "You created the note Plans",
    ),
    actions.NOTE_UPDATED: (
        event(actions.NOTE_UPDATED, object_type="note", object_id=NOTE),
        "You edited the note Plans",
    ),
    actions.CHAT_CREATED: (
        event(actions.CHAT_CREATED, object_type="chat", object_id=CHAT),
        "You started the chat Trip",
    ),
    actions.CHAT_RENAMED: (
        event(actions.CHAT_RENAMED, object_type="chat", object_id=CHAT),
        "You renamed a chat to Trip",
    ),
    actions.CHAT_DELETED: (event(actions.CHAT_DELETED, object_type="chat"), "You deleted a chat"),
    actions.MESSAGE_CREATED: (
        event(actions.MESSAGE_CREATED, object_type="message", data={"chat": CHAT, "role": "user", "attachments": 2}),
        "You sent a message in Trip with 2 attachments",
    ),
    actions.MESSAGE_STATUS_CHANGED: (
        event(actions.MESSAGE_STATUS_CHANGED, object_type="message", data={"status": "read"}),
        "You marked a message as read",
    ),
    actions.AUDIO_UPLOADED: (on_file(actions.AUDIO_UPLOADED), "You recorded invoice-acme.pdf"),
    actions.SHARE_CREATED: (
        on_folder(actions.SHARE_CREATED, permission="edit", recipient="bob"),
        "You shared Holidays with bob (they can edit)",
    ),
    actions.SHARE_CHANGED: (
        on_folder(actions.SHARE_CHANGED, permission="view", was="edit", recipient="bob"),
        "You changed what bob may do with Holidays: they can now view",
    ),
    actions.SHARE_REVOKED: (on_folder(actions.SHARE_REVOKED, recipient="bob"), "You stopped sharing Holidays with bob"),
    actions.SHARE_LEFT: (on_folder(actions.SHARE_LEFT, owner="alice"), "You left Holidays, shared by alice"),
    actions.SHARE_RECEIVED: (
        on_folder(actions.SHARE_RECEIVED, owner="alice", permission="view"),
        "alice shared Holidays with you (you can view)",
    ),
    actions.SHARE_RECEIVED_CHANGED: (
        on_folder(actions.SHARE_RECEIVED_CHANGED, owner="alice", permission="delete", was="view"),
        "alice changed what you may do with Holidays: you can now edit and delete",
    ),
    actions.SHARE_RECEIVED_ENDED: (
        on_folder(actions.SHARE_RECEIVED_ENDED, owner="alice"),
        "alice stopped sharing Holidays with you",
    ),
    actions.LINK_CREATED: (on_file(actions.LINK_CREATED), "You created a public link to invoice-acme.pdf"),
    actions.LINK_REVOKED: (on_file(actions.LINK_REVOKED), "You turned off a public link to invoice-acme.pdf"),
    actions.LINK_USED: (
        on_folder(actions.LINK_USED, download="zip"),
        "Someone downloaded Holidays as a zip through your public link",
    ),
}


def test_every_action_has_a_wording_and_a_case():
    declared = {value for name, value in vars(actions).items() if name.isupper() and isinstance(value, str)}
    assert declared == set(actions.ALL), "every action constant belongs in actions.ALL"
    assert set(actions.ALL) <= set(words.WORDINGS), set(actions.ALL) - set(words.WORDINGS)
    assert set(actions.ALL) == set(CASES), set(actions.ALL) ^ set(CASES)


@pytest.mark.parametrize("action", actions.ALL)
def test_each_action_in_words_for_its_owner(action):
    row, expected = CASES[action]
    assert words.event_summary(row, reader=READER, names=NAMES) == expected


@pytest.mark.parametrize("action", actions.ALL)
def test_each_action_without_names_uses_neutral_words_and_never_the_code(action):
    """GIVEN the items cannot be opened (purged, locked vault, not the reader's) THEN a neutral word stands in."""
    row, _ = CASES[action]
    text = words.event_summary(row, reader=READER, names={})
    assert text[:1].isupper() or text.startswith("alice")
    assert action not in text
    assert not any(name in text for name in NAMES.values())


def test_examples_of_the_brief():
    assert words.event_summary(event(actions.LOGIN), reader=READER) == "You signed in"
    assert (
        words.event_summary(event(actions.LOGIN, data={"kind": "token"}), reader=READER)
        == "You signed in from an app or API client"
    )
    assert words.event_summary(on_file(actions.FILE_UPLOADED, folder=DEST), reader=READER) == (
        "You uploaded a file to a folder"
    )
    assert words.event_summary(on_file(actions.FILE_UPLOADED, folder=None), reader=READER, names=NAMES) == (
        "You uploaded invoice-acme.pdf"
    )
    assert words.event_summary(on_file(actions.FILE_UPLOADED), reader=READER, names=NAMES) == (
        "You uploaded invoice-acme.pdf"  # an event from before folders were recorded
    )
    assert words.event_summary(on_file(actions.FILE_RENAMED), reader=READER) == "You renamed a file"
    assert words.event_summary(on_file(actions.ITEM_PURGED, bytes=3), reader=READER) == "You deleted a file forever"


def test_someone_an_item_is_shared_with_and_the_owner_see_each_other_by_name():
    bobs = on_file(actions.FILE_UPLOADED, folder=DEST, by="bob")  # the owner's copy of bob's upload
    assert words.event_summary(bobs, reader=READER, names=NAMES) == "bob uploaded invoice-acme.pdf to Documents"
    mine = on_file(actions.FILE_MOVED, folder=DEST, owner="alice")  # my copy of a move in alice's files
    assert words.event_summary(mine, reader=READER, names=NAMES) == (
        "You moved invoice-acme.pdf to Documents, in alice's files"
    )


def test_failures_say_so():
    bad = event(actions.LOGIN, outcome="failure", data={"reason": "bad_password"})
    assert words.event_summary(bad, reader=READER) == "A sign-in to your account failed: wrong password"
    unknown = event(actions.LOGIN, outcome="failure", user_id=None, data={"reason": "unknown_user"})
    assert words.event_summary(unknown, reader=READER) == "A sign-in with an unknown username failed"
    refused = event(actions.PASSWORD_CHANGED, outcome="failure")
    assert words.event_summary(refused, reader=READER) == (
        "A change of your password was refused: the current password was wrong"
    )
    assert words.event_summary(event(actions.LOGOUT, outcome="failure"), reader=READER) == "You signed out (failed)"


@pytest.mark.parametrize("reason", ["missing", "damaged", "name_damaged", "sealed_field", "preview_missing", "other"])
def test_each_integrity_reason_is_worded(reason):
    row = event(actions.INTEGRITY_FAILED, outcome="failure", object_type="note", data={"reason": reason})
    text = words.event_summary(row, reader=READER)
    assert text.startswith("A note failed its integrity check: ") and "_" not in text  # no raw reason code


def test_odd_data_never_breaks_a_sentence():
    row = event(actions.ACCOUNT_UPDATED, data={"fields": "role"})
    assert words.event_summary(row, reader=READER) == "You changed your settings"
    assert words.event_summary(event(actions.FILE_DOWNLOADED, data=["not", "a", "dict"]), reader=READER) == (
        "You downloaded an item"
    )


def test_an_unknown_code_is_worded_with_the_code():
    assert words.event_summary(event("robot.dreamed"), reader=READER) == (
        "You did something this server has no words for (robot.dreamed)"
    )


def test_an_admin_reading_someone_elses_log_reads_their_name():
    from accounts.models import User

    alice = User(id=ME, username="alice")
    row = event(actions.PASSWORD_CHANGED)
    row.user = alice
    admin = SimpleNamespace(pk=uuid.uuid4())
    assert words.event_summary(row, reader=admin) == "alice changed their password"
    not_loaded = event(actions.PASSWORD_CHANGED)
    assert words.event_summary(not_loaded, reader=admin) == "Someone changed their password"  # never a query


def test_hostile_names_are_text_not_markup_and_stay_as_given():
    names = {("file", FILE): "<img src=x onerror=alert(1)>.pdf"}
    text = words.event_summary(on_file(actions.ITEM_TRASHED), reader=READER, names=names)
    assert text == "You moved <img src=x onerror=alert(1)>.pdf to the trash"  # escaped by whatever shows it


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (FIREFOX, "Firefox on Linux"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1", "Safari on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge on Windows",
        ),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.31", "a Python script"),
        ("", ""),
        ("something else", ""),
    ],
)
def test_device_of(user_agent, device):
    assert words.device_of(user_agent) == device


def notification(kind, *, object_type="", object_id="", data=None):
    return Notification(id=1, user_id=ME, kind=kind, object_type=object_type, object_id=object_id, data=data or {})


@pytest.mark.parametrize(
    ("kind", "object_type", "data", "named", "neutral"),
    [
        (
            "upload.finished",
            "file",
            {"action": "file.uploaded"},
            "Upload finished: invoice-acme.pdf",
            "A file finished uploading",
        ),
        (
            "upload.finished",
            "file",
            {"action": "file.version_added"},
            "A new version of invoice-acme.pdf was saved",
            "A new version of a file was saved",
        ),
        ("file.downloaded", "file", {"by": "bob"}, "bob downloaded invoice-acme.pdf", "bob downloaded a file"),
        (
            "share.received",
            "folder",
            {"by": "bob", "permission": "view"},
            "bob shared Holidays with you (you can view)",
            "bob shared a folder with you (you can view)",
        ),
        (
            "share.changed",
            "folder",
            {"by": "bob", "permission": "edit"},
            "bob changed what you may do with Holidays: you can now edit",
            "bob changed what you may do with a folder: you can now edit",
        ),
        (
            "share.revoked",
            "folder",
            {"by": "bob"},
            "bob stopped sharing Holidays with you",
            "bob stopped sharing a folder with you",
        ),
        (
            "shared_item.changed",
            "file",
            {"by": "bob", "action": "file.renamed"},
            "bob renamed a file to invoice-acme.pdf",
            "bob renamed a file",
        ),
        (
            "link.used",
            "file",
            {"download": "file"},
            "Someone downloaded invoice-acme.pdf through your public link",
            "Someone downloaded a file through your public link",
        ),
        ("login.failed", "", {}, "A sign-in to your account failed", "A sign-in to your account failed"),
        ("device.signed_in", "", {}, "A device signed in to your account", "A device signed in to your account"),
        ("quota.90", "", {"used": 93, "quota": 100}, "Your storage is 93% full", "Your storage is 93% full"),
        (
            "quota.100",
            "",
            {},
            "Your storage is full: new uploads will be refused",
            "Your storage is full: new uploads will be refused",
        ),
    ],
)
def test_each_notification_kind_in_words(kind, object_type, data, named, neutral):
    object_id = {"file": FILE, "folder": FOLDER}.get(object_type, "")
    row = notification(kind, object_type=object_type, object_id=object_id, data=data)
    assert words.notification_summary(row, names=NAMES) == named
    assert words.notification_summary(row) == neutral


def test_every_notification_kind_is_worded():
    for kind in Notification.Kind.values:
        assert "Something happened" not in words.notification_summary(notification(kind)), kind


def test_a_notification_reads_its_event_for_the_device_the_reason_and_the_folder():
    uploaded = on_file(actions.FILE_UPLOADED, folder=DEST)
    finished = notification("upload.finished", object_type="file", object_id=FILE, data={"action": "file.uploaded"})
    assert words.notification_summary(finished, event=uploaded, names=NAMES) == (
        "You uploaded invoice-acme.pdf to Documents"
    )
    signed_in = event(actions.LOGIN, user_agent=FIREFOX)
    assert words.notification_summary(notification("device.signed_in"), event=signed_in) == (
        "A device signed in to your account: Firefox on Linux"
    )
    failed = event(actions.LOGIN, outcome="failure", data={"reason": "bad_password"})
    assert words.notification_summary(notification("login.failed"), event=failed) == (
        "A sign-in to your account failed: wrong password"
    )
