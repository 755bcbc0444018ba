"""Thumbnails (and a PDF's text) from untrusted bytes, in a separate short-lived process.

``vault.derived.derive`` runs this file as ``python -I -S vault/derived/preview_worker.py SITE...`` for every
image or PDF it previews (``-S``: no site processing, which took two thirds of the interpreter's start; the
directories of the libraries it needs come as arguments): it writes a one-line JSON request and the plaintext
to the worker's stdin, and reads the result from its stdout. Parsing hostile files (decompression bombs, malformed PDFs,
bugs in image codecs) therefore happens away from the web process: a crash, a hang or a
runaway allocation costs one preview, not the server. PDFium is not thread-safe either, and
each worker is single-threaded.

The worker limits itself before it reads anything: no core dumps (they would hold
plaintext), no file writes (``RLIMIT_FSIZE`` = 0: nothing reaches a temp file), bounded
memory and CPU time; its parent also kills it after a wall-clock timeout. It imports
nothing from Django or the project and never sees a key or a name: bytes in, bytes out.

Protocol::

    stdin   {"kind": "image" | "pdf" | "ocr-image" | "ocr-pdf", "text": bool, "render": bool, "max_input": int,
             "languages": [str]}\\n
            then the file's bytes until EOF
    stdout  {"mime": str, "size": int, "text_size": int, "error": str}\\n
            then ``size`` bytes of thumbnail (WebP or JPEG, no metadata)
            and ``text_size`` bytes of UTF-8 text (a PDF's text layer; what Tesseract read for "ocr-*")

"ocr-image" and "ocr-pdf" run ``tesseract`` (Debian's tesseract-ocr) as this worker's child, so under its limits:
the image goes to it on stdin as PNG and the text comes back on stdout, no file in between. An image-only PDF's
pages are rendered at 300 dpi, the first ``OCR_PDF_PAGES``; a page with a text layer gives that instead.

``error`` is a short reason shown to the user when there is no thumbnail ("" otherwise).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import warnings

THUMBNAIL_SIZE = 512  # fits within 512 x 512, aspect ratio kept
MAX_IMAGE_PIXELS = 128 * 1024 * 1024  # what Pillow agrees to open at all (about 134 megapixels)
MAX_DECODED_PIXELS = 48 * 1024 * 1024  # what is decoded in full (JPEGs are first reduced by up to 8x)
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "ICO", "AVIF")
PDF_RENDER_SIDE = 2 * THUMBNAIL_SIZE  # longest side of the rendered first page, in pixels
PDF_MAX_SCALE = 4.0  # a tiny page is not blown up beyond 4x (288 dpi)
PDF_MAX_PAGE_POINTS = 14400  # 200 inches: the largest page the PDF format allows
PDF_TEXT_PAGES = 50
PDF_TEXT_CHARS = 1_000_000
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of writable memory (RLIMIT_DATA)
CPU_SECONDS = 60

TOO_LARGE_IMAGE = "The image is too large to preview."
BAD_IMAGE = "The image could not be read (damaged or unsupported format)."
BAD_PDF = "The PDF could not be read (damaged or unsupported)."
PDF_PASSWORD = "The PDF is password-protected."
PDF_EMPTY = "The PDF has no pages."
PDF_PAGE_SIZE = "The PDF's first page has an unusable size."
TOO_LARGE_INPUT = "The file is too large to preview."

# Text recognition (OCR) with Tesseract, run by this worker as a child of its own (it inherits the limits)
OCR_MAX_PIXELS = 40 * 1024 * 1024  # what is handed to Tesseract: a larger image is reduced to this
OCR_PDF_PAGES = 20  # pages of an image-only PDF read
OCR_PDF_DPI = 300
OCR_TEXT_CHARS = 1_000_000
OCR_NICENESS = 10  # added to the worker's nice value (Tesseract inherits it)
OCR_LANGUAGE = re.compile(r"[a-z]{3}(_[a-z]{3,4})?")  # Tesseract's names: eng, deu, chi_sim, ...
NO_OCR = "Text recognition is not available on this server."
OCR_FAILED = "The text could not be recognised."
TOO_LARGE_OCR = "The image is too large to read."


class NoPreview(Exception):
    """No thumbnail, for a reason the user may see."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- images ------------------------------------------------------------------------------


