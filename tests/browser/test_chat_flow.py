"""The chat page in a real Chromium: chats, a voice message recorded from a (fake) microphone and sent with
text and two files as one multipart request, played back after a reload; older messages on scrolling up;
a refused message keeps the composer; rename and delete.

The recording test runs in ``media_page``: Chromium with ``--use-fake-device-for-media-stream`` (a beeping
tone as the microphone) and ``--use-fake-ui-for-media-stream`` (the permission is granted without asking).
Screenshots for a human review land in ``test-results/browser/`` (desktop 1280x800 and phone 390x844).
"""

import base64
import re
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.models import User
from chats.models import Attachment, Message
from tests.browser.test_search_notes_flow import fits_phone, png_bytes
from tests.browser.test_vault_flow import accept_next_dialog, signed_in, throttle, unthrottle
from vault.models import File, Folder

CHAT_URL = re.compile(r"/chats/[0-9a-f-]{36}/$")
NOTES = b"Packing list\n- passport\n- charger\n"


def messages(page):
    """The sent messages in the conversation (not the ones still sending or refused)."""
    return page.locator("[data-testid=message][data-id]")


def is_a_read(request) -> bool:
    """A read of older messages (not the page's look for newer ones, ``?after=``, every few seconds)."""
    return "/messages/" in request.url and request.method == "GET" and "after=" not in request.url


def new_chat(page, title: str) -> str:
    page.fill("#new-chat-title", title)
    page.get_by_test_id("new-chat").click()
    page.wait_for_url(CHAT_URL)
    expect(page.get_by_test_id("chat-title")).to_have_text(title)
    expect(page.locator(".chat-link[aria-current=page]")).to_have_text(re.compile(re.escape(title)))
    return urlsplit(page.url).path.rstrip("/").rsplit("/", 1)[1]


# The <audio>'s duration once known. MediaRecorder's WebM carries no duration, so Chromium first says
# Infinity; seeking far past the end makes it read the whole file and report the real one.
AUDIO_DURATION = """async (audio) => {
  const once = (name) => new Promise((resolve) => audio.addEventListener(name, resolve, {once: true}));
  if (audio.readyState < 1) { const ready = once('loadedmetadata'); audio.load(); await ready; }
  if (audio.duration === Infinity || isNaN(audio.duration)) {
    const known = once('durationchange');
    audio.currentTime = 1e9;
    await known;
    while (!isFinite(audio.duration)) await once('durationchange');
    audio.currentTime = 0;
  }
  return audio.duration;
}"""


# The request is part-way: the overall bar between empty and full, the first file's bar full (it travels
# first), the recording's (last) not yet.
PART_WAY = """() => {
  const overall = document.getElementById('send-progress');
  const files = [...document.querySelectorAll('[data-testid=composer-file] progress')];
  const audio = document.getElementById('rec-progress');
  return !overall.hidden && overall.value > 0.1 && overall.value < 0.9 && files.length === 2
    && files[0].value === 1 && !audio.hidden && audio.value < 1;
}"""


