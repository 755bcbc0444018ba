"""A large upload in the file browser is resumable (static/js/vault/resumable.js, tus at /api/v1/uploads/): a page
reload in the middle of a 30 MiB upload, then the same file chosen again, completes it without sending again the
bytes the server had already stored (checked against the server's own offsets)."""

import hashlib
import os
import time

from playwright.sync_api import expect

from tests.browser.test_upload_flow import content, files_in, item
from tests.browser.test_vault_flow import signed_in, throttle, unthrottle
from vault.models import Upload

SIZE = 30 * 2**20


def _stored_offset(at_least: int, timeout: float = 60) -> int:
    """The server's offset once it reached ``at_least`` and no request is appending (the lease is free)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = Upload.objects.first()
        if upload is not None and upload.offset >= at_least and upload.busy_until is None:
            return upload.offset
        time.sleep(0.05)
    raise AssertionError(f"the server never stored {at_least} bytes")


def test_a_reload_in_the_middle_of_a_30_mib_upload_resumes_from_the_servers_offset(page, live_server, tmp_path):
    base = live_server.url
    signed_in(page, base, "rhea")
    data = os.urandom(SIZE)
    path = tmp_path / "holiday video.mp4"
    path.write_bytes(data)
    page.goto(f"{base}/files/")
    expect(page.locator("#items-empty")).to_be_visible()
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page with an upload running?"

    cdp = throttle(page, 6 * 2**20)  # about 5 s for the whole file: a reload lands in the middle
    page.set_input_files("#upload-input", str(path))
    expect(item(page, "holiday video.mp4")).to_have_attribute("data-state", "uploading")
    _stored_offset(8 * 2**20)  # two pieces stored at least
    page.reload()
    unthrottle(cdp)
    stored = _stored_offset(8 * 2**20)
    assert stored < SIZE and Upload.objects.count() == 1

    patches = []  # every PATCH after the reload
    page.on("requestfinished", lambda request: request.method == "PATCH" and patches.append(request))
    expect(page.locator("#items-empty")).to_be_visible()
    page.set_input_files("#upload-input", str(path))  # the same file, chosen again
    row = item(page, "holiday video.mp4")
    expect(row).to_have_attribute("data-state", "done", timeout=60_000)
    expect(row.locator(".upload-status")).to_have_text("Uploaded")

    # (offset sent from, bytes the server took): its answer's Upload-Offset less the request's
    sent = [(int(r.headers["upload-offset"]), int(r.response().headers["upload-offset"])) for r in patches]
    sent = [(start, end - start) for start, end in sent]
    assert sent and sent[0][0] == stored  # it went on from the server's offset
    assert sum(size for _, size in sent) == SIZE - stored  # and no stored byte was sent again
    assert all(offset + size == following for (offset, size), (following, _) in zip(sent, sent[1:], strict=False))
    upload = Upload.objects.get()  # the same upload all along
    assert upload.finished and upload.offset == SIZE
    stored_file = files_in(page, base)["holiday video.mp4"]
    assert hashlib.sha256(content(page, base, stored_file)).digest() == hashlib.sha256(data).digest()
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('locker.upload:')).length") == 0
    assert not page.problems()
