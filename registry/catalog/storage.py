"""Evidence and photo files: sniffed by content, images re-encoded, stored under random names.

What is kept goes to the app's file store (``registry.files``: ``UPLOAD_DIR`` or an S3
bucket) and is served only through views that check access. The type comes from the bytes,
never from the file name or the browser's claim.
"""

from __future__ import annotations

import io
import secrets
import warnings

import pikepdf
import pypdfium2
from PIL import Image, UnidentifiedImageError

from registry.plaintext import text_problem

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}


class UploadError(ValueError):
    """A file the registry will not store; ``code`` is the problem for the form message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def _reencode_image(data: bytes, content_type: str, max_pixels: int) -> bytes:
    # Pillow's limit is process-wide; set it here and turn its warning into an error so a
    # decompression bomb is refused before it is decoded.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > max_pixels:
                    raise UploadError("too_many_pixels")
                img.load()
                out = io.BytesIO()
                if content_type == JPEG:
                    img.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
                else:
                    mode = "RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB"
                    img.convert(mode).save(out, "PNG", optimize=True)
                return out.getvalue()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, UploadError):
            raise
        raise UploadError("broken_file") from None


# Action types that run code or programs when a reader opens or clicks something, and the
# keys that hold document-level JavaScript (the /Names tree's /JavaScript, an action's /JS).
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch"})
ACTIVE_KEYS = frozenset({"/JS", "/JavaScript"})


def _check_pdf(data: bytes) -> None:
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise UploadError("broken_file") from None
    try:
        if len(pdf) < 1:
            raise UploadError("broken_file")
    finally:
        pdf.close()
    if _is_active(data):
        raise UploadError("active_pdf")


def _is_active(data: bytes) -> bool:
    """Whether the PDF carries JavaScript or a launch action anywhere.

    qpdf (pikepdf) parses the file, object streams included, so a name hidden in a
    compressed object stream is found like any other; every indirect object is looked at,
    with the direct dictionaries and arrays nested in it (an annotation's /A, a page's /AA).
    A file qpdf cannot read (or only with a password) is refused as damaged."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return any(_active(obj, 0) for obj in pdf.objects)
    except (pikepdf.PdfError, pikepdf.PasswordError, RecursionError):
        raise UploadError("broken_file") from None


def _active(obj: object, depth: int) -> bool:
    if depth > 64:  # no honest certificate nests this deep
        return True
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        keys = set(obj.keys())
        if keys & ACTIVE_KEYS or str(obj.get("/S", "")) in ACTIVE_ACTIONS:
            return True
        children = [obj[k] for k in keys]
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return False
    # Indirect children are objects of their own in ``pdf.objects``: each is visited once.
    return any(_active(child, depth + 1) for child in children
               if isinstance(child, pikepdf.Dictionary | pikepdf.Array)
               and not child.is_indirect)


def prepare(data: bytes, *, allowed: frozenset[str], max_bytes: int, max_pixels: int) -> tuple[
    bytes, str
]:
    """Validate (and for images re-encode) an upload; returns the bytes to store and the type."""
    if not data:
        raise UploadError("empty")
    if len(data) > max_bytes:
        raise UploadError("too_large")
    content_type = sniff(data[:16])
    if content_type is None or content_type not in allowed:
        raise UploadError("bad_type")
    if content_type == PDF:
        _check_pdf(data)
        return data, content_type
    return _reencode_image(data, content_type, max_pixels), content_type


def download_name(original_name: str) -> str:
    """The uploader's name for a download header. Names stored before invisible characters
    were refused may hold a CR/LF, which cannot go into a header (it was a 500): left out."""
    return "".join(ch for ch in original_name if not text_problem(ch)) or "document"


def content_type_of(stored_name: str) -> str:
    """The type of a stored file, from the extension ``new_name`` gave it after sniffing."""
    for content_type, extension in EXTENSIONS.items():
        if stored_name.endswith(extension):
            return content_type
    return "application/octet-stream"


def new_name(content_type: str) -> str:
    return secrets.token_hex(16) + EXTENSIONS[content_type]
