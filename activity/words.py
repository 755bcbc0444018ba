"""Activity in words: one sentence for each event and each notification, from the reader's point of view.

"You uploaded invoice-acme.pdf to Documents", "alice shared Holidays with you", "You signed in from Firefox on
Linux". This module is the one place the server words its log: the API's ``summary`` (activity and notifications),
the live streams and the server-rendered tables all take their sentence from here, and the browser shows it.

Names: events hold ids only (SECURITY.md), so the names of items are opened at read time with the reader's keys
(:mod:`activity.naming`, filled by the vault) and passed in as ``names``; an item the reader cannot open (purged,
not theirs, their vault locked) gets a neutral word ("a file"). A name is the item's name when the log is read:
an event never stored it, so an old rename says "You renamed a file to b.txt" with the name it has now.

Point of view: whoever an event belongs to is "You" to its reader, and called by their username otherwise (an
admin reading someone else's log); someone who acted in another's files (``by``), a share's owner (``owner``) and
a share's recipient (``recipient``) are named by the usernames the event holds. Unknown actions (a newer server
wrote them) are worded with their code, which the API and the pages keep next to the sentence anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from activity import actions, naming
from activity.models import Event, Notification

# --- people ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """How a sentence calls someone: as its subject ("You", "alice"), as an object ("you", "alice"), with a
    possessive ("your", "alice's") and in a reflexive possessive ("your", "their": alice changed *their* password)."""

    subject: str
    object: str
    possessive: str
    own: str


YOU = Person("You", "you", "your", "your")
SOMEONE = Person("Someone", "someone", "someone's", "their")
ADMIN = Person("An administrator", "an administrator", "an administrator's", "their")


def named(username) -> Person:
    if not isinstance(username, str) or not username:
        return SOMEONE
    return Person(username, username, f"{username}'s", "their")


def owner_of(row, reader) -> Person:
    """The person a log row (an event or a notification) belongs to, as ``reader`` calls them."""
    if row.user_id is None:
        return SOMEONE
    if reader is not None and str(row.user_id) == str(getattr(reader, "pk", "")):
        return YOU
    user = row.user if _loaded(row, "user") else None
    return named(getattr(user, "username", None))


def _loaded(row, field: str) -> bool:
    """True when ``row``'s foreign key ``field`` is loaded (never a query per row for a name)."""
    meta = getattr(row, "_meta", None)
    return meta is not None and meta.get_field(field).is_cached(row)


# --- devices -----------------------------------------------------------------------------------------------

