"""PDFs lose their author, creator tool, producer and XMP metadata on the device, before
encryption (issue 19), unless the person keeps them for one upload. Every check scans the BYTES
of the file as downloaded, not only what a parser finds."""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

import pikepdf

from tests.conftest import run_cli
from wallet.client.photos import clean_pdf, photo_cleaned

AUTHOR = "Jane Canary-Author"
CREATOR = "CanaryScan Pro 7"
PRODUCER = "CanaryProducer 3.1"
CANARIES = [AUTHOR.encode(), CREATOR.encode(), PRODUCER.encode(), b"Canary"]
PAGE_TEXT = b"BT /F1 24 Tf 72 700 Td (Rent receipt March) Tj ET"


def make_pdf(path: Path, *, signed: bool = False) -> Path:
    """A one-page PDF with text, an information dictionary, XMP for the document and a page."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )  # fmt: skip
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(PAGE_TEXT)
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [AUTHOR]
        meta["xmp:CreatorTool"] = CREATOR
        meta["pdf:Producer"] = PRODUCER
    page.obj.Metadata = pdf.make_stream(f"<x:xmpmeta>{AUTHOR}</x:xmpmeta>".encode())
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Creator"] = CREATOR
    pdf.docinfo["/Producer"] = PRODUCER
    if signed:
        pdf.Root.AcroForm = pikepdf.Dictionary(SigFlags=3, Fields=pikepdf.Array())
    pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return path


def assert_clean(data: bytes) -> None:
    assert data.startswith(b"%PDF-")
    for canary in CANARIES:
        assert canary not in data, canary
    assert b"/Metadata" not in data and b"/Author" not in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 1
        assert pdf.pages[0].obj.Contents.read_bytes() == PAGE_TEXT  # the page is untouched
        assert "/Info" not in pdf.trailer or not len(pdf.trailer.Info)


def test_clean_pdf_removes_author_creator_producer_and_xmp(tmp_path: Path) -> None:
    source = make_pdf(tmp_path / "receipt.pdf")
    for canary in CANARIES:
        assert canary in source.read_bytes()  # the test can fail
    assert clean_pdf(source, tmp_path / "clean.pdf")
    assert_clean((tmp_path / "clean.pdf").read_bytes())


def test_pdfs_with_nothing_to_remove_signed_or_unreadable_pass_byte_for_byte(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "plain.pdf"
    pikepdf.new().save(plain)
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"%PDF-1.4\n" + secrets.token_bytes(2000))
    signed = make_pdf(tmp_path / "signed.pdf", signed=True)
    for path in (plain, fake, signed):
        assert not clean_pdf(path, tmp_path / "out.pdf")
        assert not (tmp_path / "out.pdf").exists()
        with photo_cleaned(path) as sent:
            assert sent == path
    # Kept on purpose for this upload: the very file.
    with photo_cleaned(make_pdf(tmp_path / "kept.pdf"), keep=True) as sent:
        assert AUTHOR.encode() in sent.read_bytes()


def test_cli_upload_then_owner_link_and_grantee_downloads_hold_no_author(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    owner = {**cli_env, "WALLET_HOME": str(tmp_path / "home-owner")}
    worker = {**cli_env, "WALLET_HOME": str(tmp_path / "home-worker")}
    stranger = {**cli_env, "WALLET_HOME": str(tmp_path / "home-stranger")}
    worker_handle = f"worker-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", f"owner-{secrets.token_hex(4)}")
    run_cli(worker, "account", "create", "--handle", worker_handle)
    source = make_pdf(tmp_path / "receipt.pdf")
    saved = run_cli(owner, "upload", str(source), "--type", "rent_receipt").stdout
    document_id = re.search(r"Document id: ([0-9a-f]{32})", saved).group(1)  # type: ignore[union-attr]
    kept = make_pdf(tmp_path / "kept.pdf")
    said = run_cli(owner, "upload", str(kept), "--type", "lease", "--keep-photo-details").stdout
    kept_id = re.search(r"Document id: ([0-9a-f]{32})", said).group(1)  # type: ignore[union-attr]

    mine = tmp_path / "owner.pdf"
    run_cli(owner, "get", document_id, "-o", str(mine))
    assert_clean(mine.read_bytes())
    url = run_cli(owner, "share", "create", document_id).stdout.splitlines()[0]
    opened = tmp_path / "link"
    run_cli(stranger, "share", "open", url, "-o", str(opened))
    [written] = [p for p in opened.iterdir() if not p.name.startswith(".")]
    assert_clean(written.read_bytes())
    created = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "rent_receipt",
                      "--purpose", "Check").stdout  # fmt: skip
    grant_id = re.search(r"Grant id: ([0-9a-f]{32})", created).group(1)  # type: ignore[union-attr]
    received = tmp_path / "grantee.pdf"
    run_cli(worker, "received", "get", grant_id, document_id, "-o", str(received))
    assert_clean(received.read_bytes())

    back = tmp_path / "kept-back.pdf"
    run_cli(owner, "get", kept_id, "-o", str(back))
    assert back.read_bytes() == kept.read_bytes()  # kept on purpose: byte for byte
