"""What every command shares: this invocation's options, plain failures, the session, output."""

from __future__ import annotations

import functools
import json
import os
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


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(message, err=True, fg=typer.colors.RED)
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
    return Vault(api, saved["keys"], saved["account"], kdf_pins=kdf_pins())


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
        typer.echo(empty)
        return True
    return False


def echo_safety_code(handle: str, code: str, first_contact: bool, where: str = "") -> None:
    """A person's safety code and, the first time, the advice to compare it with theirs."""
    typer.echo(f"Safety code of {handle}: {code}")
    if first_contact:
        typer.echo(f"First time with this person: compare this code with theirs{where}.")


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
