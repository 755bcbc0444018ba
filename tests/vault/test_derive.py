"""Derived data at upload: encrypted thumbnails (images, PDFs) and content words for search.

Every input is made here, in code: images with Pillow, PDFs by hand (a real text object,
so that text extraction has something to find), damaged and hostile files by cutting or
forging bytes.
"""

import io
import logging
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import pytest
from django.conf import settings as django_settings
from PIL import Image, ImageCms
from rest_framework.test import APIClient

from locker.crypto import DecryptionError
from tests.at_rest import files_holding, tables_holding
from tests.vault.conftest import blob_files, keys_for, make_upload
from vault import common
from vault.derived import derive, preview_worker
from vault.files import selectors, services
from vault.models import Derived, FileVersion, SearchToken
from vault.search import selectors as search_selectors
from vault.transfers.fsck import vault_fsck
from vault.trash import services as trash

pytestmark = pytest.mark.django_db


# --- inputs ------------------------------------------------------------------------------------


def jpeg(size=(1600, 800), *, orientation=None, icc=False) -> bytes:
    """A JPEG, left half red and right half blue, with EXIF (camera, GPS) and optionally an orientation."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPS
    if orientation:
        exif[0x0112] = orientation
    extra = {"icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()} if icc else {}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90, **extra)
    return out.getvalue()


def png(size=(300, 200), mode="RGBA", color=(0, 0, 255, 128)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int, *, pixels: bool = False) -> bytes:
    """A grey PNG whose header claims ``width`` x ``height``; with ``pixels``, all of them (zeros compress 1000:1)."""
    raw = zlib.compress(b"\0" * ((width + 1) * height) if pixels else b"\0" * 1000, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", raw) + _png_chunk(b"IEND", b"")


def pdf(pages: list[str], *, media_box=(612, 792)) -> bytes:
    """A valid PDF with one line of real text (Helvetica) per page."""
    fonts = 3 + 2 * len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    box = " ".join(str(v) for v in media_box)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode()]
    for i, text in enumerate(pages):
        stream = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {box}] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {fonts} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(2000)


# --- helpers ---------------------------------------------------------------------------------------


def upload(user, keys, name, data, **kwargs):
    return services.file_upload(user=user, keys=keys, upload=make_upload(keys, name, data), **kwargs)


def derived_of(file) -> Derived:
    file.refresh_from_db()
    return Derived.objects.get(version_id=file.current_version_id)


def thumbnail(keys, file) -> Image.Image:
    file = selectors.file_get(user=file.owner, file_id=file.pk)
    data, mime, _etag = derive.preview_read(keys=keys, file=file)
    image = Image.open(io.BytesIO(data))
    assert image.format == {"image/webp": "WEBP", "image/jpeg": "JPEG"}[mime]
    return image


def no_preview_reason(keys, file) -> str:
    file = selectors.file_get(user=file.owner, file_id=file.pk)
    with pytest.raises(derive.NoPreview) as info:
        derive.preview_read(keys=keys, file=file)
    return info.value.detail


def found(user, keys, query) -> list[str]:
    return [
        keys.file_name(r["item"]) for r in search_selectors.search(user=user, keys=keys, query=query, kinds=["file"])
    ]


def assert_no_metadata(image: Image.Image) -> None:
    assert not image.getexif() and not image.info.get("exif")
    assert not any(key in image.info for key in ("icc_profile", "xmp", "XML:com.adobe.xmp", "comment"))


# --- thumbnails ------------------------------------------------------------------------------------


def test_jpeg_is_turned_by_its_exif_orientation_and_loses_all_metadata(user, keys, blob_dir):
    """GIVEN a wide photo whose EXIF says "rotate 90° clockwise", with camera, GPS and ICC data."""
    file = upload(user, keys, "photo.jpg", jpeg((1600, 800), orientation=6, icc=True)).file
    image = thumbnail(keys, file)
    assert image.size == (256, 512)  # tall now, within 512 x 512
    assert_no_metadata(image)
    rgb = image.convert("RGB")
    top, bottom = rgb.getpixel((128, 20)), rgb.getpixel((128, 490))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # the left (red) half went to the top
    derived = derived_of(file)
    assert derived.preview_mime == "image/webp" and derived.preview_size > 0 and not derived.preview_error
    stored = (blob_dir / derived.preview_blob).read_bytes()
    assert stored.startswith(b"LKS1") and b"RIFF" not in stored and b"WEBP" not in stored  # encrypted like any blob
    assert derived.preview_blob.split("/")[0] == str(user.pk) and "photo" not in derived.preview_blob


def test_png_keeps_transparency_and_small_images_are_not_enlarged(user, keys):
    image = thumbnail(keys, upload(user, keys, "logo.png", png((300, 200))).file)
    assert image.size == (300, 200) and image.mode == "RGBA"
    assert image.getpixel((10, 10))[3] == 128
    assert thumbnail(keys, upload(user, keys, "wide.png", png((2048, 1024), "RGB", (9, 9, 9))).file).size == (512, 256)


def test_pdf_first_page_is_the_thumbnail(user, keys):
    file = upload(user, keys, "letter.pdf", pdf(["First page", "Second page"])).file
    assert file.mime_type == "application/pdf"
    image = thumbnail(keys, file)
    assert image.size == (396, 512)  # US letter, portrait
    assert_no_metadata(image)
    assert derived_of(file).text_indexed


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("cut.jpg", jpeg((800, 600))[:2000], preview_worker.BAD_IMAGE),
        ("noise.png", b"\x89PNG\r\n\x1a\n" + os.urandom(3000), preview_worker.BAD_IMAGE),
        ("claims.png", png_claiming(100_000, 100_000), preview_worker.TOO_LARGE_IMAGE),  # a 10-gigapixel header
        ("bomb.png", png_claiming(8000, 8000, pixels=True), preview_worker.TOO_LARGE_IMAGE),  # 64 MP in ~60 KB
        ("broken.pdf", b"%PDF-1.7\n" + os.urandom(3000), preview_worker.BAD_PDF),
        ("poster.pdf", pdf(["Huge"], media_box=(20000, 20000)), preview_worker.PDF_PAGE_SIZE),
    ],
    ids=["truncated-jpeg", "garbage-png", "10-gigapixel-header", "png-bomb", "garbage-pdf", "huge-pdf-page"],
)
def test_damaged_or_hostile_input_gives_a_reason_not_an_error(user, keys, name, data, reason):
    started = time.monotonic()
    result = upload(user, keys, name, data)
    assert time.monotonic() - started < 10
    assert result.version.number == 1 and FileVersion.objects.filter(pk=result.version.pk).exists()
    assert no_preview_reason(keys, result.file) == reason == derived_of(result.file).preview_error
    assert not derived_of(result.file).preview_blob and len(reason) <= 200


def test_decompression_bomb_warnings_are_errors(monkeypatch):
    """Pillow warns between 1x and 2x its pixel limit and raises above: both mean "too large"."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # restored after the test
    monkeypatch.setattr(preview_worker, "MAX_IMAGE_PIXELS", 1000)
    for size in ((40, 40), (100, 100)):  # 1.6x (warning), 10x (error)
        with pytest.raises(preview_worker.NoPreview) as info:
            preview_worker.image_thumbnail(png(size, "RGB", (1, 2, 3)))
        assert info.value.reason == preview_worker.TOO_LARGE_IMAGE


