"""Multi-page capture on the upload page (issue 15, item 4), on a 360×740 phone: photos taken
one after the other (and picked several at once) become one PDF on the device, in the order
the person chose, turned as they chose, without the pages they removed. The owner's `wallet
get` decrypts the stored document and pypdf reads it. A 12 MP photo is sent at least 5 times
smaller. pdf-lib is a lazy chunk: not loaded, nor statically imported, by any page's entry."""

from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path
from typing import Any

import pypdf
from PIL import Image, ImageDraw, ImageStat
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    WEB,
    axe_violations,
    menu_link,
    new_context,
    open_menu,
    register,
    screenshot,
)
from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (30, 60, 220)}
JS = WEB / "static" / "js"
# pdf-lib's default producer string: in its code, nowhere else in the bundle.
PDF_LIB_MARK = "github.com/Hopding/pdf-lib"


def make_page(folder: Path, colour: str, size: tuple[int, int] = (600, 400)) -> Path:
    """A landscape photo of one colour with a black square in its top-left corner, with an
    EXIF block naming the phone (which the PDF must not carry)."""
    image = Image.new("RGB", size, COLOURS[colour])
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(0, 0, 0))
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 9000"  # Model
    path = folder / f"{colour}.jpg"
    image.save(path, "JPEG", quality=92, exif=exif)
    return path


def make_12mp_photo(path: Path) -> Path:
    """A 4000×3000 noisy JPEG, about the bytes of a phone camera's photo (4 to 5 MB)."""
    width, height = 4000, 3000
    noise = Image.frombytes("RGB", (width // 2, height // 2), os.urandom(width * height * 3 // 4))
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    photo = Image.blend(base, noise.resize((width, height), Image.Resampling.BILINEAR), 0.35)
    photo.save(path, "JPEG", quality=90)
    return path


def open_upload(page: Page) -> None:
    menu_link(page, re.compile("Add a document")).click()
    page.wait_for_url("**/documents/new")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")


def pages_shown(page: Page, count: int) -> Any:
    items = page.locator("[data-page-list] > li")
    expect(items).to_have_count(count)
    return items


def save(page: Page) -> str:
    page.locator("#type").select_option("payslip")
    page.locator("[data-submit]").click()
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    return page.url.rsplit("/", 1)[1]


def owner_env(web_server: LiveServer, tmp_path: Path, handle: str) -> dict[str, str]:
    env = {
        **os.environ,
        "WALLET_SERVER": web_server.url,
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
        "WALLET_HOME": str(tmp_path / "home-owner"),
    }
    run_cli(env, "login", "--handle", handle)
    return env


def fetch(env: dict[str, str], document_id: str, out: Path) -> bytes:
    run_cli(env, "get", document_id, "-o", str(out))
    return out.read_bytes()


def colour_of(image: Image.Image) -> str:
    mean = ImageStat.Stat(image.convert("RGB").crop(_middle(image))).mean
    return min(COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOURS[name], mean)))


def _middle(image: Image.Image) -> tuple[int, int, int, int]:
    w, h = image.size
    return (w // 3, h // 3, 2 * w // 3, 2 * h // 3)


def is_dark(image: Image.Image, box: tuple[float, float, float, float]) -> bool:
    """Whether the region (fractions of width and height) is black."""
    w, h = image.size
    region = image.convert("L").crop(
        (int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h))
    )
    return float(ImageStat.Stat(region).mean[0]) < 40


def read_pages(data: bytes) -> list[tuple[pypdf.PageObject, Image.Image]]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = []
    for sheet in reader.pages:
        [picture] = sheet.images
        pages.append((sheet, Image.open(io.BytesIO(picture.data))))
    return pages