def test_record_voice_and_send_it_with_text_and_two_files_then_play_it_after_reload(
    media_page, live_server, screenshot
):
    page = media_page
    base = live_server.url
    signed_in(page, base, "rita")

    # The header leads to the chats; there are none yet.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Chats").click()
    page.wait_for_url(f"{base}/chats/")
    expect(page.locator("#chat-list-empty")).to_be_visible()
    expect(page.locator("#chat-none")).to_be_visible()
    # The page says who answers: an assistant the user connects, not Locker (no promise of a built-in AI).
    intro = page.get_by_test_id("chat-intro")
    expect(intro).to_contain_text("stores them encrypted")
    expect(intro).to_contain_text("Locker has no built-in AI")
    expect(intro).to_contain_text("an assistant you connect replies")
    expect(page.get_by_test_id("assistant-docs-link")).to_have_attribute("href", "/chats/assistant/")
    expect(page.get_by_test_id("chat-about")).to_contain_text("Replies come from an assistant program")
    screenshot(page, "chat-none")
    chat_id = new_chat(page, "Trip planning")
    empty = page.get_by_test_id("messages-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("Replies come from the assistant you connect")
    expect(empty.get_by_role("link", name="How to connect an assistant")).to_have_attribute("href", "/chats/assistant/")

    # Record about 2.5 seconds: the timer runs while the fake microphone beeps.
    page.get_by_test_id("record").click()
    timer = page.get_by_test_id("rec-timer")
    expect(timer).to_be_visible()
    expect(page.get_by_test_id("send")).to_be_disabled()  # not while recording
    page.wait_for_function("() => Number(document.getElementById('rec-timer').dataset.ms) >= 1200")
    expect(timer).to_have_text("0:01")
    screenshot(page, "chat-recording")
    page.wait_for_function("() => Number(document.getElementById('rec-timer').dataset.ms) >= 2600")
    expect(timer).to_have_text("0:02")
    page.get_by_test_id("rec-stop").click()
    expect(timer).to_be_hidden()

    # Listen back: a blob: URL the page's player loads (CSP media-src allows blob:).
    preview = page.get_by_test_id("rec-audio")
    expect(preview).to_be_visible()
    assert preview.evaluate("a => a.src").startswith("blob:")
    # its length before it plays, "0:00 / 0:02" (the recorder's count: Chromium's player says Infinity for it)
    expect(page.get_by_test_id("rec-length")).to_have_text(re.compile(r"^0:00 / 0:0[23] · \d+(\.\d)? (B|KiB)$"))
    assert preview.evaluate(AUDIO_DURATION) > 2
    expect(page.get_by_test_id("record")).to_be_disabled()  # one recording per message

    # Two files from the picker (in-memory buffers), and two lines of text (Shift+Enter), sent with Enter.
    page.set_input_files(
        "#attach-input",
        [
            {"name": "packing list.txt", "mimeType": "text/plain", "buffer": NOTES},
            {"name": "map.png", "mimeType": "image/png", "buffer": png_bytes()},
        ],
    )
    expect(page.get_by_test_id("composer-file")).to_have_count(2)
    # The composer says where the attachments will be kept: the folder is not made yet, so no link.
    where = page.get_by_test_id("composer-where")
    expect(where).to_be_visible()
    expect(where).to_contain_text("Attachments are kept in your files, in “Chat attachments” (made when you send")
    expect(page.get_by_test_id("composer-where-link")).to_be_hidden()
    text = page.get_by_test_id("composer-text")
    text.click()
    page.keyboard.type("Here is the plan")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("and a voice note <b>not bold</b>")
    assert text.input_value() == "Here is the plan\nand a voice note <b>not bold</b>"
    # Sent with Enter over a slow network: one request, its progress shown on the message and per file.
    network = throttle(page, 12 * 1024)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(f"/chats/{chat_id}/messages/")) as sent:
        page.keyboard.press("Enter")
    assert sent.value.headers["content-type"].startswith("multipart/form-data")
    page.wait_for_function(PART_WAY)
    expect(page.locator("[data-testid=message].pending")).to_have_count(1)
    expect(text).to_have_js_property("readOnly", True)  # nothing changes under a message being sent
    expect(page.get_by_test_id("send")).to_be_disabled()
    expect(page.get_by_role("button", name="Remove “map.png”")).to_be_disabled()
    screenshot(page, "chat-sending", sizes=("desktop",))
    unthrottle(network)
    expect(messages(page)).to_have_count(1)
    expect(page.locator("[data-testid=message].pending")).to_have_count(0)

    # The message: the text with its line break, two files and the voice message, all as one request.
    message = messages(page).first
    expect(message).to_have_attribute("data-role", "user")
    expect(message.get_by_test_id("message-status")).to_have_text("Sent")
    expect(message.get_by_test_id("message-text")).to_have_text("Here is the plan\nand a voice note <b>not bold</b>")
    assert message.get_by_test_id("message-text").evaluate("p => p.innerText").count("\n") == 1
    assert message.locator("b").count() == 0
    attachments = message.get_by_test_id("attachment")
    expect(attachments).to_have_count(3)
    expect(attachments.nth(0)).to_contain_text("packing list.txt")
    expect(attachments.nth(1)).to_contain_text("map.png")
    expect(message.locator("[data-kind=file]")).to_have_count(2)
    expect(message.get_by_test_id("attachment-audio")).to_have_count(1)
    download = message.get_by_role("link", name="Download “packing list.txt”")
    expect(download).to_have_attribute("download", "packing list.txt")
    # the composer is empty again: no text, no files, no recording
    expect(text).to_have_value("")
    expect(page.get_by_test_id("composer-file")).to_have_count(0)
    expect(page.get_by_test_id("recorder")).to_be_hidden()
    expect(page.get_by_test_id("record")).to_be_enabled()
    expect(where).to_be_hidden()  # nothing attached now
    # The next attachment names the folder the first one made, with a link to it.
    folder = Folder.objects.get(parent=None)
    page.set_input_files("#attach-input", [{"name": "later.txt", "mimeType": "text/plain", "buffer": b"l"}])
    expect(where).to_contain_text("Attachments are kept in your files, in “Chat attachments”.")
    expect(page.get_by_test_id("composer-where-link")).to_have_attribute("href", f"/files/{folder.pk}/")
    page.get_by_role("button", name="Remove “later.txt”").click()
    audio_row = Attachment.objects.get(kind=Attachment.Kind.AUDIO)
    assert audio_row.duration and 2 <= audio_row.duration < 5, audio_row.duration
    assert Attachment.objects.filter(message=audio_row.message).count() == 3

    # After a reload: the same message, a thumbnail for the image, and a player that plays the recording.
    page.reload()
    message = messages(page).first
    expect(message.get_by_test_id("attachment")).to_have_count(3)
    expect(message.get_by_test_id("attachment-duration")).to_have_text(re.compile(r"^0:0[23]$"))
    # the voice message's length before it plays, from the server's probe: "0:00 / 0:02"
    expect(message.get_by_test_id("attachment-time")).to_have_text(re.compile(r"^0:00 / 0:0[23]$"))
    expect(message.get_by_test_id("attachment-thumb")).to_have_count(1)
    thumb = message.get_by_test_id("attachment-thumb")
    thumb.evaluate("img => img.decode()")
    assert thumb.evaluate("img => img.naturalWidth") > 0
    player = message.get_by_test_id("attachment-audio")
    src = player.get_attribute("src")
    assert src.endswith("/content?inline=1") and src.startswith("/api/v1/files/"), src
    duration = player.evaluate(AUDIO_DURATION)
    assert 2 <= duration < 5, duration
    page.get_by_test_id("chat-title").click()  # a user gesture: the page may play sound
    player.evaluate("a => a.play()")
    page.wait_for_function("(a) => a.currentTime > 1.1 && !a.paused", arg=player.element_handle(), timeout=10_000)
    player.evaluate("a => a.pause()")
    # while playing: where it is, and still the whole length
    expect(message.get_by_test_id("attachment-time")).to_have_text(re.compile(r"^0:0[12] / 0:0[23]$"))
    listed = page.evaluate(
        """async (id) => (await (await fetch(`/api/v1/chats/${id}/messages/`)).json()).results[0].attachments""",
        chat_id,
    )
    assert [a["kind"] for a in listed] == ["file", "file", "audio"]
    assert listed[2]["duration"] > 0 and listed[2]["mime_type"] == "audio/webm"

    # Without the server's duration (a recording the probe could not read), the page asks the player, which
    # says Infinity for this WebM until it has read it all: the length is still shown, not "Infinity" or "0:00".
    Attachment.objects.filter(pk=audio_row.pk).update(duration=None)
    page.reload()
    message = messages(page).first
    time_shown = message.get_by_test_id("attachment-time")
    expect(time_shown).to_have_attribute("data-duration-known", "1")
    expect(time_shown).to_have_text(re.compile(r"^0:00 / 0:0[23]$"))

    screenshot(page, "chat-voice-message")
    fits_phone(page)
    # On a phone the list of chats folds away above the open chat and says which one is open.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#chat-side")).not_to_have_attribute("open", "")
    expect(page.locator("#chat-side-current")).to_have_text("· Trip planning")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not page.problems(), page.problems()


