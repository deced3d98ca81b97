"""Guard rails for refactoring: the HTTP API (/openapi.json), the route table and the whole
`wallet --help` tree must not change unless a change means to. An intended change regenerates
the snapshots (WALLET_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py) and says why in its
commit."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer.main
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from typer.core import TyperGroup
from typer.testing import CliRunner

from tests.conftest import WalletApp
from wallet.cli import app as cli_app

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("WALLET_UPDATE_SNAPSHOTS") == "1"


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with WALLET_UPDATE_SNAPSHOTS=1 once"
    expected = path.read_text()
    assert text == expected, (
        f"{name} changed. If the change is intended, regenerate it with "
        "WALLET_UPDATE_SNAPSHOTS=1 and explain why in the commit."
    )


def route_table(wallet_app: WalletApp) -> str:
    lines = []
    app: FastAPI = wallet_app.client.app  # type: ignore[assignment]
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            lines.append(f"MOUNT {context.path}")
            continue
        methods = ",".join(sorted(context.methods or []))
        in_schema = getattr(context.original_route, "include_in_schema", False)
        lines.append(f"{methods} {context.path} {'api' if in_schema else 'other'}")
    return "\n".join(sorted(lines)) + "\n"


def help_tree(command: Any, path: list[str]) -> list[str]:
    """Every command's --help, as a person sees it in an 100-column terminal."""
    result = CliRunner().invoke(
        cli_app,
        [*path, "--help"],
        prog_name="wallet",
        env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"},
    )
    assert result.exit_code == 0, result.output
    page = [f"$ wallet {' '.join(path)} --help".replace("  ", " "), result.output]
    if isinstance(command, TyperGroup):
        with command.context_class(command, info_name="wallet") as context:
            names = command.list_commands(context)
        for name in names:
            page += help_tree(command.get_command(context, name), [*path, name])
    return page


def test_openapi_is_unchanged(wallet_app: WalletApp) -> None:
    schema = wallet_app.client.get("/openapi.json").json()
    schema["info"].pop("version", None)
    check_snapshot("openapi.json", json.dumps(schema, indent=1, sort_keys=True) + "\n")


def test_route_table_is_unchanged(wallet_app: WalletApp) -> None:
    check_snapshot("routes.txt", route_table(wallet_app))


def test_cli_help_tree_is_unchanged() -> None:
    tree = help_tree(typer.main.get_command(cli_app), [])
    assert len(tree) > 100, "the help walk found too few commands"
    check_snapshot("cli-help.txt", "\n".join(tree) + "\n")
