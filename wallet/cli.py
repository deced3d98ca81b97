"""The `wallet` command: the service (serve, migrate, sweep) and the owner's client."""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from wallet.cli_oidc import register as register_oidc
from wallet.cli_orgs import register as register_orgs
from wallet.cli_proxy import register as register_proxy
from wallet.cli_requests import register as register_requests
from wallet.cli_sharing import register as register_sharing
from wallet.cli_sharing import safety_code_command
from wallet.client import state
from wallet.client.api import ApiClient, ApiError
from wallet.client.export import export_wallet
from wallet.client.vault import Vault, VaultError
from wallet.crypto.keys import WrongKey
from wallet.protocol.catalogue import DOCUMENT_TYPES, PROFILE_FIELDS

app = typer.Typer(
    help="Your personal document wallet. Only you hold the keys.", no_args_is_help=True
)
account_app = typer.Typer(help="Create, recover or delete your account.", no_args_is_help=True)
profile_app = typer.Typer(help="Your encrypted profile record.", no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(profile_app, name="profile")

DEFAULT_SERVER = "http://127.0.0.1:8000"
F = TypeVar("F", bound=Callable[..., Any])


class Context:
    server_option: str | None = None
    for_owner: str | None = None  # `--for OWNER`: act for someone under their mandate


ctx = Context()


def fail(message: str, code: int = 1) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def friendly(func: F) -> F:
    """Turns every expected failure into one plain line and a non-zero exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ApiError as exc:
            fail(exc.message)
        except (VaultError, WrongKey) as exc:
            fail(str(exc) or "The passphrase is not right.")
        except OSError as exc:
            fail(f"Cannot use the file {exc.filename or ''}: {exc.strerror or exc}.")

    return wrapper  # type: ignore[return-value]


def _after_command(*_args: Any, **_kwargs: Any) -> None:
    if ctx.for_owner:
        from wallet.cli_proxy import finish_acting

        friendly(finish_acting)()


@app.callback(result_callback=_after_command)
def main_options(
    context: typer.Context,
    server: Annotated[
        str | None, typer.Option(help="Wallet server address.", envvar="WALLET_SERVER")
    ] = None,
    for_owner: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Act for this person under the mandate they gave you: ls, get, upload, share.",
        ),
    ] = None,
) -> None:
    ctx.server_option = server
    ctx.for_owner = for_owner
    if for_owner:
        from wallet.cli_proxy import refuse_under_mandate

        refuse_under_mandate(context.invoked_subcommand)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _server(saved: dict[str, Any] | None = None) -> str:
    return ctx.server_option or (saved or {}).get("server") or DEFAULT_SERVER


def _passphrase(
    prompt: str = "Passphrase", confirm: bool = False, env: str = "WALLET_PASSPHRASE"
) -> str:
    value = os.environ.get(env)
    if value:
        return value
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def _open_vault() -> Vault:
    saved = state.load()
    if saved is None:
        fail("You are not logged in. Run 'wallet login --handle YOUR-HANDLE' first.")
    assert saved is not None
    api = ApiClient(_server(saved), token=saved["token"])
    vault = Vault(api, saved["keys"], saved["account"])
    if ctx.for_owner:
        from wallet.cli_proxy import acting_for

        return acting_for(vault, ctx.for_owner)  # type: ignore[return-value]
    return vault


def _remember(vault: Vault) -> None:
    assert vault.api.token
    state.save(vault.api.server, vault.api.token, vault.keys, vault.account)


# --- service -------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="WALLET_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="WALLET_PORT")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (one per core).", envvar="WALLET_WORKERS")
    ] = 1,
) -> None:
    """Run the service. An empty database is set up on the first start."""
    import uvicorn

    from wallet.server.app import prepare_database
    from wallet.settings import Settings

    settings = Settings()
    prepare_database(settings)
    typer.echo(f"Wallet service on http://{host}:{port}")
    uvicorn.run(
        "wallet.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # Behind a reverse proxy the client address (for login throttling) comes from
        # X-Forwarded-For, trusted only from these proxy addresses.
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from wallet.db import migrate as run_migrations
    from wallet.settings import Settings

    run_migrations(Settings().resolved_database_url)
    typer.echo("The database is up to date.")


@app.command()
def sweep() -> None:
    """Delete expired unfinished uploads and blobs that no document uses."""
    from storage.factory import make_store
    from wallet.db import make_engine
    from wallet.server.sweeper import sweep as run_sweep
    from wallet.settings import Settings

    settings = Settings()
    report = run_sweep(
        make_engine(settings.resolved_database_url),
        make_store(settings),
        timedelta(seconds=settings.orphan_grace_seconds),
    )
    typer.echo(
        f"Removed {report.expired_uploads} expired uploads, {report.orphan_staging} "
        f"unfinished upload files and {report.orphan_blobs} unused files."
    )


@app.command()
def types() -> None:
    """List the document types."""
    for name, (_category, label) in DOCUMENT_TYPES.items():
        typer.echo(f"{name:28} {label}")


# --- account -------------------------------------------------------------------------------


@account_app.command("create")
@friendly
def account_create(
    handle: Annotated[
        str | None, typer.Option(help="A name that does not reveal who you are.")
    ] = None,
    recovery_qr: Annotated[
        Path | None, typer.Option(help="Also write the recovery key as a QR code (PNG).")
    ] = None,
) -> None:
    """Create a wallet. No e-mail, phone number or real name is needed."""
    api = ApiClient(_server())
    if not handle:
        handle = api.api("GET", "/accounts/params").json()["suggested_handle"]
        typer.echo(f"Your handle: {handle}")
    passphrase = _passphrase("Choose a passphrase", confirm=True)
    if len(passphrase) < 10:
        fail("Choose a longer passphrase: at least 10 characters. A few words in a row work well.")
    vault, recovery_text = Vault.create_account(api, handle, passphrase)
    _remember(vault)
    typer.echo(f"Your wallet '{handle}' is ready.")
    typer.echo("")
    typer.echo("Your recovery key (shown only once, write it down or print it):")
    typer.echo(f"  {recovery_text}")
    typer.echo(
        "With it you can choose a new passphrase if you forget yours. Keep it somewhere safe."
    )
    if recovery_qr:
        import segno

        segno.make(recovery_text, error="m").save(str(recovery_qr), scale=8, border=4)
        typer.echo(f"QR code of the recovery key written to {recovery_qr}.")


@app.command()
@friendly
def login(handle: Annotated[str, typer.Option(help="Your handle.")]) -> None:
    """Log in and keep the session on this computer until 'wallet logout'."""
    vault = Vault.login(ApiClient(_server()), handle, _passphrase())
    _remember(vault)
    typer.echo(f"Logged in as {handle}.")
    from wallet.cli_proxy import show_banner

    show_banner(vault)  # what people with a mandate did for you since your last login


@app.command()
@friendly
def logout() -> None:
    """End the session and remove the keys from this computer."""
    saved = state.load()
    if saved:
        Vault(
            ApiClient(_server(saved), token=saved["token"]), saved["keys"], saved["account"]
        ).logout()
    state.clear()
    typer.echo("Logged out. Your keys are no longer on this computer.")


@account_app.command("passphrase")
@friendly
def account_passphrase() -> None:
    """Change your passphrase. Your documents stay as they are."""
    vault = _open_vault()
    current = _passphrase("Current passphrase")
    new = _passphrase("New passphrase", confirm=True, env="WALLET_NEW_PASSPHRASE")
    vault.change_passphrase(current, new)
    _remember(vault)
    typer.echo("Your passphrase is changed. Other sessions were logged out.")


@account_app.command("recover")
@friendly
def account_recover(
    handle: Annotated[str, typer.Option(help="Your handle.")],
    recovery_key: Annotated[
        str | None,
        typer.Option(envvar="WALLET_RECOVERY_KEY", help="The key from your recovery sheet."),
    ] = None,
) -> None:
    """Choose a new passphrase with your recovery key."""
    key_text = recovery_key or typer.prompt("Recovery key", hide_input=True)
    new = _passphrase("New passphrase", confirm=True, env="WALLET_NEW_PASSPHRASE")
    vault = Vault.recover(ApiClient(_server()), handle, key_text, new)
    _remember(vault)
    typer.echo("Your new passphrase is set. You are logged in.")


@account_app.command("delete")
@friendly
def account_delete(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask again.")] = False,
) -> None:
    """Delete your wallet for good: keys, documents and profile."""
    vault = _open_vault()
    if not yes:
        typer.confirm(
            "This deletes all your documents for good. Nobody can bring them back. Continue?",
            abort=True,
        )
    vault.delete_account(_passphrase())
    state.clear()
    typer.echo("Your wallet is deleted. Nothing of it can be opened any more.")


# --- documents -----------------------------------------------------------------------------


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


@app.command()
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
) -> None:
    """Encrypt a file on this computer and store it in your wallet."""
    for value, name in ((issued, "--issued"), (expires, "--expires")):
        if value:
            _check_date(value, name)
    vault = _open_vault()
    document_id, version = vault.upload(
        file,
        type_,
        title,
        issuer=issuer,
        issue_date=issued,
        expiry_date=expires,
        tags=tag,
        label=label,
        replace=replace,
    )
    if version > 1:
        typer.echo(f"Saved version {version} of {document_id}.")
    else:
        typer.echo(f"Saved. Document id: {document_id}")


def _check_date(value: str, option: str) -> None:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2027-03-31.")


@app.command("ls")
@friendly
def list_documents(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your documents (decrypted on this computer)."""
    documents = _open_vault().list_documents()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
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
                        "tags": d.meta.get("tags", []),
                        "file_name": d.meta.get("file_name"),
                        "media_type": d.meta.get("media_type"),
                        "added_by": d.added_by,
                    }
                    for d in documents
                ],
                indent=2,
            )
        )
        return
    if not documents:
        typer.echo("Your wallet is empty. Add a document with 'wallet upload FILE'.")
        return
    for d in documents:
        expiry = f"  expires {d.meta['expiry_date']}" if d.meta.get("expiry_date") else ""
        added = f"  (added by {d.added_by} on your behalf)" if d.added_by else ""
        typer.echo(
            f"{d.id}  {d.title}  [{d.type}]  v{d.version} of {d.versions}  "
            f"{_human_size(d.size)}  {d.updated_at[:10]}{expiry}{added}"
        )