def test_three_photos_become_one_pdf_in_the_chosen_order_and_turn(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    handle = f"capture-{secrets.token_hex(4)}"
    register(page, handle)
    scripts: list[str] = []
    page.on("response", lambda r: scripts.append(r.url) if r.url.endswith(".js") else None)
    open_upload(page)
    # Two photos taken one after the other with the camera, then one picked from the files.
    page.locator("#camera").set_input_files(str(make_page(tmp_path, "red")))
    pages_shown(page, 1)
    page.locator("#camera").set_input_files(str(make_page(tmp_path, "green")))
    pages_shown(page, 2)
    page.locator("#file").set_input_files(str(make_page(tmp_path, "blue")))
    items = pages_shown(page, 3)
    expect(page.locator("[data-chosen]")).to_contain_text("3 pages")
    # Nothing of pdf-lib is loaded before there is a PDF to make.
    assert not [url for url in scripts if PDF_LIB_MARK in _text(url)]

    # Blue moves up to second place (the buttons are named for screen readers).
    page.get_by_role("button", name="Move page 3 up").click()
    items = pages_shown(page, 3)
    expect(items.nth(1).locator("img")).to_have_attribute("alt", "Photo of page 2")
    # Focus stays on the moved page's button, now page 2's.
    expect(page.get_by_role("button", name="Move page 2 up")).to_be_focused()
    # Green, now the last page, is turned a quarter to the right.
    page.get_by_role("button", name="Turn page 3 a quarter to the right").click()
    expect(items.nth(2).locator("img")).to_have_attribute("style", re.compile("rotate\\(90deg\\)"))
    # The buttons are large enough for a thumb.
    for box in (b.bounding_box() for b in items.nth(1).get_by_role("button").all()):
        assert box and box["height"] >= 44 and box["width"] >= 44, box
    assert page.locator("#keep-details").is_disabled()  # a made PDF never keeps details
    assert not axe_violations(page)
    screenshot(page, "capture-three-pages")
    document_id = save(page)
    assert [url for url in scripts if PDF_LIB_MARK in _text(url)]  # loaded now, on this page

    env = owner_env(web_server, tmp_path, handle)
    data = fetch(env, document_id, tmp_path / "back.pdf")
    assert b"SecretPhone" not in data and b"pdf-lib" not in data
    pages = read_pages(data)
    assert [colour_of(image) for _, image in pages] == ["red", "blue", "green"]
    for sheet, image in pages[:2]:  # as taken: landscape, black corner top left
        assert float(sheet.mediabox.width) > float(sheet.mediabox.height)
        assert image.width > image.height and is_dark(image, (0, 0, 0.2, 0.2))
        assert sheet.rotation == 0
    sheet, image = pages[2]  # turned clockwise: portrait, the black corner now top right
    assert float(sheet.mediabox.width) < float(sheet.mediabox.height)
    assert image.width < image.height
    assert is_dark(image, (0.8, 0, 1, 0.2)) and not is_dark(image, (0, 0, 0.2, 0.2))


def _text(url: str) -> str:
    """A served script's text, read from the bundle on disk."""
    path = JS / url.split("/static/js/", 1)[1].split("?")[0]
    return path.read_text() if path.exists() else ""


def test_a_removed_page_is_not_in_the_pdf(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    handle = f"capture-{secrets.token_hex(4)}"
    register(page, handle)
    open_upload(page)
    files = [str(make_page(tmp_path, colour)) for colour in ("red", "green", "blue")]
    page.locator("#file").set_input_files(files)  # several picked at once
    pages_shown(page, 3)
    page.get_by_role("button", name="Remove page 2").click()
    pages_shown(page, 2)
    expect(page.locator("[data-chosen]")).to_contain_text("2 pages")
    document_id = save(page)
    env = owner_env(web_server, tmp_path, handle)
    pages = read_pages(fetch(env, document_id, tmp_path / "back.pdf"))
    assert [colour_of(image) for _, image in pages] == ["red", "blue"]


def test_a_12_mp_photo_is_sent_at_least_five_times_smaller(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    handle = f"capture-{secrets.token_hex(4)}"
    register(page, handle)
    photo = make_12mp_photo(tmp_path / "camera.jpg")
    before = photo.stat().st_size
    assert before > 3_000_000
    env: dict[str, str] | None = None
    sizes = {}
    for label, files in (("photo", [photo]), ("pdf", [photo, photo])):
        open_upload(page)
        page.locator("#file").set_input_files([str(f) for f in files])
        pages_shown(page, len(files))
        document_id = save(page)
        env = env or owner_env(web_server, tmp_path, handle)
        data = fetch(env, document_id, tmp_path / f"back-{label}")
        sizes[label] = len(data)
        if label == "photo":
            stored = Image.open(io.BytesIO(data))
            assert stored.format == "JPEG" and max(stored.size) == 2000, stored.size
        else:
            assert [image.size for _, image in read_pages(data)] == [(2000, 1500)] * 2
    assert before / sizes["photo"] >= 5, (before, sizes)
    assert 2 * before / sizes["pdf"] >= 5, (before, sizes)


def test_capture_page_in_french_and_arabic(
    browser: Any, web_server: LiveServer, tmp_path: Path
) -> None:
    for locale, words in (("fr-BE", "Monter la page 2"), ("ar", "نقل الصفحة 2 إلى الأعلى")):
        context = new_context(browser, web_server, locale=locale)
        try:
            tab = context.new_page()
            register(tab, f"capture-{secrets.token_hex(4)}")
            open_menu(tab).locator("a[href='/documents/new']").click()
            tab.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
            files = [str(make_page(tmp_path, colour)) for colour in ("red", "green")]
            tab.locator("#file").set_input_files(files)
            expect(tab.locator("[data-page-list] > li")).to_have_count(2)
            expect(tab.get_by_role("button", name=words)).to_be_visible()
            # Nothing overflows the phone's width.
            assert tab.evaluate("document.documentElement.scrollWidth") <= 360
            screenshot(tab, f"capture-{locale}")
        finally:
            context.close()


def test_pdf_lib_is_not_in_any_page_entry_or_its_static_imports() -> None:
    if not (JS / "pages" / "upload.js").exists():
        return
    static_import = re.compile(
        r"""(?:import|export)\s*(?:[\w*{}\s,$]*from\s*)?["'](\.[^"']+)["']"""
    )
    dynamic_import = re.compile(r"""import\(["'](\.[^"']+)["']\)""")

    def reach(entry: Path) -> set[Path]:
        seen: set[Path] = set()
        todo = [entry]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for spec in static_import.findall(current.read_text()):
                todo.append((current.parent / spec).resolve())
        return seen

    for entry in (JS / "pages").glob("*.js"):
        assert not [f for f in reach(entry) if PDF_LIB_MARK in f.read_text()], entry.name
    upload = (JS / "pages" / "upload.js").read_text()
    lazy = [(JS / "pages" / spec).resolve() for spec in dynamic_import.findall(upload)]
    assert any(PDF_LIB_MARK in f.read_text() for f in lazy for f in reach(f))