def test_inputs_over_the_size_caps_are_not_parsed(user, keys, monkeypatch):
    monkeypatch.setattr(derive, "MAX_IMAGE_BYTES", 1000)
    monkeypatch.setattr(derive, "MAX_PDF_BYTES", 500)
    monkeypatch.setattr(derive, "run_worker", lambda *a, **k: pytest.fail("a worker ran"))
    for name, data in (("big.jpg", jpeg((400, 300))), ("big.pdf", pdf(["x" * 600]))):
        assert no_preview_reason(keys, upload(user, keys, name, data).file) == "The file is too large to preview."


def test_a_slow_worker_is_killed_and_the_upload_goes_on(user, keys, settings):
    settings.LOCKER_PREVIEW_TIMEOUT = 0.01
    started = time.monotonic()
    file = upload(user, keys, "slow.png", png()).file
    assert time.monotonic() - started < 5
    assert no_preview_reason(keys, file) == derive.PREVIEW_TOO_SLOW


def test_a_dying_worker_and_a_busy_server_give_reasons(user, keys, settings, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr("sys.executable", "/bin/false")  # the worker exits at once, without an answer
        assert no_preview_reason(keys, upload(user, keys, "a.png", png()).file) == derive.PREVIEW_FAILED
    settings.LOCKER_PREVIEW_TIMEOUT = 0.05
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    monkeypatch.setattr(derive, "_slots", slots)
    assert no_preview_reason(keys, upload(user, keys, "b.png", png()).file) == derive.PREVIEW_BUSY


def test_the_worker_cannot_write_files_and_its_answer_is_checked(tmp_path):
    target = tmp_path / "leak.txt"
    code = (
        "import sys, resource; sys.path.insert(0, sys.argv[1]); from vault.derived.preview_worker import _limit_self; "
        "_limit_self(); assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0; "
        "open(sys.argv[2], 'wb').write(b'plaintext' * 1000)"
    )
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", code, str(django_settings.BASE_DIR), str(target)], capture_output=True, timeout=30
    )
    assert done.returncode != 0 and b"File too large" in done.stderr
    assert not target.exists() or target.stat().st_size == 0
    assert derive._read_header(b'{"mime": "image/webp", "size": 10, "text_size": 0, "error": ""}')
    for forged in (
        b'{"mime": "text/html", "size": 10, "text_size": 0, "error": ""}',  # a type the endpoint must never serve
        b'{"mime": "image/webp", "size": 999999999, "text_size": 0, "error": ""}',
        b'{"mime": "image/webp", "size": -1, "text_size": 0, "error": ""}',
        b'{"mime": "", "size": 10, "text_size": 0, "error": ""}',
        b"[1, 2]",
        b"not json",
    ):
        assert derive._read_header(forged) is None


