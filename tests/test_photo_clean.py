"""Photos lose their place, phone and time on the device, before encryption (issue 19).

The fixtures are made here with Pillow: a picture whose left half is red and right half blue,
with EXIF (GPS position, camera make, model and serial number, owner name, time zone, an
orientation that turns it upright), XMP and, for JPEG, an IPTC block and a comment. Every check
scans the BYTES of the file as downloaded, not only the tags a parser finds."""

from __future__ import annotations

import io
import json
import re
import secrets
import struct
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageOps, PngImagePlugin

from tests.conftest import run_cli
from wallet.client.photos import PhotoCleanError, clean_photo, photo_cleaned

MAKER = "CanaryMakerCorp"
MODEL = "CanaryPhone 9"
SERIAL = "SN-7731-CANARY-0042"
OWNER = "Jane Canary"
# What must be gone from a cleaned file, whatever the container.
CANARIES = [MAKER.encode(), MODEL.encode(), SERIAL.encode(), OWNER.encode(), b"+02:00"]
WIDTH, HEIGHT = 64, 32  # stored sideways: orientation 6 turns it to 32 x 64, red on top
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    f'tiff:Make="{MAKER}" tiff:Model="{MODEL}" exif:GPSLatitude="50,50.5N" '
    f'exif:GPSLongitude="4,21.2E"/></rdf:RDF></x:xmpmeta>'
).encode()


def picture() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), (220, 20, 20))
    image.paste((20, 20, 220), (WIDTH // 2, 0, WIDTH, HEIGHT))
    return image


def exif(orientation: int = 6) -> Image.Exif:
    data = Image.Exif()
    data[ExifTags.Base.Make] = MAKER
    data[ExifTags.Base.Model] = MODEL
    data[ExifTags.Base.Artist] = OWNER
    data[ExifTags.Base.Orientation] = orientation
    ifd = data.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.BodySerialNumber] = SERIAL
    ifd[ExifTags.Base.OffsetTimeOriginal] = "+02:00"
    gps = data.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (50.0, 50.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 21.0, 12.0)
    return data


def iptc_block() -> bytes:
    """A JPEG APP13 segment as Photoshop writes it: "Photoshop 3.0", one 8BIM resource 0x0404
    (IPTC-IIM) holding dataset 2:80 (By-line) = the owner's name and 2:110 (Credit) = maker."""
    datasets = b""
    for number, value in ((80, OWNER.encode()), (110, MAKER.encode())):
        datasets += b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(value)) + value
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(datasets))
    resource += datasets + (b"\x00" if len(datasets) % 2 else b"")
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def make_photo(folder: Path, fmt: str) -> Path:
    image = picture()
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", exif=exif(), xmp=XMP, comment=f"Taken by {OWNER}", quality=95)
        data = out.getvalue()
        data = data[:2] + iptc_block() + data[2:]  # after SOI, before Pillow's own segments
        path = folder / "photo.jpg"
    elif fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        info.add_text("Author", OWNER)
        image.save(out, "PNG", exif=exif(), pnginfo=info)
        data, path = out.getvalue(), folder / "photo.png"
    elif fmt == "webp":
        image.save(out, "WEBP", exif=exif(), xmp=XMP, quality=95)
        data, path = out.getvalue(), folder / "photo.webp"
    else:
        raise AssertionError(fmt)
    path.write_bytes(data)
    # The fixture holds what it should, as a parser and as bytes.
    assert all(canary in data for canary in (MAKER.encode(), SERIAL.encode()))
    with Image.open(path) as check:
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return path


