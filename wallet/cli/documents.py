"""`wallet types`, `upload`, `ls`, `versions`, `get`, `rm` and `export`: your documents."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from wallet.cli.common import (
    day,
    echo_json,
    fail,
    friendly,
    human_size,
    listed,
    open_vault,
    own_vault,
    passphrase,
    say,
)
from wallet.cli.emergency import notice as emergency_notice
from wallet.client import attention as rules
from wallet.client.export import export_wallet
from wallet.client.vault import DocumentInfo, Vault
from wallet.protocol.catalogue import DOCUMENT_TYPES


def types() -> None:
    """List the document types."""
    for name, (_category, label) in DOCUMENT_TYPES.items():
        say(f"{name:28} {label}")


@friendly
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    type_: Annotated[
        str, typer.Option("--type", help="Document type; see 'wallet types'.")
    ] = "other",
    title: Annotated[str | None, typer.Option()] = None,
    issuer: Annotated[str | None, typer.Option()] = None,
    issued: Annotated[str | None, typer.Option(help="Issue date, YYYY-MM-DD.")] = None,
    expires: Annotated[str | None, typer.Option(help="Expiry date, YYYY-MM-DD.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeat for more.")] = None,
    label: Annotated[str | None, typer.Option(help="Your own label for type 'other'.")] = None,
    replace: Annotated[str | None, typer.Option(help="Add a new version of this document.")] = None,
    keep_photo_details: Annotated[
        bool,
        typer.Option(
            "--keep-photo-details",
            help="Keep a photo's hidden details for this upload: where it was taken (GPS), "
            "the phone's make, model and serial number, and the time. Anyone you share it "
            "with can read them. Without it they are removed on this computer.",
        ),
    ] = False,
) -> None:
    """Encrypt a file on this computer and store it in your wallet. Photos (JPEG, PNG, WebP,
    HEIC) lose their hidden details first: place, phone and time."""
    for value, name in ((issued, "--issued"), (expires, "--expires")):
        day(value, name, example="2027-03-31")
    document_id, version = open_vault().upload(
        file,
        type_,
        title,
        issuer=issuer,
        issue_date=issued,
        expiry_date=expires,
        tags=tag,
        label=label,
        replace=replace,
        keep_photo_details=keep_photo_details,
    )
    if keep_photo_details:
        say("The photo keeps its hidden details (place, phone, time), as you chose.")
    if version > 1:
        say(f"Saved version {version} of {document_id}.")
    else:
        say(f"Saved. Document id: {document_id}")


def _document_json(d: DocumentInfo, today: date) -> dict[str, Any]:
    return {
        "id": d.id,
        "title": d.title,
        "type": d.type,
        "version": d.version,
        "versions": d.versions,
        "size": d.size,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "issuer": d.meta.get("issuer"),
        "issue_date": d.meta.get("issue_date"),
        "expiry_date": d.meta.get("expiry_date"),
        "expiry_mark": rules.mark(d.meta.get("expiry_date"), today),
        "tags": d.meta.get("tags", []),
        "file_name": d.meta.get("file_name"),
        "media_type": d.meta.get("media_type"),
        "added_by": d.added_by,
    }


@friendly
def list_documents(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your documents (decrypted on this computer)."""
    vault = open_vault()
    documents = vault.list_documents()
    if isinstance(vault, Vault) and not as_json:
        emergency_notice(vault)  # a request for emergency access, shown until it is answered
    today = rules.today_in(rules.owner_zone())
    if listed(
        [_document_json(d, today) for d in documents],
        as_json,
        "Your wallet is empty. Add a document with 'wallet upload FILE'.",
    ):
        return
    for d in documents:
        expiry = f"  expires {d.meta['expiry_date']}" if d.meta.get("expiry_date") else ""
        if marked := rules.mark(d.meta.get("expiry_date"), today):
            expiry = (
                f"  EXPIRED on {d.meta['expiry_date']}"
                if marked == "expired"
                else f"  {marked} ({d.meta['expiry_date']})"
            )
        added = f"  (added by {d.added_by} on your behalf)" if d.added_by else ""
        say(
            f"{d.id}  {d.title}  [{d.type}]  v{d.version} of {d.versions}  "
            f"{human_size(d.size)}  {d.updated_at[:10]}{expiry}{added}"
        )


@friendly
def versions(document_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List every version of a document."""
    items = open_vault().versions(document_id)
    if as_json:
        echo_json(
            [
                {
                    "version": v.version,
                    "size": v.size,
                    "created_at": v.created_at,
                    "title": v.meta.get("title"),
                    "file_name": v.meta.get("file_name"),
                }
                for v in items
            ]
        )
        return
    for v in items:
        say(f"v{v.version}  {v.meta.get('title')}  {human_size(v.size)}  {v.created_at[:19]}")


@friendly
def get(
    document_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the file.")],
    version: Annotated[int | None, typer.Option(help="An older version number.")] = None,
) -> None:
    """Download and decrypt a document."""
    chosen = open_vault().download(document_id, output, version)
    say(f"Wrote {output} (version {chosen.version}).")


@friendly
def remove(document_id: str) -> None:
    """Delete a document and all its versions."""
    own_vault().delete(document_id)
    say("The document is deleted.")


@friendly
def export(directory: Path) -> None:
    """Export everything, encrypted, in a form the free 'age' tool can open."""
    if directory.exists() and any(directory.iterdir()):
        fail(f"{directory} is not empty. Choose an empty or new folder.")
    count = export_wallet(own_vault(), directory, passphrase())
    say(
        f"Exported {count} document files to {directory}. Read {directory / 'README.txt'} to open them."
    )