@app.command()
@friendly
def versions(document_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List every version of a document."""
    items = _open_vault().versions(document_id)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "version": v.version,
                        "size": v.size,
                        "created_at": v.created_at,
                        "title": v.meta.get("title"),
                        "file_name": v.meta.get("file_name"),
                    }
                    for v in items
                ],
                indent=2,
            )
        )
        return
    for v in items:
        typer.echo(
            f"v{v.version}  {v.meta.get('title')}  {_human_size(v.size)}  {v.created_at[:19]}"
        )


@app.command()
@friendly
def get(
    document_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the file.")],
    version: Annotated[int | None, typer.Option(help="An older version number.")] = None,
) -> None:
    """Download and decrypt a document."""
    chosen = _open_vault().download(document_id, output, version)
    typer.echo(f"Wrote {output} (version {chosen.version}).")


@app.command("rm")
@friendly
def remove(document_id: str) -> None:
    """Delete a document and all its versions."""
    _open_vault().delete(document_id)
    typer.echo("The document is deleted.")


@app.command()
@friendly
def export(directory: Path) -> None:
    """Export everything, encrypted, in a form the free 'age' tool can open."""
    if directory.exists() and any(directory.iterdir()):
        fail(f"{directory} is not empty. Choose an empty or new folder.")
    count = export_wallet(_open_vault(), directory, _passphrase())
    typer.echo(
        f"Exported {count} document files to {directory}. Read {directory / 'README.txt'} to open them."
    )


# --- profile -------------------------------------------------------------------------------


@profile_app.command("set")
@friendly
def profile_set(name: str, value: str) -> None:
    """Set one field of your profile (encrypted on this computer)."""
    if name not in PROFILE_FIELDS:
        fail(f"'{name}' is not a profile field. Use one of: {', '.join(PROFILE_FIELDS)}.")
    _open_vault().set_profile_field(name, value)
    typer.echo(f"Saved {name}.")


@profile_app.command("show")
@friendly
def profile_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show your profile."""
    fields = _open_vault().profile()
    if as_json:
        typer.echo(json.dumps(fields, indent=2, ensure_ascii=False))
        return
    if not fields:
        typer.echo("Your profile is empty. Add a field with 'wallet profile set first_name Marie'.")
    for name in PROFILE_FIELDS:
        if name in fields:
            typer.echo(f"{name}: {fields[name]}")


@profile_app.command("rm")
@friendly
def profile_rm(name: str) -> None:
    """Remove one field from your profile."""
    _open_vault().remove_profile_field(name)
    typer.echo(f"Removed {name}.")


register_sharing(app, _open_vault, friendly)
register_oidc(app, _open_vault, friendly, _server, _passphrase, _remember)
# proxy commands
register_proxy(app, _open_vault, friendly, _server)
# org commands
register_orgs(app, _open_vault, friendly)
# request and note commands
register_requests(app, _open_vault, friendly)
account_app.command("safety-code")(friendly(safety_code_command(_open_vault)))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