def test_an_unexpected_failure_is_logged_without_content_and_the_upload_succeeds(user, keys, monkeypatch, caplog):
    marker = "LEAKY" + os.urandom(4).hex()

    def explode(pieces):
        raise RuntimeError(f"cannot handle {marker}")

    monkeypatch.setattr(derive, "text_words", explode)
    with caplog.at_level(logging.DEBUG):
        result = upload(user, keys, "notes.txt", f"words {marker}".encode())
    assert result.version.number == 1
    derived = derived_of(result.file)
    assert derived.preview_error == derive.PREVIEW_FAILED and not derived.text_indexed
    assert "RuntimeError" in caplog.text and str(result.version.pk) in caplog.text
    assert marker not in caplog.text


def test_other_types_skip_derivation(user, keys, monkeypatch):
    monkeypatch.setattr(derive, "_derive", lambda **kwargs: pytest.fail("derived"))
    video = upload(user, keys, "clip.mp4", MP4).file
    blob = upload(user, keys, "data.bin", os.urandom(5000)).file
    assert video.mime_type == "video/mp4" and not Derived.objects.exists()
    assert no_preview_reason(keys, video) == "Videos have no preview."
    assert no_preview_reason(keys, blob) == "No preview for this type of file."


def test_the_thumbnail_is_bound_to_its_version(user, keys):
    """A thumbnail blob (or its wrapped key) moved to another version's row does not decrypt."""
    first = upload(user, keys, "a.png", png()).file
    second = upload(user, keys, "b.png", png((100, 100))).file
    a, b = derived_of(first), derived_of(second)
    Derived.objects.filter(pk=b.pk).update(preview_blob=a.preview_blob, preview_key_wrapped=a.preview_key_wrapped)
    with pytest.raises(DecryptionError):
        thumbnail(keys, second)
    Derived.objects.filter(pk=b.pk).update(preview_key_wrapped=b.preview_key_wrapped)  # right key, wrong blob
    with pytest.raises(DecryptionError):
        thumbnail(keys, second)


# --- text for search ---------------------------------------------------------------------------------


def test_text_content_is_searchable_and_follows_the_current_version(user, keys):
    file = upload(user, keys, "diary.txt", b"Today I saw a pelican by the harbour.\n").file
    assert derived_of(file).text_indexed and not derived_of(file).preview_blob
    assert found(user, keys, "pelican") == ["diary.txt"]
    assert found(user, keys, "harb") == ["diary.txt"]  # prefixes too
    assert found(user, keys, "diary pelican") == ["diary.txt"]  # name AND content
    upload(user, keys, "diary.txt", b"Nothing but cormorants today.\n")  # version 2
    assert found(user, keys, "pelican") == []
    assert found(user, keys, "cormorants") == ["diary.txt"]
    services.file_version_restore(user=user, keys=keys, file_id=file.pk, number=1)
    assert found(user, keys, "pelican") == ["diary.txt"] and found(user, keys, "cormorants") == []
    upload(user, keys, "diary.txt", os.urandom(3000) + b"\xff")  # binary now: no words at all
    assert found(user, keys, "pelican") == []
    assert found(user, keys, "diary") == ["diary.txt"]