def test_older_messages_on_scroll_refused_message_keeps_the_composer_rename_delete(
    page, live_server, screenshot, settings
):
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "message_user": "1000/m"}  # 230 messages at once
    base = live_server.url
    account = signed_in(page, base, "otto")
    page.goto(f"{base}/chats/")
    chat_id = new_chat(page, "Long talk")

    # 230 messages (through the API, as another client would send them), the replies from the assistant:
    # more than one request of the page reads (200).
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    url = f"/api/v1/chats/{chat_id}/messages/"
    for n in range(230):
        role = "assistant" if n % 2 else "user"
        response = client.post(url, {"role": role, "content": f"message {n:03d}"}, format="json")
        assert response.status_code == 201, response.content
    # away first, so that nothing the page did while the messages arrived (its live updates, a read of older ones)
    # is counted as the reload's
    chat_url = page.url
    page.goto("about:blank")
    reads = []
    page.on("request", lambda r: reads.append(r.url) if is_a_read(r) else None)
    page.goto(chat_url)

    # The newest 50 first (one request, however long the chat), scrolled to the bottom; scrolling to the
    # top brings the older ones, in order.
    expect(messages(page)).to_have_count(50)
    expect(messages(page).last.get_by_test_id("message-text")).to_have_text("message 229")
    expect(messages(page).first.get_by_test_id("message-text")).to_have_text("message 180")
    assert len(reads) == 1 and "latest=1" in reads[0], reads
    expect(messages(page).last).to_have_attribute("data-role", "assistant")
    log = page.get_by_test_id("chat-log")
    assert log.evaluate("l => l.scrollHeight - l.scrollTop - l.clientHeight") < 5
    log.evaluate("l => { l.scrollTop = 0; }")
    expect(messages(page)).to_have_count(100)
    # the reader's place is kept: message 180 is still in view, not pushed away by the older ones
    assert page.evaluate(
        """() => { const m = [...document.querySelectorAll('[data-testid=message-text]')]
                     .find((p) => p.textContent === 'message 180');
                   const log = document.getElementById('chat-log').getBoundingClientRect();
                   const r = m.getBoundingClientRect();
                   return r.bottom > log.top && r.top < log.bottom; }"""
    )
    expect(page.get_by_role("button", name="Load older messages")).to_be_enabled()  # for the keyboard, too
    for count in (150, 200, 230):  # the last step reads the page before the newest one (its `previous` link)
        log.evaluate("l => { l.scrollTop = 0; }")
        expect(messages(page)).to_have_count(count)
    assert len(reads) == 2 and "cursor=" in reads[1], reads
    expect(page.locator("#chat-log-start")).to_be_visible()
    expect(page.get_by_role("button", name="Load older messages")).to_be_hidden()
    texts = messages(page).get_by_test_id("message-text").all_text_contents()
    assert texts == [f"message {n:03d}" for n in range(230)]

    # A refused message (over the quota): the API's reason on the message, the composer keeps everything.
    User.objects.filter(pk=account.user.pk).update(storage_quota=32 * 1024)
    page.get_by_test_id("composer-text").fill("the big one")
    # (the file is dropped on the conversation)
    data_transfer = page.evaluate_handle(
        """() => { const dt = new DataTransfer();
                   dt.items.add(new File([new Uint8Array(200 * 1024)], "big.bin", {type: "application/octet-stream"}));
                   return dt; }"""
    )
    page.dispatch_event("#chat-main", "dragenter", {"dataTransfer": data_transfer})
    expect(page.locator("#chat-main")).to_have_class(re.compile(r"\bdragging\b"))
    page.dispatch_event("#chat-main", "drop", {"dataTransfer": data_transfer})
    expect(page.locator("#chat-main")).not_to_have_class(re.compile(r"\bdragging\b"))
    page.get_by_test_id("send").click()
    failed = page.locator("[data-testid=message].failed")
    expect(failed.get_by_test_id("message-error")).to_contain_text(re.compile(r"needs [0-9.]+ (B|KiB|MiB) of storage"))
    expect(failed.get_by_test_id("message-status")).to_have_text("Not sent")
    expect(failed.get_by_test_id("message-error")).to_have_attribute("role", "alert")
    expect(page.get_by_test_id("composer-text")).to_have_value("the big one")
    expect(page.get_by_test_id("composer-file")).to_have_count(1)
    screenshot(page, "chat-refused")
    # the file is removed and the text sent again: the failed bubble gives way to the message
    page.get_by_role("button", name="Remove “big.bin”").click()
    page.get_by_test_id("send").click()
    expect(failed).to_have_count(0)
    expect(messages(page)).to_have_count(231)
    expect(messages(page).last.get_by_test_id("message-text")).to_have_text("the big one")

    # Recording without a MediaRecorder, or with the microphone refused: a clear reason, nothing recorded.
    page.evaluate("() => { window.savedRecorder = window.MediaRecorder; delete window.MediaRecorder; }")
    page.get_by_test_id("record").click()
    expect(page.get_by_test_id("composer-error")).to_have_text(
        "This browser cannot record audio (no MediaRecorder). You can attach an audio file instead."
    )
    page.evaluate(
        """() => { window.MediaRecorder = window.savedRecorder;
                   navigator.mediaDevices.getUserMedia = () =>
                     Promise.reject(new DOMException('Permission denied', 'NotAllowedError')); }"""
    )
    page.get_by_test_id("record").click()
    expect(page.get_by_test_id("composer-error")).to_contain_text("The microphone is blocked: allow it for this site")
    expect(page.get_by_test_id("recorder")).to_be_hidden()
    expect(page.get_by_test_id("record")).to_be_enabled()

    # Rename, then a second chat, then delete the first (it asks first).
    page.get_by_role("button", name="Rename").click()
    page.fill("#chat-rename-input", "Long talk <i>renamed</i>")
    page.locator("#chat-rename-form").get_by_role("button", name="Rename").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("Long talk <i>renamed</i>")
    expect(page.get_by_test_id("chat-item").first).to_contain_text("Long talk <i>renamed</i>")
    new_chat(page, "Second")
    expect(page.get_by_test_id("chat-item")).to_have_count(2)
    page.get_by_test_id("chat-item").filter(has_text="renamed").get_by_role("link").click()
    page.wait_for_url(f"{base}/chats/{chat_id}/")
    expect(messages(page)).to_have_count(50)
    confirmed = accept_next_dialog(page, "Delete the chat “Long talk <i>renamed</i>” and all its messages?")
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(f"{base}/chats/")
    confirmed()
    expect(page.get_by_test_id("chat-page-message")).to_have_text("Deleted the chat “Long talk <i>renamed</i>”.")
    expect(page.get_by_test_id("chat-item")).to_have_count(1)
    page.goto(f"{base}/chats/{chat_id}/")
    expect(page.get_by_test_id("chat-page-message")).to_contain_text("This chat does not exist")

    # The expected refusals are the only console errors: 413 over the quota, 404 for the deleted chat.
    chat_api = re.escape(f"{base}/api/v1/chats/{chat_id}/")
    expected = [
        re.compile(rf"status of 413 .*\({chat_api}messages/\)$"),
        re.compile(rf"status of 404 .*\({chat_api}(messages/\?latest=1&page_size=200)?\)$"),
    ]
    problems = [p for p in page.problems() if not any(e.search(p) for e in expected)]
    assert not problems, page.problems()