def image_thumbnail(data: bytes) -> tuple[bytes, str]:
    """``(thumbnail bytes, MIME type)`` of an image, oriented per EXIF and without any metadata."""
    return _with_image(data, _thumbnail_of, too_large=TOO_LARGE_IMAGE)


def _with_image(data: bytes, use, *, too_large: str):
    """``use(image)`` on the image ``data`` holds, opened within the decompression-bomb limits; :class:`NoPreview`
    with ``too_large`` or :data:`BAD_IMAGE` when it cannot be."""
    from PIL import Image, ImageFile

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_image_formats()) as image:
                return use(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NoPreview(too_large) from None
    except NoPreview:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, TypeError, KeyError, IndexError, MemoryError):
        # Pillow's decoders report damage with any of these (UnidentifiedImageError is an OSError)
        raise NoPreview(BAD_IMAGE) from None


def _image_formats() -> tuple[str, ...]:
    """Pillow's formats this worker opens, with HEIC/HEIF (phone photos) when pillow-heif is installed."""
    try:
        import pillow_heif
    except ImportError:
        return IMAGE_FORMATS
    pillow_heif.register_heif_opener(thumbnails=False)
    return (*IMAGE_FORMATS, "HEIF")


def _thumbnail_of(image) -> tuple[bytes, str]:
    from PIL import ImageOps

    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
        raise NoPreview(TOO_LARGE_IMAGE)
    icc_profile = image.info.get("icc_profile")
    image.draft(None, (2 * THUMBNAIL_SIZE, 2 * THUMBNAIL_SIZE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
    if image.size[0] * image.size[1] > MAX_DECODED_PIXELS:
        raise NoPreview(TOO_LARGE_IMAGE)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # loads (the first frame), then resizes
    image = ImageOps.exif_transpose(image)  # EXIF orientation, on the small image
    return encode_thumbnail(image, icc_profile=icc_profile)


def encode_thumbnail(image, *, icc_profile: bytes | None = None) -> tuple[bytes, str]:
    """Fit ``image`` within the thumbnail box and encode it as WebP (JPEG without WebP support), metadata-free."""
    from PIL import Image, features

    if image.width > THUMBNAIL_SIZE or image.height > THUMBNAIL_SIZE:
        image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    image = _to_srgb(image, icc_profile)
    # A fresh image from the pixels alone: no EXIF, ICC, XMP or comments can follow along.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    if features.check("webp"):
        clean.save(out, "WEBP", quality=80, method=4)
        return out.getvalue(), "image/webp"
    if clean.mode == "RGBA":
        flat = Image.new("RGB", clean.size, (255, 255, 255))
        flat.paste(clean, mask=clean.getchannel("A"))
        clean = flat
    clean.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), "image/jpeg"


def _to_srgb(image, icc_profile: bytes | None):
    """RGB or RGBA pixels, colour-converted to sRGB when the image carries an ICC profile."""
    from PIL import ImageCms

    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    target = "RGBA" if has_alpha else "RGB"
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            srgb = ImageCms.createProfile("sRGB")
            image = ImageCms.profileToProfile(image, source, srgb, outputMode="RGBA" if image.mode == "RGBA" else "RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: keep the pixels as they are
    return image if image.mode == target else image.convert(target)


# --- PDFs -----------------------------------------------------------------------------------


def pdf_preview(data: bytes, *, want_text: bool, render: bool = True) -> tuple[bytes, str, str, str]:
    """``(thumbnail, MIME type, error, text)`` of a PDF: its first page rendered, its first pages' text."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise NoPreview(PDF_PASSWORD if getattr(exc, "err_code", None) == 4 else BAD_PDF) from None
    try:
        pages = len(document)
        if pages < 1:
            raise NoPreview(PDF_EMPTY)
        thumbnail, mime, error = b"", "", ""
        try:
            if render:
                thumbnail, mime = _render_first_page(document)
        except NoPreview as exc:
            error = exc.reason
        except (pdfium.PdfiumError, OSError, ValueError, TypeError, MemoryError):
            error = BAD_PDF
        text = _pdf_text(document, pages) if want_text else ""
        return thumbnail, mime, error, text
    finally:
        document.close()


def _render_first_page(document) -> tuple[bytes, str]:
    page = document[0]
    try:
        width, height = page.get_size()  # points, 1/72 inch
        if not _usable_page(width, height):
            raise NoPreview(PDF_PAGE_SIZE)
        scale = min(PDF_RENDER_SIDE / max(width, height), PDF_MAX_SCALE)
        bitmap = page.render(scale=scale, may_draw_forms=False)
        try:
            image = bitmap.to_pil()
            return encode_thumbnail(image.convert("RGB"))
        finally:
            bitmap.close()
    finally:
        page.close()


def _usable_page(width: float, height: float) -> bool:
    """Whether a page's size (points) is one to render: finite, at least a point, at most 200 inches."""
    return (
        math.isfinite(width)
        and math.isfinite(height)
        and min(width, height) >= 1
        and max(width, height) <= PDF_MAX_PAGE_POINTS
    )


def _pdf_text(document, pages: int) -> str:
    import pypdfium2 as pdfium

    parts, total = [], 0
    for index in range(min(pages, PDF_TEXT_PAGES)):
        try:
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
        except (pdfium.PdfiumError, OSError, ValueError, MemoryError):
            continue
        text = text[: PDF_TEXT_CHARS - total]
        parts.append(text)
        total += len(text)
        if total >= PDF_TEXT_CHARS:
            break
    return "\n".join(parts)


# --- text recognition -------------------------------------------------------------------------


class Tesseract:
    """``tesseract`` processes for one request, each started ahead of its image (:meth:`start`): a process loads
    its language data (about 0.1 s) while this worker is still reading, decoding and checking the image, instead of
    after. Each reads one image on its stdin (PNG) and answers on its stdout: no file."""

    def __init__(self, languages: list[str]):
        self.languages = languages
        self.ready: subprocess.Popen | None = None

    def start(self) -> None:
        if self.ready is None:
            self.ready = self._spawn()

    def _spawn(self) -> subprocess.Popen | None:
        binary = shutil.which("tesseract")
        if binary is None:
            return None
        return subprocess.Popen(  # noqa: S603 - a fixed program with fixed arguments, no shell
            [binary, "stdin", "stdout", "-l", "+".join(self.languages) or "eng", "--psm", "3"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", ""), "OMP_THREAD_LIMIT": "1"},
        )

    def read(self, image) -> str:
        """What Tesseract reads in ``image`` (a Pillow image; one over ``OCR_MAX_PIXELS`` is reduced first)."""
        from PIL import Image

        if image.width * image.height > OCR_MAX_PIXELS:
            factor = math.sqrt(OCR_MAX_PIXELS / (image.width * image.height))
            size = (max(1, int(image.width * factor)), max(1, int(image.height * factor)))
            image = image.resize(size, Image.LANCZOS)
        process, self.ready = self.ready or self._spawn(), None
        if process is None:
            raise NoPreview(NO_OCR)
        png = io.BytesIO()
        image.save(png, "PNG", compress_level=1)
        try:
            out, _err = process.communicate(png.getvalue())
        except (BrokenPipeError, OSError):
            process.kill()
            process.wait()
            raise NoPreview(OCR_FAILED) from None
        if process.returncode != 0:
            raise NoPreview(OCR_FAILED)
        return out.decode("utf-8", "replace")[:OCR_TEXT_CHARS]

    def close(self) -> None:
        """Stop a process started for an image that never came (a refused image, a PDF's last page had text)."""
        if self.ready is not None:
            self.ready.kill()
            self.ready.wait()
            self.ready = None


def ocr_image(data: bytes, tesseract: Tesseract) -> str:
    """The text Tesseract reads in an image (oriented per EXIF, as grey pixels)."""
    tesseract.start()
    return tesseract.read(_with_image(data, _grey_for_ocr, too_large=TOO_LARGE_OCR))


def _grey_for_ocr(image):
    from PIL import ImageOps

    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
        raise NoPreview(TOO_LARGE_OCR)
    if width * height > OCR_MAX_PIXELS:
        image.draft("L", (width // 2, height // 2))  # JPEG: decode at a smaller scale
    if image.size[0] * image.size[1] > MAX_DECODED_PIXELS:
        raise NoPreview(TOO_LARGE_OCR)
    return ImageOps.exif_transpose(image).convert("L")


def ocr_pdf(data: bytes, tesseract: Tesseract) -> str:
    """The text of a PDF's pages: their text layer where they have one, else what Tesseract reads in them rendered
    at 300 dpi (the first ``OCR_PDF_PAGES`` pages)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise NoPreview(PDF_PASSWORD if getattr(exc, "err_code", None) == 4 else BAD_PDF) from None
    parts, total = [], 0
    try:
        for index in range(min(len(document), OCR_PDF_PAGES)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range().strip()
                finally:
                    textpage.close()
                if not text:
                    width, height = page.get_size()
                    if not _usable_page(width, height):
                        continue
                    scale = OCR_PDF_DPI / 72
                    if width * height * scale * scale > OCR_MAX_PIXELS:
                        scale = math.sqrt(OCR_MAX_PIXELS / (width * height))
                    tesseract.start()  # its language data loads while the page renders
                    bitmap = page.render(scale=scale, may_draw_forms=False, grayscale=True)
                    try:
                        text = tesseract.read(bitmap.to_pil().convert("L"))
                    finally:
                        bitmap.close()
            finally:
                page.close()
            parts.append(text[: OCR_TEXT_CHARS - total])
            total += len(parts[-1])
            if total >= OCR_TEXT_CHARS:
                break
    finally:
        tesseract.close()
        document.close()
    return "\n".join(parts)


# --- the process ------------------------------------------------------------------------------


def _limit_self() -> None:
    import resource
    import signal

    for limit, value in (
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_DATA, MEMORY_LIMIT),
        (resource.RLIMIT_CPU, CPU_SECONDS),
    ):
        try:
            _soft, hard = resource.getrlimit(limit)
            resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
        except (ValueError, OSError):
            pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write to a file fails (EFBIG) instead of killing


def ocr_languages_of(request: dict) -> list[str]:
    languages = [lang for lang in request.get("languages") or ["eng"] if OCR_LANGUAGE.fullmatch(str(lang))]
    return languages[:8] or ["eng"]


def handle(request: dict, data: bytes, tesseract: Tesseract | None = None) -> tuple[dict, bytes, bytes]:
    """Answer one request: ``(header, thumbnail, text)`` (``tesseract``: started already, for "ocr-image")."""
    thumbnail, mime, error, text = b"", "", "", ""
    try:
        if len(data) > int(request.get("max_input", 0)):
            raise NoPreview(TOO_LARGE_INPUT)
        kind = request.get("kind")
        if kind in ("ocr-image", "ocr-pdf"):
            tesseract = tesseract or Tesseract(ocr_languages_of(request))
            text = (ocr_image if kind == "ocr-image" else ocr_pdf)(data, tesseract)
        elif kind == "pdf":
            thumbnail, mime, error, text = pdf_preview(
                data, want_text=bool(request.get("text")), render=bool(request.get("render", True))
            )
        else:
            thumbnail, mime = image_thumbnail(data)
    except NoPreview as exc:
        error = exc.reason
    except Exception:  # noqa: BLE001 - whatever else a hostile file provokes, it is unreadable
        thumbnail, mime, text = b"", "", ""
        error = BAD_PDF if request.get("kind") in ("pdf", "ocr-pdf") else BAD_IMAGE
    encoded_text = text.encode("utf-8", "replace")
    header = {"mime": mime, "size": len(thumbnail), "text_size": len(encoded_text), "error": error}
    return header, thumbnail, encoded_text


def main() -> None:
    _limit_self()
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # libraries that print cannot corrupt the answer
    os.dup2(devnull, 2)
    stdin = sys.stdin.buffer
    request = json.loads(stdin.readline(4096) or b"{}")
    tesseract = None
    if str(request.get("kind")).startswith("ocr-"):
        # text recognition runs after the upload, off every request: it yields the CPU to the server's requests
        # (a thumbnail, made while an upload waits, keeps the server's priority)
        os.nice(OCR_NICENESS)
    if request.get("kind") == "ocr-image":
        tesseract = Tesseract(ocr_languages_of(request))
        tesseract.start()  # loads its language data while the image arrives and is checked
    data = stdin.read(int(request.get("max_input", 0)) + 1)
    try:
        header, thumbnail, text = handle(request, data, tesseract)
    finally:
        if tesseract is not None:
            tesseract.close()
    del data
    out.write(json.dumps(header).encode() + b"\n")
    out.write(thumbnail)
    out.write(text)
    out.flush()
    os._exit(0)  # the answer is out: no interpreter teardown for the parent to wait for


if __name__ == "__main__":
    sys.path.extend(sys.argv[1:])  # the parent's library directories (started with -S)
    main()