def test_renames_retags_and_restores_keep_the_content_searchable(user, keys):
    text = upload(user, keys, "a.json", b'{"animal": "walrus"}').file
    paper = upload(user, keys, "b.pdf", pdf(["The okapi lives in forests"])).file
    assert text.mime_type == "application/json"
    services.file_update(user=user, keys=keys, file_id=text.pk, name="renamed.json")
    services.file_update(user=user, keys=keys, file_id=paper.pk, tags=["zoo"])
    assert found(user, keys, "walrus") == ["renamed.json"]
    assert found(user, keys, "okapi zoo") == ["b.pdf"]
    for file in (text, paper):
        trash.item_trash(user=user, kind="file", item_id=file.pk)
        trash.trash_restore(user=user, keys=keys, item_id=file.pk)
    assert found(user, keys, "walrus") == ["renamed.json"] and found(user, keys, "okapi") == ["b.pdf"]
    assert Derived.objects.count() == 2  # reading the words again made no second thumbnail


def test_a_pdfs_text_is_searchable(user, keys):
    upload(user, keys, "report.pdf", pdf(["Quarterly figures", "The marmoset budget"]))
    assert found(user, keys, "marmoset") == ["report.pdf"]
    assert found(user, keys, "quarterly budget") == ["report.pdf"]


def test_words_are_split_per_text_not_per_chunk():
    data = "Crème brûlée, naïve café! 2025-report".encode()
    expected = ["creme", "brulee", "naive", "cafe", "2025", "report"]
    for cut in range(1, len(data)):  # through words and through multi-byte characters
        assert derive.text_words([data[:cut], data[cut:]]) == expected
    many = " ".join(f"w{i}" for i in range(derive.MAX_CONTENT_WORDS + 500)).encode()
    assert len(derive.text_words([many])) == derive.MAX_CONTENT_WORDS
    assert derive.text_words([b"ok " + b"x" * (derive.MAX_WORD_LENGTH + 1)]) == ["ok"]


def test_only_the_first_bytes_of_a_text_are_read(user, keys, monkeypatch):
    monkeypatch.setattr(derive, "MAX_TEXT_BYTES", 100)
    upload(user, keys, "long.txt", b"early " + b"filler " * 30 + b"lateword")
    assert found(user, keys, "early") == ["long.txt"] and found(user, keys, "lateword") == []


# --- storage: blobs go with their versions --------------------------------------------------------


def test_purge_prune_and_wipe_delete_thumbnails(user, keys, blob_dir, django_capture_on_commit_callbacks):
    file = upload(user, keys, "p.png", png()).file
    assert len(blob_files(blob_dir)) == 2  # content + thumbnail
    trash.item_trash(user=user, kind="file", item_id=file.pk)
    with django_capture_on_commit_callbacks(execute=True):
        trash.trash_purge(user=user, item_id=file.pk)
    assert blob_files(blob_dir) == [] and not Derived.objects.exists()

    user.vault_keep_versions = 1
    user.save(update_fields=["vault_keep_versions"])
    upload(user, keys, "q.png", png())
    with django_capture_on_commit_callbacks(execute=True):
        upload(user, keys, "q.png", png((64, 64)))
    [derived] = Derived.objects.all()
    version = FileVersion.objects.get()
    assert sorted(p.relative_to(blob_dir).as_posix() for p in blob_files(blob_dir)) == sorted(
        [version.blob, derived.preview_blob]
    )

    with django_capture_on_commit_callbacks(execute=True):
        trash.vault_wipe(user=user)
    assert blob_files(blob_dir) == []


def test_a_failed_upload_leaves_no_thumbnail(user, keys, blob_dir):
    user.storage_quota = 100
    user.save(update_fields=["storage_quota"])
    with pytest.raises(common.QuotaExceeded):
        upload(user, keys, "big.png", png())
    assert blob_files(blob_dir) == [] and not Derived.objects.exists()


