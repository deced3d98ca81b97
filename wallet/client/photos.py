"""Photos lose their hidden details on this computer before they are encrypted.

A phone photo of a paper carries EXIF, XMP and IPTC data: where it was taken (GPS), the phone's
make, model and serial number, the owner's name, the time and time zone. Whoever gets the file
through a link, a grant or a mandate could read them (for example, the address of a shelter).
`photo_cleaned` re-saves JPEG, PNG, WebP and HEIC images with Pillow (and pillow-heif) with the
pixels only: the orientation is applied to the pixels, everything else is dropped (EXIF, XMP,
IPTC, comments, text chunks, colour profile, thumbnails and extra frames of a phone's
multi-picture JPEG).

PDFs lose their document information (Author, Creator, Producer, Title, Subject, Keywords, dates)
and their XMP metadata (the whole document's and each page's) with pikepdf; the pages are kept
as they are. A PDF with none of these passes byte for byte; so does a signed PDF (removing
anything would break its signature, and its details are the issuer's, not the person's) and a
file that only looks like a PDF and cannot be read as one. Other files (text, ...) pass unchanged.
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from wallet.client.errors import VaultError

# Pillow's format name -> the format it is saved back as (an MPO is a phone's JPEG with extra
# pictures: the first one is the photo).
CLEANED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "HEIF": "HEIF"}
HEIF_SUFFIXES = {".heic", ".heif", ".hif"}
# Kept: what the pixels need to look right, nothing about the person or the device.
KEPT_INFO = ("transparency", "dpi")
# What a cleaned file must not hold any more (checked on the file written, not assumed).
LEFTOVER_INFO = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile", "photoshop")


UNREADABLE = (
    "This photo could not be read, so its hidden details (place, phone) could not be removed. "
    "Nothing was sent."
)


class PhotoCleanError(VaultError):
    """A photo could not be cleaned: nothing was sent."""


def _heif_available() -> bool:
    """Registers pillow-heif's opener when it is installed (it is an optional wheel)."""
    try:
        heif: Any = importlib.import_module("pillow_heif")
    except ImportError:
        return False
    heif.register_heif_opener()
    return True


def _leftovers(path: Path) -> list[str]:
    with Image.open(path) as again:
        found = [name for name in LEFTOVER_INFO if again.info.get(name)]
        if len(again.getexif()):
            found.append("exif")
        text = getattr(again, "text", None)  # PNG tEXt/iTXt/zTXt chunks
        if text:
            found.append("text")
    return found


def clean_photo(source: Path, target: Path) -> bool:
    """Writes `source` without its hidden details to `target`. Returns False (and writes
    nothing) when `source` is not an image this module cleans."""
    heif = _heif_available()
    try:
        formats = ["JPEG", "PNG", "WEBP", *(["HEIF"] if heif else [])]  # a JPEG may open as MPO
        image = Image.open(source, formats=formats)
    except UnidentifiedImageError:
        if source.suffix.lower() in HEIF_SUFFIXES and not heif:
            raise PhotoCleanError(
                "This computer cannot read HEIC photos, so it cannot remove the hidden details "
                "(place, phone). Install pillow-heif, or convert the photo to JPEG first. "
                "Nothing was sent."
            ) from None
        return False
    except Image.DecompressionBombError as exc:
        raise PhotoCleanError(
            "This photo is too large to remove its hidden details (place, phone). Make it "
            "smaller first, or keep the details on purpose. Nothing was sent."
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise PhotoCleanError(UNREADABLE) from exc
    try:
        with image:
            fmt = CLEANED_FORMATS[image.format or ""]
            options: dict[str, Any] = {"format": fmt}
            if fmt != "HEIF":  # pillow-heif takes nothing from a fresh copy (and refuses b"")
                options.update(exif=b"", xmp=b"", comment=b"")
            if getattr(image, "is_animated", False) and fmt in ("PNG", "WEBP"):
                # Animations keep their frames; orientation does not apply to them.
                image.info = {k: v for k, v in image.info.items() if k in ("duration", "loop")}
                image.save(target, save_all=True, **options)
            else:
                upright = image.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1)
                if fmt == "JPEG" and upright:
                    image.info = {}
                    # Untouched pixels: keep the file's own quantisation, no second loss.
                    image.save(target, quality="keep", subsampling="keep", **options)
                else:
                    oriented = ImageOps.exif_transpose(image)
                    clean = oriented.copy()
                    clean.info = {k: v for k, v in oriented.info.items() if k in KEPT_INFO}
                    if fmt == "JPEG":
                        if clean.mode not in ("RGB", "L", "CMYK"):
                            clean = clean.convert("RGB")
                        options.update(quality=95)
                    elif fmt == "WEBP":
                        options.update(quality=95)
                    clean.save(target, **options)
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's words for a damaged file
        target.unlink(missing_ok=True)
        raise PhotoCleanError(UNREADABLE) from exc
    found = _leftovers(target)
    if found:
        target.unlink(missing_ok=True)
        raise PhotoCleanError(
            "The photo's hidden details could not all be removed. Nothing was sent."
        )
    return True


