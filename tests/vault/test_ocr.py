"""Text recognition (Tesseract) in the sandboxed derivation worker: text rendered into images and into an
image-only PDF is read back; hostile images fail with a recorded reason; without Tesseract it is unavailable.

The words feed the blind index like a PDF's text layer (issue: OCR); this part reads them.
"""

from __future__ import annotations

import io
import logging
import random
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from vault.derived import derive, preview_worker

FONTS = Path("/usr/share/fonts/truetype")


def tesseract_needed() -> None:
    if not shutil.which("tesseract") or "eng" not in derive.ocr_languages():
        pytest.skip("Tesseract with English is not installed (Debian: apt-get install tesseract-ocr)")


@pytest.fixture(autouse=True)
def _fresh_languages(monkeypatch):
    monkeypatch.setattr(derive, "_languages", None)


def font(name: str, size: int):
    path = FONTS / name
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


def rendered(lines: list[str], *, face: str, size: int, angle: float = 0, noise: float = 0) -> Image.Image:
    image = Image.new("L", (1800, 140 + len(lines) * size * 2), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((60, 60 + row * size * 2), line, fill=0, font=font(face, size))
    if noise:
        pixels = image.load()
        rng = random.Random(7)
        for _ in range(int(image.width * image.height * noise)):
            pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((0, 255))
    if angle:
        image = image.rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC)
    return image


def encoded(image: Image.Image, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def words_read(kind: str, data: bytes) -> set[str]:
    answer = derive.ocr_read(kind, [data], languages=["eng"])
    assert not answer.error, answer.error
    return set(derive.text_words([answer.text]))


CASES = {
    "sans-48": {"face": "dejavu/DejaVuSans.ttf", "size": 48},
    "serif-32": {"face": "dejavu/DejaVuSerif.ttf", "size": 32},
    "mono-28": {"face": "liberation/LiberationMono-Regular.ttf", "size": 28},
    "sans-72-rotated": {"face": "dejavu/DejaVuSans.ttf", "size": 72, "angle": 4},
    "serif-40-noisy": {"face": "dejavu/DejaVuSerif.ttf", "size": 40, "noise": 0.02},
}


@pytest.mark.parametrize("style", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("kind", ["PNG", "JPEG", "TIFF", "WEBP"])
def test_text_in_an_image_is_read(style, kind):
    tesseract_needed()
    image = rendered(["Receipt for kayak rental", "Total paid: 42 euros"], **style)
    found = words_read("image", encoded(image.convert("RGB") if kind == "JPEG" else image, kind))
    assert {"receipt", "kayak", "rental", "total"} <= found, found


def test_an_image_only_pdf_is_read_page_by_page():
    tesseract_needed()
    pages = [
        rendered(["Quarterly invoice zebra"], face="dejavu/DejaVuSans.ttf", size=48).convert("RGB"),
        rendered(["Second page mentions walrus"], face="dejavu/DejaVuSerif.ttf", size=40).convert("RGB"),
    ]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    found = words_read("pdf", out.getvalue())
    assert {"quarterly", "invoice", "zebra", "walrus"} <= found, found


def _bomb(side: int) -> bytes:
    """A PNG of ``side`` x ``side`` white pixels: a few kilobytes that decode to side² bytes."""
    return encoded(Image.new("1", (side, side), 1))


HOSTILE = {
    "20000-square": (_bomb(20_000), preview_worker.TOO_LARGE_OCR),
    "9000-square": (_bomb(9_000), preview_worker.TOO_LARGE_OCR),
    "truncated": (
        encoded(rendered(["cut short"], face="dejavu/DejaVuSans.ttf", size=40))[:300],
        preview_worker.BAD_IMAGE,
    ),
    "not-an-image": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, preview_worker.BAD_IMAGE),
}


@pytest.mark.parametrize(("data", "reason"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_image_fails_with_its_reason(data, reason):
    tesseract_needed()
    answer = derive.ocr_read("image", [data], languages=["eng"])
    assert answer.error == reason and answer.text == ""


def test_a_pdf_that_is_not_one_fails_with_its_reason():
    tesseract_needed()
    answer = derive.ocr_read("pdf", [b"%PDF-1.7\n garbage"], languages=["eng"])
    assert answer.error == preview_worker.BAD_PDF


def test_only_installed_languages_are_asked_for():
    tesseract_needed()
    answer = derive.ocr_read("image", [_bomb(10)], languages=["xxx", "zzz_qqq"])
    assert answer.error == preview_worker.NO_OCR


def test_without_tesseract_recognition_is_unavailable_and_said_once(monkeypatch, caplog):
    monkeypatch.setattr(derive.shutil, "which", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="vault.derived.derive"):
        for _ in range(3):
            answer = derive.ocr_read("image", [_bomb(10)], languages=["eng"])
            assert answer.error == preview_worker.NO_OCR
    assert derive.ocr_languages() == []
    said = [record for record in caplog.records if "Text recognition is unavailable" in record.getMessage()]
    assert len(said) == 1