_BROWSERS = [
    (re.compile(r"Edg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"Firefox/|FxiOS/"), "Firefox"),
    (re.compile(r"Chrome/|CriOS/|Chromium/"), "Chrome"),
    (re.compile(r"Safari/"), "Safari"),
    (re.compile(r"^curl/"), "curl"),
    (re.compile(r"python-requests|python-urllib|httpx", re.IGNORECASE), "a Python script"),
]
_SYSTEMS = [
    (re.compile(r"iPhone|iPad|iPod"), "iOS"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Linux"), "Linux"),
]


def device_of(user_agent) -> str:
    """The device of a User-Agent header, "Firefox on Linux", or "" when it says nothing recognisable (a guess
    for people: the whole header stays in the event)."""
    ua = user_agent if isinstance(user_agent, str) else ""
    browser = next((name for pattern, name in _BROWSERS if pattern.search(ua)), "")
    system = next((name for pattern, name in _SYSTEMS if pattern.search(ua)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


# --- items -------------------------------------------------------------------------------------------------

THINGS = {
    "folder": "a folder",
    "file": "a file",
    "note": "a note",
    "chat": "a chat",
    "message": "a message",
    "app_password": "an app password",
    "session": "a device",
    "trash": "the trash",
    "user": "an account",
    "invitation": "an invitation",
    "site_settings": "the site's settings",
}
PERMISSIONS = {"view": "view", "edit": "edit", "delete": "edit and delete"}
ACCOUNT_FIELDS = {
    "email": "email address",
    "role": "role",
    "is_active": "active status",
    "storage_quota": "storage quota",
    "keep_versions": "number of versions kept",
}
LOGIN_FAILURES = {
    "bad_password": "wrong password",
    "unknown_user": "unknown username",
    "inactive": "account deactivated",
    "otp_required": "the password was right; no two-factor code was given",
    "bad_otp": "wrong two-factor code",
}


INTEGRITY_REASONS = {
    "missing": "its stored data is missing",
    "damaged": "its stored data is damaged",
    "name_damaged": "its name could not be opened",
    "sealed_field": "some of its details could not be opened",
    "preview_missing": "its preview is missing",
    "preview_damaged": "its preview is damaged",
}


def thing(object_type: str) -> str:
    """The neutral word for an item nobody could name."""
    return THINGS.get(object_type, "an item")


class Wording:
    """What a wording function reads from one event: its people, its item and folder with their names."""

    def __init__(self, event, *, reader, names: dict):
        self.event = event
        self.data = event.data if isinstance(event.data, dict) else {}
        self.names = names
        self.me = owner_of(event, reader)

    @property
    def item(self) -> str:
        """The event's item, named for the reader, or a neutral word."""
        event = self.event
        return self.names.get((event.object_type, str(event.object_id))) or thing(event.object_type)

    def folder(self, preposition: str, *, top: str = "") -> str:
        """The folder of the event's data, " to Documents" (" to a folder" if the reader cannot open it); ``top``
        for the top level (its folder is null); "" when the event did not record one (older events)."""
        if "folder" not in self.data:
            return ""
        folder_id = self.data["folder"]
        if not folder_id:
            return f" {top}" if top else ""
        return f" {preposition} {self.names.get(('folder', str(folder_id))) or 'a folder'}"

    @property
    def actor(self) -> Person:
        """Who acted: someone an item is shared with, acting in the owner's files (``by``), or the log's owner."""
        by = self.data.get("by")
        return named(by) if isinstance(by, str) and by else self.me

    @property
    def where(self) -> str:
        """Where, when not in the reader's vault: ", in alice's files" (a share's recipient's own copy of an
        action in the owner's vault)."""
        owner = self.data.get("owner")
        return f", in {owner}'s files" if isinstance(owner, str) and owner else ""

    def number(self, key: str) -> int | None:
        value = self.data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- one wording per action ------------------------------------------------------------------------------


def _login(w: Wording) -> str:
    if w.event.outcome == Event.Outcome.FAILURE:
        how = LOGIN_FAILURES.get(w.data.get("reason"), "")
        if w.event.user_id is None:
            return "A sign-in with an unknown username failed" if how == "unknown username" else "A sign-in failed"
        return f"A sign-in to {w.me.possessive} account failed" + (f": {how}" if how else "")
    device = device_of(w.event.user_agent)
    if device:
        return f"{w.me.subject} signed in from {device}"
    if w.data.get("kind") == "token":
        return f"{w.me.subject} signed in from an app or API client"
    return f"{w.me.subject} signed in"


def _password_changed(w: Wording) -> str:
    if w.event.outcome == Event.Outcome.FAILURE:
        return f"A change of {w.me.possessive} password was refused: the current password was wrong"
    return f"{w.me.subject} changed {w.me.own} password"


def _recovery(w: Wording) -> str:
    if w.event.outcome == Event.Outcome.FAILURE:
        return f"An attempt to recover {w.me.possessive} account with a recovery key failed"
    text = f"{w.me.subject} used {w.me.own} recovery key and chose a new password"
    return text + ("; two-factor sign-in was turned off" if w.data.get("two_factor_off") else "")


def _account_deleted(w: Wording) -> str:
    return "An account was deleted" if w.event.user_id is None else f"{w.me.subject} deleted {w.me.own} account"


def _account_updated(w: Wording) -> str:
    listed = w.data.get("fields")
    fields = [ACCOUNT_FIELDS.get(f, f) for f in (listed if isinstance(listed, list) else []) if isinstance(f, str)]
    what = f": {', '.join(fields)}" if fields else ""
    if "by" in w.data:  # an admin's id: whoever it was, it was an administrator
        return f"An administrator changed {w.me.possessive} account{what}"
    return f"{w.me.subject} changed {w.me.own} settings{what}"


def _exported(w: Wording) -> str:
    if w.data.get("what") == "activity":
        return f"{w.me.subject} downloaded {w.me.own} activity log as CSV"
    return f"{w.me.subject} exported all {w.me.own} data"


def _uploaded(w: Wording) -> str:
    return f"{w.actor.subject} uploaded {w.item}{w.folder('to')}{w.where}"


def _downloaded(w: Wording) -> str:
    version = w.number("version")
    what = f"version {version} of {w.item}" if version else w.item
    zipped = " in a zip" if w.data.get("archive") else ""
    return f"{w.actor.subject} downloaded {what}{zipped}{w.where}"


def _version_restored(w: Wording) -> str:
    number = w.number("from")
    what = f"version {number} of {w.item}" if number else f"an earlier version of {w.item}"
    return f"{w.actor.subject} restored {what}{w.where}"


def _renamed(kind: str) -> Callable[[Wording], str]:
    def word(w: Wording) -> str:
        name = w.names.get((w.event.object_type, str(w.event.object_id)))
        return f"{w.actor.subject} renamed {thing(kind)}" + (f" to {name}" if name else "") + w.where

    return word


def _moved(w: Wording) -> str:
    return f"{w.actor.subject} moved {w.item}{w.folder('to', top='to the top level')}{w.where}"


def _folder_created(w: Wording) -> str:
    name = w.names.get(("folder", str(w.event.object_id)))
    what = f"the folder {name}" if name else "a folder"
    return f"{w.actor.subject} created {what}{w.folder('in')}{w.where}"


def _purged(w: Wording) -> str:
    count = w.number("items")
    if w.event.object_type == "trash":
        items = f" ({count} item{'s' if count != 1 else ''})" if count is not None else ""
        if w.data.get("expired"):
            return f"Items left in {w.me.possessive} trash too long were deleted forever{items}"
        return f"{w.me.subject} emptied {w.me.own} trash{items}"
    return f"{w.me.subject} deleted {w.item} forever"


def _integrity(w: Wording) -> str:
    version = w.number("version")
    what = f"Version {version} of {w.item}" if version else w.item[:1].upper() + w.item[1:]
    why = INTEGRITY_REASONS.get(w.data.get("reason"), "its stored data is damaged")
    return f"{what} failed its integrity check: {why}"


def _message(w: Wording) -> str:
    count = w.number("attachments") or 0
    attached = f" with {count} attachment{'s' if count != 1 else ''}" if count else ""
    chat = w.data.get("chat")
    named_chat = w.names.get(("chat", str(chat))) if chat else None
    where = f" in {named_chat}" if named_chat else ""
    if w.data.get("role") == "assistant":
        return f"The assistant replied in {named_chat or 'a chat'}{attached}"
    return f"{w.me.subject} sent a message{where}{attached}"


def _message_status(w: Wording) -> str:
    status = w.data.get("status")
    return f"{w.me.subject} marked a message as {status}" if isinstance(status, str) else "A message's status changed"


def _may(permission) -> str:
    return PERMISSIONS.get(permission, "")


def _shared(w: Wording) -> str:
    who = named(w.data.get("recipient")).object if w.data.get("recipient") else "someone"
    may = _may(w.data.get("permission"))
    return f"{w.me.subject} shared {w.item} with {who}" + (f" (they can {may})" if may else "")


def _share_changed(w: Wording) -> str:
    who = named(w.data.get("recipient")).object if w.data.get("recipient") else "someone"
    may = _may(w.data.get("permission"))
    return f"{w.me.subject} changed what {who} may do with {w.item}" + (f": they can now {may}" if may else "")


def _share_revoked(w: Wording) -> str:
    who = named(w.data.get("recipient")).object if w.data.get("recipient") else "someone"
    return f"{w.me.subject} stopped sharing {w.item} with {who}"


def _share_left(w: Wording) -> str:
    owner = w.data.get("owner")
    return f"{w.me.subject} left {w.item}" + (f", shared by {owner}" if isinstance(owner, str) and owner else "")


def _received(w: Wording) -> str:
    may = _may(w.data.get("permission"))
    they = "you" if w.me is YOU else "they"
    return f"{named(w.data.get('owner')).subject} shared {w.item} with {w.me.object}" + (
        f" ({they} can {may})" if may else ""
    )


def _received_changed(w: Wording) -> str:
    may = _may(w.data.get("permission"))
    they = "you" if w.me is YOU else "they"
    return f"{named(w.data.get('owner')).subject} changed what {w.me.object} may do with {w.item}" + (
        f": {they} can now {may}" if may else ""
    )


def _received_ended(w: Wording) -> str:
    return f"{named(w.data.get('owner')).subject} stopped sharing {w.item} with {w.me.object}"


def _link_used(w: Wording) -> str:
    zipped = " as a zip" if w.data.get("download") == "zip" else ""
    return f"Someone downloaded {w.item}{zipped} through {w.me.possessive} public link"


def _invited(w: Wording) -> str:
    role = {"admin": "an administrator", "regular": "a regular user"}.get(w.data.get("role"))
    return f"{w.me.subject} created an invitation to sign up" + (f" as {role}" if role else "")


def _invitation_used(w: Wording) -> str:  # ``by`` is the inviting admin's id, not a username: never shown
    return f"{w.me.subject} signed up with an invitation"


def _site_settings(w: Wording) -> str:
    if w.data.get("admins_need_two_factor") is True:
        return f"{w.me.subject} changed the site's settings: administrators need two-factor sign-in"
    registration = w.data.get("registration_open")
    if registration is True:
        return f"{w.me.subject} opened sign-up: anyone can create an account"
    if registration is False:
        return f"{w.me.subject} closed sign-up: new accounts need an invitation"
    return f"{w.me.subject} changed the site's settings"


def _simple(template: str) -> Callable[[Wording], str]:
    """A sentence with ``{who}`` (the actor), ``{own}`` (their possessive), ``{your}`` (the log owner's) and
    ``{item}``; ", in alice's files" is added for an action in someone else's vault."""

    def word(w: Wording) -> str:
        return template.format(who=w.actor.subject, own=w.me.own, your=w.me.possessive, item=w.item) + w.where

    return word


def _with_name(named_template: str, unnamed: str) -> Callable[[Wording], str]:
    """Like :func:`_simple`, with a sentence for an item the reader can open (``{name}``) and one without."""

    def word(w: Wording) -> str:
        name = w.names.get((w.event.object_type, str(w.event.object_id)))
        text = named_template.format(who=w.actor.subject, name=name) if name else unnamed.format(who=w.actor.subject)
        return text + w.where

    return word


# Keyed by the codes of activity/actions.py (tests/activity/test_words.py fails for an action without a wording).
WORDINGS: dict[str, Callable[[Wording], str]] = {
    actions.LOGIN: _login,
    actions.LOGOUT: _simple("{who} signed out"),
    actions.SESSION_REVOKED: _simple("{who} signed a device out"),
    actions.SESSION_RENAMED: _simple("{who} renamed a signed-in device"),
    actions.REFRESH_TOKEN_REUSED: _simple(
        "One of {your} sign-in tokens was used twice and refused; that device was signed out"
    ),
    actions.PASSWORD_CHANGED: _password_changed,
    actions.RECOVERY_USED: _recovery,
    actions.TWO_FACTOR_ENABLED: _simple("{who} turned on two-factor sign-in"),
    actions.TWO_FACTOR_DISABLED: _simple("{who} turned off two-factor sign-in"),
    actions.TWO_FACTOR_CODES_RENEWED: _simple("{who} made new two-factor backup codes"),
    actions.REGISTERED: _simple("{who} created {own} account"),
    actions.ACCOUNT_DELETED: _account_deleted,
    actions.ADMIN_RESET: _simple("An administrator reset {your} password; the files of the old vault were erased"),
    actions.ACCOUNT_UPDATED: _account_updated,
    actions.DATA_EXPORTED: _exported,
    actions.APP_PASSWORD_CREATED: _with_name("{who} created the app password {name}", "{who} created an app password"),
    actions.APP_PASSWORD_REVOKED: _simple("{who} revoked an app password"),
    actions.INVITATION_CREATED: _invited,
    actions.INVITATION_REVOKED: _simple("{who} revoked an invitation"),
    actions.INVITATION_USED: _invitation_used,
    actions.SITE_SETTINGS_CHANGED: _site_settings,
    actions.FOLDER_CREATED: _folder_created,
    actions.FOLDER_RENAMED: _renamed("folder"),
    actions.FOLDER_MOVED: _moved,
    actions.FILE_UPLOADED: _uploaded,
    actions.FILE_DOWNLOADED: _downloaded,
    actions.FILE_VERSION_ADDED: _simple("{who} saved a new version of {item}"),
    actions.FILE_VERSION_RESTORED: _version_restored,
    actions.FILE_RENAMED: _renamed("file"),
    actions.FILE_MOVED: _moved,
    actions.FILE_RETAGGED: _simple("{who} changed the tags of {item}"),
    actions.INTEGRITY_FAILED: _integrity,
    actions.ITEM_TRASHED: _simple("{who} moved {item} to the trash"),
    actions.ITEM_RESTORED: _simple("{who} restored {item} from the trash"),
    actions.ITEM_PURGED: _purged,
    actions.QUOTA_REFUSED: _simple("An upload was refused: {your} storage is full"),
    actions.NOTE_CREATED: _with_name("{who} created the note {name}", "{who} created a note"),
    actions.NOTE_UPDATED: _with_name("{who} edited the note {name}", "{who} edited a note"),
    actions.CHAT_CREATED: _with_name("{who} started the chat {name}", "{who} started a chat"),
    actions.CHAT_RENAMED: _renamed("chat"),
    actions.CHAT_DELETED: _simple("{who} deleted a chat"),
    actions.MESSAGE_CREATED: _message,
    actions.MESSAGE_STATUS_CHANGED: _message_status,
    actions.AUDIO_UPLOADED: _with_name("{who} recorded {name}", "{who} recorded audio"),
    actions.SHARE_CREATED: _shared,
    actions.SHARE_CHANGED: _share_changed,
    actions.SHARE_REVOKED: _share_revoked,
    actions.SHARE_LEFT: _share_left,
    actions.SHARE_RECEIVED: _received,
    actions.SHARE_RECEIVED_CHANGED: _received_changed,
    actions.SHARE_RECEIVED_ENDED: _received_ended,
    actions.LINK_CREATED: _simple("{who} created a public link to {item}"),
    actions.LINK_REVOKED: _simple("{who} turned off a public link to {item}"),
    actions.LINK_USED: _link_used,
}

# Actions whose wording already says how they failed (every other failure says "(failed)").
FAILURE_WORDED = {
    actions.LOGIN,
    actions.PASSWORD_CHANGED,
    actions.RECOVERY_USED,
    actions.REFRESH_TOKEN_REUSED,
    actions.QUOTA_REFUSED,
    actions.INTEGRITY_FAILED,
}


def event_summary(event, *, reader, names: dict | None = None) -> str:
    """One sentence for ``event``, as ``reader`` (a user, or None) reads it, with the item ``names`` the reader
    could open (``activity.naming.names_for``)."""
    word = WORDINGS.get(event.action)
    w = Wording(event, reader=reader, names=names or {})
    if word is None:
        code = event.action or "unknown"
        text = f"{w.me.subject} did something this server has no words for ({code})"
    else:
        text = word(w)
    if event.outcome == Event.Outcome.FAILURE and event.action not in FAILURE_WORDED:
        text += " (failed)"
    return text


# --- notifications -----------------------------------------------------------------------------------------

Kind = Notification.Kind


def notification_summary(notification, *, names: dict | None = None, event=None) -> str:
    """One sentence for ``notification`` as its user (its only reader) reads it. ``event`` is the event it came
    from, when the caller has it (a sign-in's device, a change's folder); ``names`` as for :func:`event_summary`
    (the live streams have none: their sentences use the neutral words)."""
    names = names or {}
    reader = _Reader(notification.user_id)
    data = notification.data if isinstance(notification.data, dict) else {}
    item = names.get((notification.object_type, str(notification.object_id))) or thing(notification.object_type)
    by = named(data.get("by")).subject if data.get("by") else "Someone"
    kind = notification.kind
    if kind == Kind.UPLOAD_FINISHED:
        if event is not None:  # "You uploaded report.pdf to Documents", from whichever device it was
            return event_summary(event, reader=reader, names=names)
        if data.get("action") == actions.FILE_VERSION_ADDED:
            return f"A new version of {item} was saved"
        return "A file finished uploading" if item == thing(notification.object_type) else f"Upload finished: {item}"
    if kind == Kind.DOWNLOADED:
        return f"{by} downloaded {item}"
    if kind in (Kind.SHARE_RECEIVED, Kind.SHARE_CHANGED, Kind.SHARE_REVOKED):
        as_event = _Row(
            action={
                Kind.SHARE_RECEIVED: actions.SHARE_RECEIVED,
                Kind.SHARE_CHANGED: actions.SHARE_RECEIVED_CHANGED,
                Kind.SHARE_REVOKED: actions.SHARE_RECEIVED_ENDED,
            }[kind],
            data={**data, "owner": data.get("by")},
            notification=notification,
        )
        return event_summary(as_event, reader=reader, names=names)
    if kind == Kind.SHARED_ITEM_CHANGED:
        source = (
            event if event is not None else _Row(action=data.get("action", ""), data=data, notification=notification)
        )
        return event_summary(source, reader=reader, names=names)
    if kind == Kind.LINK_USED:
        zipped = " as a zip" if data.get("download") == "zip" else ""
        return f"Someone downloaded {item}{zipped} through your public link"
    if kind == Kind.LOGIN_FAILED:
        how = LOGIN_FAILURES.get((event.data or {}).get("reason")) if event is not None else None
        return "A sign-in to your account failed" + (f": {how}" if how else "")
    if kind == Kind.NEW_DEVICE:
        device = device_of(event.user_agent) if event is not None else ""
        return "A device signed in to your account" + (f": {device}" if device else "")
    if kind == Kind.QUOTA_90:
        used, quota = data.get("used"), data.get("quota")
        share = (
            max(90, min(100, int(used * 100 // quota)))
            if isinstance(used, int) and isinstance(quota, int) and quota > 0
            else 90
        )
        return f"Your storage is {share}% full"
    return FIXED_SENTENCES.get(kind, f"Something happened in your account ({kind})")


FIXED_SENTENCES = {
    Kind.QUOTA_100: "Your storage is full: new uploads will be refused",
    Kind.EXPORT_READY: "Your export is ready to download (in Settings, Your data)",
}


@dataclass(frozen=True)
class _Reader:
    pk: object


@dataclass
class _Row:
    """A notification seen as the event it tells of, to word it the same way (``user_id`` is its user's)."""

    action: str
    data: dict
    notification: Notification
    outcome: str = Event.Outcome.SUCCESS
    user_agent: str = ""

    def __post_init__(self):
        self.user_id = self.notification.user_id
        self.object_type = self.notification.object_type
        self.object_id = self.notification.object_id


# --- pages of rows -----------------------------------------------------------------------------------------


def event_summaries(request, events: Iterable) -> dict:
    """``{event id: sentence}`` for a page of events read by ``request``'s user, names opened once for the page."""
    events = list(events)
    names = naming.names_for(request, events)
    return {event.pk: event_summary(event, reader=request.user, names=names) for event in events}


def notification_summaries(request, rows: Iterable) -> dict:
    """``{notification id: sentence}`` for a page of ``request``'s user's notifications: one query for the events
    they came from, names opened once for the page."""
    rows = list(rows)
    event_ids = {row.event for row in rows if row.event}
    events = {e.pk: e for e in Event.objects.filter(pk__in=event_ids, user=request.user)} if event_ids else {}
    names = naming.names_for(request, [*rows, *events.values()])
    return {row.pk: notification_summary(row, names=names, event=events.get(row.event)) for row in rows}


def worded(request, events: Iterable) -> list:
    """The events of a server-rendered table, each with its ``summary`` set (the template shows it)."""
    events = list(events)
    summaries = event_summaries(request, events)
    for event in events:
        event.summary = summaries[event.pk]
    return events