def test_a_chat_message_found_by_search_is_labelled_a_message_and_opens_in_its_chat(page, live_server, settings):
    """GIVEN a chat whose first message (sent from the composer) holds a unique word, followed by 230 more
    (so it is neither among the 50 shown first nor on the newest page the chat page reads),
    WHEN the word is searched on the search page and in the header's live search,
    THEN the result says "Message" (not "File") and opens that chat with that message in view and marked."""
    settings.LOCKER_RATELIMITS = {**settings.LOCKER_RATELIMITS, "message_user": "1000/m"}
    base = live_server.url
    account = signed_in(page, base, "sofia")
    page.goto(f"{base}/chats/")
    chat_id = new_chat(page, "Island trip")
    page.get_by_test_id("composer-text").fill("Tickets for the quokkafest are booked")
    page.get_by_test_id("send").click()
    expect(messages(page)).to_have_count(1)
    message_id = messages(page).first.get_attribute("data-id")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    for n in range(230):
        content = f"later {n:03d}" + (" the wombatgala too" if n == 100 else "")
        response = client.post(f"/api/v1/chats/{chat_id}/messages/", {"content": content}, format="json")
        assert response.status_code == 201, response.content
        if n == 100:
            other_id = response.json()["id"]
    in_chat = re.compile(rf"/chats/{chat_id}/#message-{message_id}$")
    target = page.locator(f"[data-testid=message][data-id='{message_id}']")

    def landed_on_the_message():
        page.wait_for_url(in_chat)
        expect(page.get_by_test_id("chat-title")).to_have_text("Island trip")
        expect(target.get_by_test_id("message-text")).to_have_text("Tickets for the quokkafest are booked")
        expect(target).to_be_in_viewport()
        expect(target).to_have_class(re.compile(r"\bfound\b"))
        expect(page.get_by_test_id("chat-page-message")).to_have_count(0)  # no "does not exist"
        assert page.locator(f"#message-{message_id}").count() == 1

    # The search page: the result is a message, named after its chat, with the words around the match.
    box = page.get_by_role("combobox", name="Search files, folders and notes")
    box.fill("quokkafest")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=quokkafest$"))
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-kind", "message")
    expect(results.first.locator(".result-kind")).to_have_text("Message")
    expect(results.first.locator(".result-snippet mark")).to_have_text("quokkafest")
    link = results.first.get_by_role("link", name="Island trip")
    expect(link).to_have_attribute("href", f"/chats/{chat_id}/#message-{message_id}")
    expect(results.first.get_by_role("link", name="its chat")).to_have_attribute("href", f"/chats/{chat_id}/")
    reads = []
    page.on("request", lambda r: reads.append(r.url) if is_a_read(r) else None)
    link.click()
    landed_on_the_message()
    # the newest page (200) did not hold it: the page read back (the `previous` link) until it did
    assert len(reads) == 2 and "latest=1" in reads[0] and "cursor=" in reads[1], reads

    # The header's live search, from another page: the option says "Message" and opens the same place.
    page.goto(f"{base}/files/")
    box = page.get_by_role("combobox", name="Search files, folders and notes")
    box.click()
    box.press_sequentially("quokka", delay=40)
    options = page.get_by_role("listbox", name="Search results").get_by_role("option")
    expect(options.first).to_have_attribute("data-kind", "message")
    expect(options.first.locator(".ss-kind")).to_have_text("Message")
    expect(options.first.locator(".ss-name")).to_have_text("Island trip")
    # the matched word, marked whole by the server (quokkafest for "quokka")
    expect(options.first.locator(".ss-snippet mark")).to_have_text(re.compile(r"^quokka"))
    options.first.click()
    landed_on_the_message()

    # Another message of the same chat from the header: the open chat scrolls to it, without reloading.
    page.evaluate("() => { window.notReloaded = true; }")
    box.fill("wombatgala")
    expect(options.first).to_have_attribute("data-kind", "message")
    options.first.click()
    page.wait_for_url(re.compile(rf"/chats/{chat_id}/#message-{other_id}$"))
    other = page.locator(f"[data-testid=message][data-id='{other_id}']")
    expect(other).to_be_in_viewport()
    expect(other).to_have_class(re.compile(r"\bfound\b"))
    expect(target).not_to_have_class(re.compile(r"\bfound\b"))
    assert page.evaluate("() => window.notReloaded === true")

    # The search page's filters know chat messages: a type of their own, and dates (sent within them).
    page.goto(f"{base}/search/?q=quokkafest")
    expect(results).to_have_count(1)
    page.get_by_label("Chat messages").uncheck()
    expect(page).to_have_url(re.compile(r"\?q=quokkafest&type=file&type=folder&type=note$"))
    expect(results).to_have_count(0)
    page.get_by_label("Chat messages").check()
    expect(results).to_have_count(1)
    today = date.today()
    page.locator("#f-after").fill((today - timedelta(days=1)).isoformat())
    page.locator("#f-before").fill((today + timedelta(days=1)).isoformat())
    page.locator("#f-before").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"after=.*before="))
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-kind", "message")
    expect(results.first.get_by_role("link", name="Island trip")).to_have_attribute(
        "href", f"/chats/{chat_id}/#message-{message_id}"
    )
    page.locator("#f-after").fill((today + timedelta(days=1)).isoformat())
    page.locator("#f-after").dispatch_event("change")
    expect(results).to_have_count(0)

    # A link to a message that is not in the chat: every message read, and the page says so.
    page.goto(f"{base}/chats/{chat_id}/#message-{uuid.uuid4()}")
    expect(page.get_by_test_id("chat-page-message")).to_have_text("The linked message is not in this chat.")
    expect(messages(page)).to_have_count(231)
    expect(page.locator("[data-testid=message].found")).to_have_count(0)
    assert not page.problems(), page.problems()