PDF_MAGIC = b"%PDF-"
# Keys of a page or of the document catalogue that carry metadata about the author or the tool.
PDF_METADATA_KEYS = ("/Metadata", "/PieceInfo")


def _pdf_signed(pdf: pikepdf.Pdf) -> bool:
    form = pdf.Root.get("/AcroForm")
    if form is not None and int(form.get("/SigFlags", 0)) & 1:
        return True
    return any(
        field.get("/FT") == "/Sig" and field.get("/V") is not None
        for field in (form.get("/Fields", []) if form is not None else [])
    )


def _pdf_has_metadata(pdf: pikepdf.Pdf) -> bool:
    if "/Info" in pdf.trailer and len(pdf.trailer.Info):
        return True
    holders = [pdf.Root, *(page.obj for page in pdf.pages)]
    return any(key in holder for holder in holders for key in PDF_METADATA_KEYS)


def clean_pdf(source: Path, target: Path) -> bool:
    """Writes `source` without its document information and XMP metadata to `target`.
    Returns False (and writes nothing) when there is nothing to remove, when the PDF is signed,
    or when `source` is not a PDF pikepdf can read."""
    with source.open("rb") as head:
        if not head.read(1024).lstrip().startswith(PDF_MAGIC):
            return False
    try:
        pdf = pikepdf.open(source)
    except (pikepdf.PdfError, pikepdf.PasswordError, OSError, ValueError):
        return False  # not a PDF after all, or locked with a password: sent as it is
    with pdf:
        if _pdf_signed(pdf) or not _pdf_has_metadata(pdf):
            return False
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        for holder in [pdf.Root, *(page.obj for page in pdf.pages)]:
            for key in PDF_METADATA_KEYS:
                if key in holder:
                    del holder[key]
        # No object streams: what is left is plain to see (and to check, below). Objects no
        # longer referenced (the old information dictionary) are not written.
        pdf.save(
            target,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            fix_metadata_version=False,
            deterministic_id=True,
        )
    with pikepdf.open(target) as again:
        if _pdf_has_metadata(again):
            target.unlink(missing_ok=True)
            raise PhotoCleanError(
                "The PDF's hidden details could not all be removed. Nothing was sent."
            )
    return True


@contextlib.contextmanager
def photo_cleaned(path: Path, *, keep: bool = False) -> Iterator[Path]:
    """The file to encrypt: a cleaned copy (same name, same format) of a photo or a PDF, or
    `path` itself for other files and when the person chose to keep the details for this upload.
    The copy lives in a private temporary folder, removed afterwards."""
    path = Path(path)
    if keep:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="wallet-photo-") as folder:
        target = Path(folder) / path.name
        yield target if clean_photo(path, target) or clean_pdf(path, target) else path
