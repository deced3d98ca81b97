"""`wallet grant ...` (standing access you give) and `wallet received ...` (what you get)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from wallet.cli.common import echo_safety_code, friendly, listed, own_vault, pins, say, split
from wallet.client import grants as grantlib
from wallet.client.contacts import PinStore
from wallet.client.vault import Vault, VaultError
from wallet.crypto.encoding import b64d

grant_app = typer.Typer(help="Standing access for a person's account.", no_args_is_help=True)
received_app = typer.Typer(help="What other people share with you.", no_args_is_help=True)


@grant_app.command("create")
@friendly
def grant_create(
    purpose: Annotated[str, typer.Option(help="What the access is for.")],
    to: Annotated[str | None, typer.Option("--to", help="The person's handle.")] = None,
    to_org: Annotated[
        str | None, typer.Option("--to-org", help="An organisation (its team reads it).")
    ] = None,
    docs: Annotated[str | None, typer.Option(help="Document ids, comma separated.")] = None,
    types: Annotated[str | None, typer.Option(help="Document types, comma separated.")] = None,
    fields: Annotated[str | None, typer.Option(help="Profile fields, comma separated.")] = None,
    expires: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
    accept_new_key: Annotated[
        bool, typer.Option(help="Only after checking the safety code in person.")
    ] = False,
) -> None:
    """Give a person standing access to documents, types or profile fields."""
    expires_at = None
    if expires:
        try:
            expires_at = datetime.fromisoformat(expires).replace(hour=23, minute=59, tzinfo=UTC)
        except ValueError as exc:
            raise VaultError("--expires must be a date like 2027-01-31.") from exc
    if (to is None) == (to_org is None):
        raise VaultError("Say who gets the access: --to HANDLE or --to-org ORGANISATION.")
    give = grantlib.create_org_grant if to_org else grantlib.create_grant
    grant = give(
        own_vault(),
        to_org or to or "",
        purpose=purpose,
        document_ids=split(docs),
        types=split(types),
        fields=split(fields),
        expires_at=expires_at,
        pins=pins(),
        accept_new_key=accept_new_key,
    )
    say(f"Access given to {grant.grantee}: {grant.documents} document(s) now. Grant id: {grant.id}")
    if to_org:
        say(f"Team safety code of {grant.grantee}: {grant.safety_code}")
        if grant.first_contact:
            say(
                "First time with this organisation: compare this code with the office's "
                "('wallet org show')."
            )
        say("Its members of the day can read it, also after a change of staff.")
    else:
        echo_safety_code(
            grant.grantee, grant.safety_code, grant.first_contact, " ('wallet account safety-code')"
        )
    say("New documents of the chosen types will be added automatically.")


@grant_app.command("ls")
@friendly
def grant_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the access you gave."""
    items = grantlib.grants_given(own_vault())
    if listed(items, as_json, "You gave no standing access."):
        return
    for g in items:
        d = g["descriptor"]
        until = f"until {g['expires_at'][:10]}" if g["expires_at"] else "no end date"
        say(
            f"{g['id']}  {g['state']:8}  {g['grantee']['handle']}  {d['purpose']}  {g['documents']} document(s)  {until}"
        )


@grant_app.command("revoke")
@friendly
def grant_revoke(grant_id: str) -> None:
    """End a standing access now."""
    grantlib.revoke_grant(own_vault(), grant_id)
    say("The access is ended. The person cannot open anything more.")
    say(grantlib.DOWNLOADED_COPIES)


def _documents(
    vault: Vault, grant: dict[str, Any], store: PinStore
) -> list[grantlib.ReceivedDocument]:
    """The documents under a grant you received, checked against its owner's signatures."""
    owner_key = b64d(grant["owner"]["public_signing_key"])
    team = grantlib.reader_for(vault, grant, store)
    return grantlib.received_documents(vault, grant["id"], owner_key, team)


def _received_json(grant: dict[str, Any], docs: list[grantlib.ReceivedDocument]) -> dict[str, Any]:
    return {
        "grant_id": grant["id"],
        "owner": grant["owner"]["handle"],
        "via_org": (grant.get("organisation") or {}).get("handle"),
        "purpose": grant["descriptor"]["purpose"],
        "expires_at": grant["expires_at"],
        "documents": [
            {
                "id": d.document_id,
                "version": d.version,
                "title": d.meta.get("title"),
                "type": d.meta.get("type"),
                "size": d.size,
            }
            for d in docs
        ],
    }


@received_app.command("ls")
@friendly
def received_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List what people share with you."""
    vault = own_vault()
    store = pins()
    result = [(g, _documents(vault, g, store)) for g in grantlib.received(vault, store)]
    if listed(
        [_received_json(g, docs) for g, docs in result],
        as_json,
        "Nobody shares documents with you right now.",
    ):
        return
    for g, docs in result:
        via = f" (to {g['organisation']['handle']})" if g.get("organisation") else ""
        say(f"{g['id']}  from {g['owner']['handle']}{via}: {g['descriptor']['purpose']}")
        for d in docs:
            say(f"    {d.document_id}  {d.meta.get('title')}  [{d.meta.get('type')}]  v{d.version}")


@received_app.command("get")
@friendly
def received_get(
    grant_id: str,
    document_id: str,
    output: Annotated[Path, typer.Option("-o", "--output")],
) -> None:
    """Download a document someone shares with you."""
    vault = own_vault()
    store = pins()
    grant = next((g for g in grantlib.received(vault, store) if g["id"] == grant_id), None)
    if grant is None:
        raise VaultError("This access does not exist or has ended. Ask the person.")
    docs = {d.document_id: d for d in _documents(vault, grant, store)}
    if document_id not in docs:
        raise VaultError("This document is not shared with you under this access.")
    grantlib.received_get(vault, grant_id, docs[document_id], output)
    say(f"Wrote {output}.")
