"""`wallet request`, `wallet note` and `wallet inbox`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from wallet.client import notes as notelib
from wallet.client import requests as requestlib
from wallet.client import state
from wallet.client.contacts import PinStore
from wallet.client.vault import VaultError

request_app = typer.Typer(help="Ask for documents, or answer who asks you.", no_args_is_help=True)
note_app = typer.Typer(help="Notes of your contacts with social services.", no_args_is_help=True)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _pins() -> PinStore:
    return PinStore(state.wallet_home() / "pins.json")


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise VaultError(f"{option} must be a date like 2027-01-31.") from exc


def register(app: typer.Typer, open_vault, friendly) -> None:  # type: ignore[no-untyped-def]
    """Adds the request, note and inbox commands to the main `wallet` command."""
    app.add_typer(request_app, name="request")
    app.add_typer(note_app, name="note")

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
            open_vault(),
            to,
            types=_split(types),
            purpose=purpose,
            due=_day(due, "--due"),
            message=message,
            pins=_pins(),
            accept_new_key=accept_new_key,
        )
        typer.echo(f"Request sent to {created.owner}, needed by {created.due:%d %B %Y}.")
        typer.echo(f"Request id: {created.id}")
        typer.echo(f"Safety code of {created.owner}: {created.safety_code}")
        if created.first_contact:
            typer.echo("First time with this person: compare this code with theirs.")

    @request_app.command("ls")
    @friendly
    def request_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Requests you received, and requests you sent with their status."""
        items = requestlib.list_requests(open_vault(), _pins())
        if as_json:
            typer.echo(json.dumps([r.as_dict() for r in items], indent=2))
            return
        if not items:
            typer.echo("No requests, sent or received.")
        for request in items:
            who = (
                f"from {request.requester}"
                if request.direction == "incoming"
                else f"to {request.owner}"
            )
            typer.echo(f"{request.id}  {who}  {requestlib.STATUS_WORDS[request.status]}")
            for line in requestlib.describe(request):
                typer.echo(f"    {line}")

    @request_app.command("show")
    @friendly
    def request_show(request_id: str) -> None:
        """A request in plain words, with your documents that match it."""
        vault = open_vault()
        request = requestlib.get_request(vault, request_id, _pins())
        for line in requestlib.describe(request):
            typer.echo(line)
        if request.direction == "incoming" and request.status == "open":
            matches = requestlib.suggest_documents(vault, request)
            if not matches:
                typer.echo("You have no document of these types yet.")
            else:
                typer.echo("Your documents that match:")
                for doc in matches:
                    typer.echo(f"    {doc.id}  {doc.title}  [{doc.type}]")
            typer.echo(
                "Give them with 'wallet request fulfil ID', or say no with "
                "'wallet request refuse ID'."
            )

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
        vault = open_vault()
        pins = _pins()
        chosen = _split(docs)
        if not chosen and not yes:
            request = requestlib.get_request(vault, request_id, pins)
            matches = [
                d
                for d in requestlib.suggest_documents(vault, request)
                if d.type not in _split(refuse)
            ]
            if matches:
                typer.echo(f"These documents will be given to {request.requester}:")
                for doc in matches:
                    typer.echo(f"    {doc.id}  {doc.title}  [{doc.type}]")
                if not typer.confirm("Give them?", default=False):
                    typer.echo("Nothing was given.")
                    return
        done = requestlib.fulfil(
            vault,
            request_id,
            document_ids=chosen or None,
            expires=_day(expires, "--expires"),
            reason=reason,
            refuse_types=_split(refuse),
            pins=pins,
        )
        typer.echo(
            f"Given: {done.documents} document(s), until {done.expires_at:%d %B %Y} "
            f"or until the request is closed. Grant id: {done.grant_id}"
        )
        if done.refused:
            labels = ", ".join(requestlib.type_label(t) for t in done.refused)
            typer.echo(f"Not given: {labels}.")

    @request_app.command("refuse")
    @friendly
    def request_refuse(
        request_id: str,
        reason: Annotated[str, typer.Option(help="Why, if you want to say.")] = "",
    ) -> None:
        """Say no to a request. Nothing is shared."""
        requestlib.refuse(open_vault(), request_id, reason=reason, pins=_pins())
        typer.echo("You refused the request. Nothing was shared.")

    @request_app.command("close")
    @friendly
    def request_close(request_id: str) -> None:
        """The request is done (or withdrawn): the access it gave ends now."""
        requestlib.close(open_vault(), request_id)
        typer.echo("The request is closed. The access it gave has ended.")

    @note_app.command("add")
    @friendly
    def note_add(
        text: Annotated[str, typer.Option(help="What was said.")],
        grant: Annotated[
            str | None, typer.Option(help="The access the contact is about (workers: required).")
        ] = None,
        when: Annotated[
            str | None, typer.Option("--date", help="Day of the contact, YYYY-MM-DD.")
        ] = None,
        persons: Annotated[str | None, typer.Option(help="Who was there, comma separated.")] = None,
        actions: Annotated[str, typer.Option(help="What was decided.")] = "",
    ) -> None:
        """Keep a trace of a contact: date, persons, what was said, what was decided."""
        note = notelib.add_note(
            open_vault(),
            text,
            grant_id=grant,
            contact_date=_day(when, "--date"),
            persons=_split(persons),
            actions=actions,
            pins=_pins(),
        )
        typer.echo(f"Note saved in the file of {note.owner}. Note id: {note.id}")

    @note_app.command("ls")
    @friendly
    def note_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Notes about you, and notes you wrote."""
        items = notelib.list_notes(open_vault(), _pins())
        if as_json:
            typer.echo(json.dumps(items, indent=2, ensure_ascii=False))
            return
        if not items:
            typer.echo("No contact notes yet. Add one with 'wallet note add --text ...'.")
        for note in items:
            for line in notelib.describe(note):
                typer.echo(line)

    @note_app.command("export")
    @friendly
    def note_export(directory: Path) -> None:
        """Write your notes and your journal to a folder, for an appeal."""
        summary = notelib.export_notes(open_vault(), directory, _pins())
        typer.echo(
            f"Wrote {summary['notes']} note(s) and {summary['entries']} journal entries "
            f"to {directory}. Start with README.txt."
        )
        if not summary["intact"]:
            typer.secho(summary["message"], err=True, fg=typer.colors.RED)
            raise typer.Exit(1)

    @app.command("inbox")
    @friendly
    def inbox(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """What people gave you, what you asked for, links you just opened."""
        box = requestlib.inbox(open_vault(), _pins())
        if as_json:
            typer.echo(
                json.dumps(
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
                    },
                    indent=2,
                )
            )
            return
        now = datetime.now(UTC)
        typer.echo("Given to you:")
        if not box["grants"]:
            typer.echo("    nothing right now")
        for g in box["grants"]:
            purpose = g.get("descriptor", {}).get("purpose") or "(for your team)"
            until = f"until {g['expires_at'][:10]}" if g["expires_at"] else "no end date"
            typer.echo(
                f"    {g['id']}  from {g['owner']['handle']}: {purpose}  "
                f"{g['documents']} document(s), {until}"
            )
        typer.echo("Your requests:")
        if not box["requests"]:
            typer.echo("    none")
        for r in box["requests"]:
            typer.echo(
                f"    {r.id}  to {r.owner}: {r.purpose}  {requestlib.STATUS_WORDS[r.status]}"
            )
        typer.echo("Links you opened in the last 15 minutes:")
        if not box["links"]:
            typer.echo("    none")
        for link in box["links"]:
            left = datetime.fromisoformat(link["download_until"]) - now
            minutes = max(0, int(left.total_seconds() // 60))
            typer.echo(
                f"    {link['link_id']}  from {link['owner_handle']}  "
                f"downloads still possible for {minutes} min"
            )


__all__ = ["register"]
