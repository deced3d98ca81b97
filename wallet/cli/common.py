"""What every command shares: this invocation's options, plain failures, the session, output."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer

from wallet.client import state
from wallet.client.api import ApiClient, ApiError
from wallet.client.contacts import PinStore
from wallet.client.kdfpins import KdfPins
from wallet.client.mandates import ProxyVault
from wallet.client.vault import Vault, VaultError
from wallet.client.vaulthead import HeadPins
from wallet.crypto.keys import WrongKey

DEFAULT_SERVER = "http://127.0.0.1:8000"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Context:
    """The root options of this invocation. The root callback resets it on every run, so the
    app can be invoked many times in one process."""

    server_option: str | None = None
    for_owner: str | None = None  # `--for OWNER`: act for someone under their mandate
    acting: ProxyVault | None = None  # the mandate a `--for` command acts under, once opened

    def reset(self, server_option: str | None, for_owner: str | None) -> None:
        self.server_option = server_option
        self.for_owner = for_owner
        self.acting = None


ctx = Context()


# What a terminal would act on rather than print: escape sequences (CSI, OSC with its title or
# hyperlink, DCS/SOS/PM/APC strings, the 8-bit CSI), then any other C0 or C1 control, DEL and the
# bidirectional overrides that reorder a line. Text from the server or decrypted from someone
# else's records may hold them: "\x1b[2K\r" erases the line it is printed on.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: object, *, multiline: bool = False) -> str:
    """`text` as it may reach the terminal: escape sequences and control characters removed.
    One-line text (the default) turns its tabs and line breaks into spaces; `multiline` keeps
    line breaks (a note's text). JSON output does not go through here: JSON escapes itself."""
    value = _ESCAPES.sub("", str(text))
    value = value.replace("\r\n", "\n").replace("\t", " ")
    if not multiline:
        value = value.replace("\n", " ")
    return _CONTROLS.sub(lambda m: m.group() if m.group() == "\n" else "", value)


def say(
    message: object = "", *, err: bool = False, multiline: bool = False, fg: str | None = None
) -> None:
    """Prints one line (or, with `multiline`, lines) through `shown`: every command's output
    that is not JSON goes through here, since most of it carries remote text."""
    text = shown(message, multiline=multiline)
    if fg:
        typer.secho(text, err=err, fg=fg)
    else:
        typer.echo(text, err=err)


def fail(message: str, code: int = 1) -> NoReturn:
    say(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Turns every expected failure into one plain line and a non-zero exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ApiError as exc:
            fail(exc.message)
        except (VaultError, WrongKey) as exc:
            fail(str(exc) or "The passphrase is not right.")
        except OSError as exc:
            fail(f"Cannot use the file {exc.filename or ''}: {exc.strerror or exc}.")

    return wrapper


def server(saved: dict[str, Any] | None = None) -> str:
    return ctx.server_option or (saved or {}).get("server") or DEFAULT_SERVER


def passphrase(
    prompt: str = "Passphrase", confirm: bool = False, env: str = "WALLET_PASSPHRASE"
) -> str:
    value = os.environ.get(env)
    if value:
        return value
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def own_vault() -> Vault:
    """The logged-in account's own wallet."""
    saved = state.load()
    if saved is None:
        fail("You are not logged in. Run 'wallet login --handle YOUR-HANDLE' first.")
    api = ApiClient(server(saved), token=saved["token"])
    return Vault(api, saved["keys"], saved["account"], kdf_pins=kdf_pins(), head_pins=head_pins())


def open_vault() -> Vault | ProxyVault:
    """The wallet a command works on: your own, or with `--for OWNER` the owner's, as far as
    the mandate they gave you allows (ls, get, upload, versions, share create)."""
    vault = own_vault()
    if ctx.for_owner:
        ctx.acting = ProxyVault.open(vault, ctx.for_owner, pins())
        return ctx.acting
    return vault


def remember(vault: Vault) -> None:
    assert vault.api.token
    state.save(vault.api.server, vault.api.token, vault.keys, vault.account)


def pins() -> PinStore:
    """The keys of the people and organisations this computer already knows."""
    return PinStore(state.wallet_home() / "pins.json")


def kdf_pins() -> KdfPins:
    """The salt and passphrase protection cost each handle had when this computer last used it."""
    return KdfPins(state.wallet_home() / "kdf-pins.json")


def head_pins() -> HeadPins:
    """The newest signed state of each wallet this computer saw (its own and shared ones)."""
    return HeadPins(state.wallet_home() / "head-pins.json")


def split(value: str | None) -> list[str]:
    """A comma-separated option as a list."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def day(value: str | None, option: str, example: str = "2027-01-31") -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise VaultError(f"{option} must be a date like {example}.") from exc


def echo_json(value: Any, *, ensure_ascii: bool = True) -> None:
    typer.echo(json.dumps(value, indent=2, default=str, ensure_ascii=ensure_ascii))


def listed(items: Any, as_json: bool, empty: str, *, ensure_ascii: bool = True) -> bool:
    """For list commands: prints `items` as JSON with --json, or the `empty` sentence when
    there are none. True when that is all there is to print."""
    if as_json:
        echo_json(items, ensure_ascii=ensure_ascii)
        return True
    if not items:
        say(empty)
        return True
    return False


def echo_safety_code(handle: str, code: str, first_contact: bool, where: str = "") -> None:
    """A person's safety code and, the first time, the advice to compare it with theirs."""
    say(f"Safety code of {handle}: {code}")
    if first_contact:
        say(f"First time with this person: compare this code with theirs{where}.")


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
