"""`wallet request ...` (asking for documents, answering who asks) and `wallet inbox`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from wallet.cli.common import (
    day,
    echo_json,
    echo_safety_code,
    friendly,
    listed,
    own_vault,
    pins,
    say,
    split,
)
from wallet.client import attention as rules
from wallet.client import requests as requestlib
from wallet.client.vault import DocumentInfo


def offered(documents: list[DocumentInfo]) -> None:
    """The documents about to be given, one a line, with a warning for an expired paper: the
    office will likely refuse it."""
    today = rules.today_in(rules.owner_zone())
    expired = []
    for doc in documents:
        marked = rules.mark(doc.meta.get("expiry_date"), today)
        note = f"  {marked.upper() if marked == 'expired' else marked}" if marked else ""
        say(f"    {doc.id}  {doc.title}  [{doc.type}]{note}")
        if marked == "expired":
            expired.append(doc)
    for doc in expired:
        say(
            f"Warning: '{doc.title}' expired on {doc.meta['expiry_date']}. The office may not "
            "accept it: give a newer one if you have it ('wallet upload FILE --replace ID').",
            fg=typer.colors.YELLOW,
        )


request_app = typer.Typer(help="Ask for documents, or answer who asks you.", no_args_is_help=True)


@request_app.command("create")
@friendly
def request_create(
    to: Annotated[str, typer.Option("--to", help="The handle of the person you ask.")],
    types: Annotated[str, typer.Option(help="Document types, comma separated.")],
    purpose: Annotated[str, typer.Option(help="What the documents are for.")],
    due: Annotated[
        str | None, typer.Option(help="Needed by, YYYY-MM-DD (default: in 30 days).")
    ] = None,
    message: Annotated[str, typer.Option(help="A short message for the person.")] = "",
    accept_new_key: Annotated[
        bool, typer.Option(help="Only after checking the safety code in person.")
    ] = False,
) -> None:
    """Ask a person for documents. They choose what to give."""
    created = requestlib.create_request(
        own_vault(),
        to,
        types=split(types),
        purpose=purpose,
        due=day(due, "--due"),
        message=message,
        pins=pins(),
        accept_new_key=accept_new_key,
    )
    say(f"Request sent to {created.owner}, needed by {created.due:%d %B %Y}.")
    say(f"Request id: {created.id}")
    echo_safety_code(created.owner, created.safety_code, created.first_contact)


@request_app.command("ls")
@friendly
def request_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Requests you received, and requests you sent with their status."""
    items = requestlib.list_requests(own_vault(), pins())
    if listed([r.as_dict() for r in items], as_json, "No requests, sent or received."):
        return
    for request in items:
        who = (
            f"from {request.requester}"
            if request.direction == "incoming"
            else f"to {request.owner}"
        )
        say(f"{request.id}  {who}  {requestlib.STATUS_WORDS[request.status]}")
        for line in requestlib.describe(request):
            say(f"    {line}")


@request_app.command("show")
@friendly
def request_show(request_id: str) -> None:
    """A request in plain words, with your documents that match it."""
    vault = own_vault()
    request = requestlib.get_request(vault, request_id, pins())
    for line in requestlib.describe(request):
        say(line)
    if request.direction == "incoming" and request.status == "open":
        matches = requestlib.suggest_documents(vault, request)
        if not matches:
            say("You have no document of these types yet.")
        else:
            say("Your documents that match:")
            offered(matches)
        say("Give them with 'wallet request fulfil ID', or say no with 'wallet request refuse ID'.")


@request_app.command("fulfil")
@friendly
def request_fulfil(
    request_id: str,
    docs: Annotated[
        str | None, typer.Option(help="Document ids, comma separated (default: all matching).")
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(help="Last day of access, YYYY-MM-DD (default: due date + 8 days)."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why some documents are not given.")] = "",
    refuse: Annotated[
        str | None, typer.Option(help="Types you do not give, comma separated.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask to confirm.")] = False,
) -> None:
    """Give the documents asked for, in one step. Ends when the request is closed."""
    vault = own_vault()
    store = pins()
    chosen = split(docs)
    if not chosen and not yes:
        request = requestlib.get_request(vault, request_id, store)
        matches = [
            d for d in requestlib.suggest_documents(vault, request) if d.type not in split(refuse)
        ]
        if matches:
            say(f"These documents will be given to {request.requester}:")
            offered(matches)
            if not typer.confirm("Give them?", default=False):
                say("Nothing was given.")
                return
    if chosen:
        offered([d for d in vault.list_documents() if d.id in chosen])
    done = requestlib.fulfil(
        vault,
        request_id,
        document_ids=chosen or None,
        expires=day(expires, "--expires"),
        reason=reason,
        refuse_types=split(refuse),
        pins=store,
    )
    say(
        f"Given: {done.documents} document(s), until {done.expires_at:%d %B %Y} "
        f"or until the request is closed. Grant id: {done.grant_id}"
    )
    if done.refused:
        labels = ", ".join(requestlib.type_label(t) for t in done.refused)
        say(f"Not given: {labels}.")


@request_app.command("refuse")
@friendly
def request_refuse(
    request_id: str,
    reason: Annotated[str, typer.Option(help="Why, if you want to say.")] = "",
) -> None:
    """Say no to a request. Nothing is shared."""
    requestlib.refuse(own_vault(), request_id, reason=reason, pins=pins())
    say("You refused the request. Nothing was shared.")


@request_app.command("close")
@friendly
def request_close(request_id: str) -> None:
    """The request is done (or withdrawn): the access it gave ends now."""
    requestlib.close(own_vault(), request_id)
    say("The request is closed. The access it gave has ended.")


@friendly
def inbox(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What people gave you, what you asked for, links you just opened."""
    box = requestlib.inbox(own_vault(), pins())
    if as_json:
        echo_json(
            {
                "grants": [
                    {
                        "id": g["id"],
                        "via": g["via"],
                        "owner": g["owner"]["handle"],
                        "purpose": g.get("descriptor", {}).get("purpose"),
                        "documents": g["documents"],
                        "expires_at": g["expires_at"],
                    }
                    for g in box["grants"]
                ],
                "requests": [r.as_dict() for r in box["requests"]],
                "links": box["links"],
            }
        )
        return
    now = datetime.now(UTC)
    say("Given to you:")
    if not box["grants"]:
        say("    nothing right now")
    for g in box["grants"]:
        purpose = g.get("descriptor", {}).get("purpose") or "(for your team)"
        until = f"until {g['expires_at'][:10]}" if g["expires_at"] else "no end date"
        say(
            f"    {g['id']}  from {g['owner']['handle']}: {purpose}  "
            f"{g['documents']} document(s), {until}"
        )
    say("Your requests:")
    if not box["requests"]:
        say("    none")
    for r in box["requests"]:
        say(f"    {r.id}  to {r.owner}: {r.purpose}  {requestlib.STATUS_WORDS[r.status]}")
    say("Links you opened in the last 15 minutes:")
    if not box["links"]:
        say("    none")
    for link in box["links"]:
        left = datetime.fromisoformat(link["download_until"]) - now
        minutes = max(0, int(left.total_seconds() // 60))
        say(
            f"    {link['link_id']}  from {link['owner_handle']}  "
            f"downloads still possible for {minutes} min"
        )
