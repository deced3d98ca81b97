"""`wallet proxy ...` (digital proxies) and `wallet --for OWNER ...` (acting under a mandate)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from wallet.cli.common import (
    ctx,
    echo_safety_code,
    fail,
    friendly,
    listed,
    own_vault,
    pins,
    say,
    split,
)
from wallet.client import journal as journallib
from wallet.client import mandates as mandatelib
from wallet.client.vault import Vault, VaultError

proxy_app = typer.Typer(
    help="Digital proxies: let a trusted person act for you, inside limits you choose.",
    no_args_is_help=True,
)

# Under `--for OWNER` only these commands act for the owner; everything else is refused.
ALLOWED_FOR = {"ls", "get", "upload", "versions"}
ALLOWED_SHARE_FOR = {"create", "open", "check"}
REFUSALS = {
    "account": "A proxy cannot change the passphrase or the recovery key, or delete the "
    "account. Only the owner can.",
    "journal": "A proxy cannot read the owner's journal. See what you did for them with "
    "'wallet proxy actions MANDATE_ID'.",
    "login": "Leave out --for: log in with your own handle.",
}


def _after(word: str, args: list[str]) -> str | None:
    """The subcommand after `word` on the command line (click hides it from the callback)."""
    if word in args:
        rest = [a for a in args[args.index(word) + 1 :] if not a.startswith("-")]
        return rest[0] if rest else None
    return None


def refuse_under_mandate(command: str | None, args: list[str]) -> None:
    """Fails with a plain message for anything a proxy may not do for the owner. `args`: the
    whole command line after `wallet`."""
    if command in ALLOWED_FOR:
        return
    if command == "share" and _after("share", args) in ALLOWED_SHARE_FOR:
        return
    if command == "proxy":
        message = (
            mandatelib.NO_DELEGATION
            if _after("proxy", args) in (None, "create", "ls", "revoke", "attestation")
            else "Leave out --for: 'wallet proxy ...' works on your own account."
        )
    elif command == "share":
        message = (
            "Under a mandate you can only create one-time links ('wallet --for OWNER share "
            "create DOC_ID'). The owner sees and stops them."
        )
    else:
        message = REFUSALS.get(
            command or "",
            "Under a mandate you can only use: ls, get, upload, versions and share create. "
            "Only the owner can do the rest.",
        )
    fail(message)


@friendly
def finish_acting() -> None:
    """After a `--for` command that did something: a one-shot mandate is now used."""
    proxy = ctx.acting
    if proxy is None or not proxy.once or not proxy.acted:
        return
    proxy.complete()
    say(
        f"This was a one-shot mandate: it is now used and has ended. "
        f"{proxy.owner['handle']} can see what you did."
    )


def show_banner(vault: Vault) -> None:
    """At login: what people with a mandate did for the owner since the previous login."""
    entries = journallib.fetch_entries(vault)
    done = mandatelib.actions_since_last_login(entries)
    if not done:
        return
    rendered = journallib.render(vault, done)
    say(
        f"While you were away, {len(done)} thing(s) were done for you under a mandate:",
        fg=typer.colors.YELLOW,
    )
    for entry in rendered:
        say(f"  {entry['when']}  {entry['sentence']}")
    say("See everything with 'wallet journal'. End a mandate with 'wallet proxy revoke ID'.")


def _attestation(path: Path, descriptor: dict[str, Any], server: str) -> Path:
    if path.suffix.lower() == ".pdf":
        html_path = path.with_suffix(".html")
        say(
            f"No PDF writer is installed with the wallet. Wrote {html_path} instead: open it "
            "in a browser and choose Print, then 'Save as PDF'."
        )
        path = html_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(mandatelib.attestation_html(descriptor, server), encoding="utf-8")
    return path


def _when(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%d %b %Y %H:%M")


@proxy_app.command("create")
@friendly
def proxy_create(
    to: Annotated[str, typer.Option("--to", help="The trusted person's handle.")],
    purpose: Annotated[str, typer.Option(help="What it is for, in a few words.")],
    duration: Annotated[
        str | None,
        typer.Option(help="once (one procedure, 24 h at most), 1d, 1m, 6m or 1y."),
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option(help="Procedure categories, e.g. housing,health. Never 'all'."),
    ] = None,
    docs: Annotated[str | None, typer.Option(help="Chosen document ids, comma separated.")] = None,
    actions: Annotated[
        str, typer.Option(help="What they may do: view, upload, share (comma separated).")
    ] = "view",
    attestation: Annotated[
        Path | None, typer.Option(help="Write a printable attestation with a QR code (.html).")
    ] = None,
    accept_new_key: Annotated[
        bool, typer.Option(help="Only after checking the safety code in person.")
    ] = False,
) -> None:
    """Give a trusted person a mandate to act for you."""
    vault = own_vault()
    created = mandatelib.create_mandate(
        vault,
        to,
        categories=split(scope),
        document_ids=split(docs),
        actions=split(actions),
        duration=duration,
        purpose=purpose,
        pins=pins(),
        accept_new_key=accept_new_key,
    )
    terms = mandatelib.plain_terms(created.descriptor)
    say(f"Mandate given. Mandate id: {created.id}")
    for key in ("who", "what", "until", "why"):
        say(f"  {terms[key]}")
    say(f"  {created.documents} document(s) are in it now.")
    echo_safety_code(
        created.proxy, created.safety_code, created.first_contact, " ('wallet account safety-code')"
    )
    say("You can end it at any time with 'wallet proxy revoke ID'.")
    if attestation:
        written = _attestation(attestation, created.descriptor, vault.api.server)
        say(f"Attestation written to {written}.")


@proxy_app.command("ls")
@friendly
def proxy_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the mandates you gave, active and ended."""
    items = mandatelib.mandates_given(own_vault())
    if listed(items, as_json, "You gave no mandate."):
        return
    for m in items:
        d = m["descriptor"]
        say(
            f"{m['id']}  {m['state']:9}  {d['proxy']}  {','.join(m['actions'])}  "
            f"{d['purpose']}  until {_when(d['expires_at'])}"
        )


