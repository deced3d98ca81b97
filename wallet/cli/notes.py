"""`wallet note ...`: notes of your contacts with social services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wallet.cli.common import day, friendly, listed, own_vault, pins, say, split
from wallet.client import notes as notelib

note_app = typer.Typer(help="Notes of your contacts with social services.", no_args_is_help=True)


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
        own_vault(),
        text,
        grant_id=grant,
        contact_date=day(when, "--date"),
        persons=split(persons),
        actions=actions,
        pins=pins(),
    )
    say(f"Note saved in the file of {note.owner}. Note id: {note.id}")


@note_app.command("ls")
@friendly
def note_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Notes about you, and notes you wrote."""
    items = notelib.list_notes(own_vault(), pins())
    if listed(
        items,
        as_json,
        "No contact notes yet. Add one with 'wallet note add --text ...'.",
        ensure_ascii=False,
    ):
        return
    for note in items:
        for line in notelib.describe(note):
            say(line, multiline=True)


@note_app.command("export")
@friendly
def note_export(directory: Path) -> None:
    """Write your notes and your journal to a folder, for an appeal."""
    summary = notelib.export_notes(own_vault(), directory, pins())
    say(
        f"Wrote {summary['notes']} note(s) and {summary['entries']} journal entries "
        f"to {directory}. Start with README.txt."
    )
    if not summary["intact"]:
        say(summary["message"], err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