def assert_clean(data: bytes, fmt: str, *, turned: bool = True) -> None:
    """No GPS, serial, maker, model, owner or time zone: in the bytes and for a parser; and
    the picture stands upright: red on top, blue below (`turned`), or, where the original was
    shown unturned, red left and blue right."""
    for canary in CANARIES:
        assert canary not in data, canary
    for marker in (b"Exif\x00\x00", b"GPS", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"8BIM"):
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[fmt]
        assert not image.getexif()
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"} & set(image.info)
        assert image.size == ((HEIGHT, WIDTH) if turned else (WIDTH, HEIGHT))
        rgb = image.convert("RGB")
        w, h = rgb.size
        first, second = (
            ((w // 2, h // 4), (w // 2, 3 * h // 4))
            if turned
            else ((w // 4, h // 2), (3 * w // 4, h // 2))
        )
        red, blue = rgb.getpixel(first), rgb.getpixel(second)
        assert red[0] > 150 and red[2] < 100, red  # type: ignore[index,operator]
        assert blue[2] > 150 and blue[0] < 100, blue  # type: ignore[index,operator]


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_clean_photo_removes_every_trace_and_keeps_orientation(tmp_path: Path, fmt: str) -> None:
    source = make_photo(tmp_path, fmt)
    # What the device would have shown: Pillow's own reading of the orientation.
    with Image.open(source) as original:
        assert ImageOps.exif_transpose(original).size == (HEIGHT, WIDTH)
    target = tmp_path / f"clean-{source.name}"
    assert clean_photo(source, target)
    assert_clean(target.read_bytes(), fmt)


def test_upright_jpeg_keeps_its_pixels_untouched(tmp_path: Path) -> None:
    """A JPEG already upright is re-saved with its own quantisation: no second loss."""
    out = io.BytesIO()
    picture().save(out, "JPEG", exif=exif(orientation=1), quality=80)
    source = tmp_path / "upright.jpg"
    source.write_bytes(out.getvalue())
    target = tmp_path / "clean.jpg"
    assert clean_photo(source, target)
    with Image.open(source) as before, Image.open(target) as after:
        assert after.size == before.size == (WIDTH, HEIGHT)
        assert after.quantization == before.quantization  # type: ignore[attr-defined]
    assert SERIAL.encode() not in target.read_bytes()


def test_other_files_pass_unchanged_and_keeping_is_a_choice(tmp_path: Path) -> None:
    pdf = tmp_path / "lease.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% a lease\n")
    with photo_cleaned(pdf) as chosen:
        assert chosen == pdf
    photo = make_photo(tmp_path, "jpeg")
    with photo_cleaned(photo, keep=True) as chosen:
        assert chosen == photo and SERIAL.encode() in chosen.read_bytes()
    with photo_cleaned(photo) as chosen:
        assert chosen != photo and chosen.name == photo.name
        assert SERIAL.encode() not in chosen.read_bytes()
        folder = chosen.parent
    assert not folder.exists()  # the cleaned copy does not stay behind


def test_heic_loses_its_details(tmp_path: Path) -> None:
    heif = pytest.importorskip("pillow_heif")
    heif.register_heif_opener()
    source = tmp_path / "photo.heic"
    picture().save(source, "HEIF", exif=exif(), xmp=XMP, quality=90)
    assert SERIAL.encode() in source.read_bytes()
    # HEIF turns pictures with its own irot/imir boxes, which libheif applies when decoding
    # (the EXIF orientation is only informative there): the cleaned file shows what it showed.
    with Image.open(source) as original:
        shown = ImageOps.exif_transpose(original).size
    target = tmp_path / "clean.heic"
    assert clean_photo(source, target)
    data = target.read_bytes()
    for canary in CANARIES:
        assert canary not in data, canary
    with Image.open(target) as image:
        assert image.format == "HEIF"
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert image.size == shown


def test_a_damaged_photo_is_refused_not_sent_as_is(tmp_path: Path) -> None:
    source = make_photo(tmp_path, "jpeg")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(source.read_bytes()[:200])  # the header parses, the pixels do not
    with pytest.raises(PhotoCleanError, match="Nothing was sent"):
        clean_photo(broken, tmp_path / "out.jpg")


def test_cli_upload_then_owner_link_and_grantee_downloads_hold_no_trace(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    owner = {**cli_env, "WALLET_HOME": str(tmp_path / "home-owner")}
    worker = {**cli_env, "WALLET_HOME": str(tmp_path / "home-worker")}
    stranger = {**cli_env, "WALLET_HOME": str(tmp_path / "home-stranger")}  # no account
    worker_handle = f"worker-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", f"owner-{secrets.token_hex(4)}")
    run_cli(worker, "account", "create", "--handle", worker_handle)
    ids: dict[str, str] = {}
    for fmt in ("jpeg", "png", "webp"):
        folder = tmp_path / fmt
        folder.mkdir()
        photo = make_photo(folder, fmt)
        saved = run_cli(owner, "upload", str(photo), "--type", "payslip", "--title", fmt).stdout
        ids[fmt] = re.search(r"Document id: ([0-9a-f]{32})", saved).group(1)  # type: ignore[union-attr]
    kept = make_photo(tmp_path, "jpeg")
    said = run_cli(owner, "upload", str(kept), "--title", "kept", "--keep-photo-details").stdout
    assert "keeps its hidden details" in said
    kept_id = re.search(r"Document id: ([0-9a-f]{32})", said).group(1)  # type: ignore[union-attr]

    created = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "payslip",
                      "--purpose", "Check").stdout  # fmt: skip
    grant_id = re.search(r"Grant id: ([0-9a-f]{32})", created).group(1)  # type: ignore[union-attr]
    for fmt, document_id in ids.items():
        mine = tmp_path / f"owner-{fmt}"
        run_cli(owner, "get", document_id, "-o", str(mine))
        assert_clean(mine.read_bytes(), fmt)

        url = run_cli(owner, "share", "create", document_id).stdout.splitlines()[0]
        opened = tmp_path / f"link-{fmt}"
        run_cli(stranger, "share", "open", url, "-o", str(opened))
        [written] = [p for p in opened.iterdir() if not p.name.startswith(".")]
        assert written.suffix == {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}[fmt]
        assert_clean(written.read_bytes(), fmt)

        received = tmp_path / f"grantee-{fmt}"
        run_cli(worker, "received", "get", grant_id, document_id, "-o", str(received))
        assert_clean(received.read_bytes(), fmt)

    original = tmp_path / "kept-back.jpg"
    run_cli(owner, "get", kept_id, "-o", str(original))
    assert original.read_bytes() == kept.read_bytes()  # kept on purpose: byte for byte
    [doc] = [d for d in json.loads(run_cli(owner, "ls", "--json").stdout) if d["id"] == kept_id]
    assert doc["file_name"] == "photo.jpg"