def test_an_assistants_reply_appears_live_and_attachments_go_to_a_chosen_folder(page, live_server, screenshot):
    """The reply another client posts (an assistant program, here the API with an app password) shows in the open
    chat without a reload; the composer names where attachments go, and another folder can be chosen, which
    this browser remembers until that folder is gone; the page that explains assistants opens from the chat."""
    base = live_server.url
    account = signed_in(page, base, "ines")
    page.goto(f"{base}/chats/")
    chat_id = new_chat(page, "Questions")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    trips = client.post("/api/v1/folders/", {"name": "Trips"}, format="json").json()
    made = client.post("/api/v1/auth/app-passwords/", {"name": "assistant"}, format="json").json()
    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"ines:{made['password']}".encode()).decode())

    # The user asks; the assistant (another program) answers through the API: the reply appears by itself.
    text = page.get_by_test_id("composer-text")
    text.fill("What should I pack?")
    text.press("Enter")
    expect(messages(page)).to_have_count(1)
    question = Message.objects.get()
    reply = bot.post(
        f"/api/v1/chats/{chat_id}/messages/",
        {"role": "assistant", "content": "A raincoat.", "reply_to": str(question.pk)},
        format="json",
    )
    assert reply.status_code == 201, reply.content
    expect(messages(page)).to_have_count(2, timeout=15_000)
    answer = messages(page).last
    expect(answer).to_have_attribute("data-role", "assistant")
    expect(answer.locator(".message-role")).to_have_text("Assistant")
    expect(answer.get_by_test_id("message-text")).to_have_text("A raincoat.")
    page.wait_for_timeout(4500)  # another look for newer messages: nothing twice
    expect(messages(page)).to_have_count(2)

    # Choose where attachments go: a folder of mine instead of "Chat attachments".
    page.set_input_files("#attach-input", [{"name": "list.txt", "mimeType": "text/plain", "buffer": b"socks"}])
    where = page.get_by_test_id("composer-where")
    expect(where).to_contain_text("“Chat attachments” (made when you send the first one)")
    page.get_by_test_id("composer-where-change").click()
    dialog = page.get_by_test_id("chat-folder-dialog")
    expect(dialog).to_be_visible()
    select = page.get_by_test_id("chat-folder-select")
    expect(select.locator("option")).to_have_count(2)
    expect(select.locator("option").first).to_have_text("Chat attachments (default)")
    select.select_option(label="Trips")
    screenshot(page, "chat-attachments-folder", sizes=("desktop",))
    dialog.get_by_role("button", name="Use this folder").click()
    expect(dialog).to_be_hidden()
    link = page.get_by_test_id("composer-where-link")
    expect(link).to_have_text("“Trips”")
    expect(link).to_have_attribute("href", f"/files/{trips['id']}/")
    text.fill("the list")
    text.press("Enter")
    expect(messages(page)).to_have_count(3)
    assert str(File.objects.get().folder_id) == trips["id"]
    assert not Folder.objects.filter(parent=None).exclude(pk=trips["id"]).exists()  # no "Chat attachments"

    # The choice is remembered after a reload; once the folder is in the trash, the default comes back.
    page.reload()
    page.set_input_files("#attach-input", [{"name": "more.txt", "mimeType": "text/plain", "buffer": b"m"}])
    expect(page.get_by_test_id("composer-where-link")).to_have_text("“Trips”")
    assert client.delete(f"/api/v1/folders/{trips['id']}/").status_code == 204
    page.reload()
    page.set_input_files("#attach-input", [{"name": "more.txt", "mimeType": "text/plain", "buffer": b"m"}])
    expect(where).to_contain_text("“Chat attachments” (made when you send the first one)")
    page.get_by_role("button", name="Remove “more.txt”").click()

    # How to connect an assistant: from the chat page to the docs, and the example program.
    page.get_by_role("link", name="How to connect one").click()
    page.wait_for_url(f"{base}/chats/assistant/")
    doc = page.get_by_test_id("assistant-doc")
    expect(doc.get_by_role("heading", level=1)).to_have_text("Connecting an assistant to your chats")
    expect(doc).to_contain_text("there is no built-in AI")
    expect(doc.get_by_role("link", name="examples/assistant_echo.py")).to_have_attribute(
        "href", "examples/assistant_echo.py"
    )
    screenshot(page, "chat-assistant-doc", sizes=("desktop",))
    example = page.request.get(f"{base}/chats/assistant/examples/assistant_echo.py")
    assert example.ok and "def main(" in example.text()
    # (the only console error: the 404 that told the page the chosen folder was gone)
    problems = [p for p in page.problems() if f"/api/v1/folders/{trips['id']}/" not in p]
    assert not problems, problems
