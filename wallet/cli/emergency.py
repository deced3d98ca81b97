"""`wallet emergency ...`: name a trusted person who can ask for your papers or a new
passphrase after a waiting period you can refuse during; and, as a trusted person, ask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wallet.cli.common import (
    echo_json,
    echo_safety_code,
    friendly,
    own_vault,
    passphrase,
    pins,
    say,
)
from wallet.client import emergency as emergencylib
from wallet.client.vault import Vault

emergency_app = typer.Typer(
    help="Emergency access: a trusted person can ask for your papers, after a wait you choose.",
    no_args_is_help=True,
)

ACCESS_WORDS = {"view": "read your papers and details", "takeover": "choose a new passphrase"}


def _when(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def notice(vault: Vault) -> None:
    """At every login and listing: a request for emergency access, and how to refuse it."""
    try:
        rows = emergencylib.waiting(vault)
    except Exception:  # noqa: BLE001 (a notice must never stop the command it goes with)
        return
    for row in rows:
        who = row["trusted"]["handle"]
        if row["state"] == "waiting":
            say(
                f"ATTENTION: {who} asked for emergency access to your wallet "
                f"({ACCESS_WORDS.get(row['access'], row['access'])}). "
                f"It opens on {_when(row['release_at'])} UTC unless you refuse.",
                fg=typer.colors.RED,
            )
            say(f"  To refuse now: wallet emergency refuse {row['id']}")
        else:
            say(
                f"ATTENTION: {who} has emergency access to your wallet since "
                f"{_when(row['release_at'])} UTC. To stop it: wallet emergency end {row['id']}",
                fg=typer.colors.RED,
            )


@emergency_app.command("add")
@friendly
def emergency_add(
    to: Annotated[str, typer.Option("--to", help="Your trusted person's handle.")],
    access: Annotated[
        str, typer.Option(help="view (read your papers) or takeover (choose a new passphrase).")
    ] = "view",
    wait_days: Annotated[
        int, typer.Option("--wait-days", help="Days you have to refuse a request: 1 to 30.")
    ] = 7,
    accept_new_key: Annotated[
        bool, typer.Option(help="Only after checking the safety code in person.")
    ] = False,
) -> None:
    """Name a trusted person who can ask for access when you cannot."""
    added = emergencylib.add(
        own_vault(),
        to,
        access=access,
        wait_days=wait_days,
        pins=pins(),
        accept_new_key=accept_new_key,
    )
    say(f"{added.trusted} can now ask for emergency access. Arrangement id: {added.id}")
    say(
        f"If they ask, you have {wait_days} day(s) to refuse. You will see the request "
        "each time you log in."
    )
    echo_safety_code(added.trusted, added.safety_code, added.first_contact)


@emergency_app.command("list")
@friendly
def emergency_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The trusted people you named, and the people who named you."""
    vault = own_vault()
    mine = emergencylib.given(vault)
    theirs = emergencylib.received(vault)
    if as_json:
        echo_json({"given": mine, "received": theirs})
        return
    if not mine and not theirs:
        say("No emergency access: you named nobody, and nobody named you.")
        return
    for row in mine:
        opens = f", opens {_when(row['release_at'])} UTC" if row["state"] == "waiting" else ""
        say(
            f"{row['id']}  {row['state']:8}  {row['trusted']['handle']} may "
            f"{ACCESS_WORDS[row['access']]} after {row['wait_days']} day(s){opens}"
        )
    for row in theirs:
        opens = f", opens {_when(row['release_at'])} UTC" if row["state"] == "waiting" else ""
        say(
            f"{row['id']}  {row['state']:8}  you may {ACCESS_WORDS[row['access']]} for "
            f"{row['owner']['handle']} after {row['wait_days']} day(s){opens}"
        )


@emergency_app.command("end")
@friendly
def emergency_end(arrangement_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """End an arrangement for good. The person can no longer ask."""
    emergencylib.end(own_vault(), arrangement_id)
    say("Ended. This person can no longer ask for emergency access.")


@emergency_app.command("refuse")
@friendly
def emergency_refuse(arrangement_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Refuse a request: nothing is opened. The person may ask again later."""
    emergencylib.refuse(own_vault(), arrangement_id)
    say("Refused. Nothing was opened. To stop them asking again: wallet emergency end ID")


@emergency_app.command("request")
@friendly
def emergency_request(arrangement_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """As a trusted person: ask for access. The person is told and can refuse during the wait."""
    row = emergencylib.request(own_vault(), arrangement_id)
    say(
        f"Asked. {row['owner']['handle']} sees your request when they log in. Unless they "
        f"refuse, access opens on {_when(row['release_at'])} UTC: then run "
        f"'wallet emergency open {arrangement_id}'."
    )


@emergency_app.command("open")
@friendly
def emergency_open(
    arrangement_id: Annotated[str, typer.Argument(metavar="ID")],
    get: Annotated[str | None, typer.Option(help="A document id to save.")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to save it.")] = None,
    take_over: Annotated[
        bool, typer.Option("--take-over", help="Choose a new passphrase for the person.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """As a trusted person, once access opened: read the papers, or choose a new passphrase."""
    vault = own_vault()
    if take_over:
        new = passphrase("New passphrase for the person", confirm=True, env="WALLET_NEW_PASSPHRASE")
        handle = emergencylib.take_over(vault, arrangement_id, new, pins())
        say(f"Done: {handle} can log in with the new passphrase. Every session of theirs ended.")
        say("Give it to them in person. They should change it after logging in.")
        return
    owner = emergencylib.owner_vault(vault, arrangement_id, pins())
    if get:
        target = out or Path(get)
        owner.download(get, target)
        say(f"Saved to {target}.")
        return
    documents = owner.list_documents()
    details = owner.profile()
    if as_json:
        echo_json(
            {
                "documents": [
                    {"id": d.id, "title": d.title, "type": d.type, "version": d.version}
                    for d in documents
                ],
                "profile": details,
            },
            ensure_ascii=False,
        )
        return
    if not documents:
        say("No papers in this wallet.")
    for d in documents:
        say(f"{d.id}  {d.title}  [{d.type}]  v{d.version}")
    for name, value in details.items():
        say(f"{name}: {value}")