def test_thumbnails_are_not_counted_in_the_quota_and_fsck_knows_them(user, keys, blob_dir):
    result = upload(user, keys, "c.png", png())
    user.refresh_from_db()
    assert user.storage_used == result.version.stored_size
    assert vault_fsck(remove=True, min_age_seconds=0).clean and len(blob_files(blob_dir)) == 2


# --- the API -------------------------------------------------------------------------------------------


def bearer(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.login(client)['access']}")
    return client


def api_upload(client, name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/api/v1/files/", {"file": [SimpleUploadedFile(name, data)]}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()[0]["file"]


def test_preview_endpoint(account, other_account):
    api, other = bearer(account), bearer(other_account)
    photo = api_upload(api, "photo.jpg", jpeg((1200, 900), orientation=6))
    assert photo["preview_url"] == f"http://testserver/api/v1/files/{photo['id']}/preview"
    response = api.get(photo["preview_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp" and response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"].startswith("private")
    assert response["Content-Length"] == str(len(response.content))
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (384, 512)
    assert_no_metadata(image)
    assert api.get(photo["preview_url"], HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert api.get(f"/api/v1/files/{photo['id']}/").json()["preview_url"] == photo["preview_url"]

    binary = api_upload(api, "x.bin", os.urandom(1000))
    assert binary["preview_url"] is None
    missing = api.get(f"/api/v1/files/{binary['id']}/preview")
    assert missing.status_code == 404
    assert missing.json() == {"code": "no_preview", "detail": "No preview for this type of file."}
    damaged = api_upload(api, "cut.jpg", jpeg()[:1500])
    assert damaged["preview_url"] is None
    assert api.get(f"/api/v1/files/{damaged['id']}/preview").json()["detail"] == preview_worker.BAD_IMAGE

    stolen = other.get(photo["preview_url"])
    assert stolen.status_code == 404 and stolen.json()["code"] == "not_found"
    assert bearer(account).get("/api/v1/files/", {"all": "1"}).json()["count"] == 3


def test_file_list_with_previews_keeps_a_constant_number_of_queries(account, django_assert_max_num_queries):
    api = bearer(account)
    for i in range(2):
        api_upload(api, f"a{i}.png", png((50 + i, 50)))
    api_upload(api, "t.txt", b"text")
    with django_assert_max_num_queries(12) as small:
        files = api.get("/api/v1/files/").json()["results"]
    assert sum(f["preview_url"] is not None for f in files) == 2
    for i in range(3):
        api_upload(api, f"b{i}.pdf", pdf([f"page {i}"]))
    with django_assert_max_num_queries(12) as large:
        files = api.get("/api/v1/files/").json()["results"]
    assert sum(f["preview_url"] is not None for f in files) == 5
    assert len(large.captured_queries) == len(small.captured_queries)


# --- nothing readable at rest -------------------------------------------------------------------------


def test_extracted_text_is_never_stored(account, blob_dir, tmp_path, monkeypatch, caplog):
    """A word inside a text file and a PDF is in no database value, blob, temp file or log line."""
    system_tmp = tmp_path / "systmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    user, keys = account.user, keys_for(account)
    marker = "QUOKKA" + os.urandom(5).hex().upper()
    with caplog.at_level(logging.DEBUG):
        text = upload(user, keys, "plain.txt", f"a line with {marker} inside\n".encode() * 50).file
        upload(user, keys, "paper.pdf", pdf([f"Figures {marker} here"]))
        services.file_update(user=user, keys=keys, file_id=text.pk, name="renamed.txt")  # words read again
    assert sorted(found(user, keys, marker)) == ["paper.pdf", "renamed.txt"]  # both are searchable...
    assert SearchToken.objects.filter(owner=user).exists() and Derived.objects.filter(text_indexed=True).count() == 2

    assert len(blob_files(blob_dir)) == 3  # two contents, one thumbnail
    temporary = [p for p in system_tmp.rglob("*") if p.is_file()]
    assert files_holding(marker, [*blob_files(blob_dir), *temporary]) == []  # ...and yet nowhere at rest
    assert tables_holding(marker) == []
    assert marker.lower() not in caplog.text.lower()