@proxy_app.command("revoke")
@friendly
def proxy_revoke(mandate_id: str) -> None:
    """End a mandate now."""
    mandatelib.revoke_mandate(own_vault(), mandate_id)
    say("The mandate is ended. The person cannot act for you any more.")
    say("Copies they already downloaded cannot be taken back. Links they made are stopped.")


@proxy_app.command("attestation")
@friendly
def proxy_attestation(
    mandate_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="The .html file to write.")],
) -> None:
    """Print the attestation of a mandate again (yours, or one you received)."""
    vault = own_vault()
    found = [m for m in mandatelib.mandates_given(vault) if m["id"] == mandate_id]
    found = found or [m for m in mandatelib.received(vault, pins()) if m["id"] == mandate_id]
    if not found:
        raise VaultError(f"No mandate {mandate_id}. See 'wallet proxy ls'.")
    written = _attestation(output, found[0]["descriptor"], vault.api.server)
    say(f"Attestation written to {written}.")


@proxy_app.command("received")
@friendly
def proxy_received(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the active mandates people gave you."""
    items = mandatelib.received(own_vault(), pins())
    if listed(items, as_json, "Nobody gave you a mandate right now."):
        return
    for m in items:
        d = m["descriptor"]
        say(
            f"{m['id']}  for {d['owner']}  {','.join(m['actions'])}  {d['purpose']}  "
            f"until {_when(d['expires_at'])}" + ("  (one-shot)" if m["kind"] == "once" else "")
        )
    say("Act for someone with 'wallet --for THEIR-HANDLE ls'.")


@proxy_app.command("renounce")
@friendly
def proxy_renounce(mandate_id: str) -> None:
    """Give up a mandate someone gave you. It ends at once."""
    mandatelib.renounce(own_vault(), mandate_id)
    say("You gave up the mandate. The person sees it in their journal.")


@proxy_app.command("actions")
@friendly
def proxy_actions(
    mandate_id: str, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """What you did under a mandate (only your own actions)."""
    items = mandatelib.own_actions(own_vault(), mandate_id)
    if listed(items, as_json, "You did nothing under this mandate yet."):
        return
    for item in items:
        what = item["event"].removeprefix("mandate_").replace("_", " ")
        say(f"{_when(item['at'])}  {what}  {item['subject_id'] or ''}")
