"""The service description matches the service: schemathesis sends requests built from
/openapi.json to a live uvicorn server, without a token and with a logged-in owner's token, and
every answer must be no server error, with a documented status code, content type, headers and
body shape.

Bounded for CI: a fixed number of examples per operation, derandomized (the same requests on
every run), no shrinking. WALLET_SCHEMATHESIS_EXAMPLES raises the number for a deeper run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_PASSPHRASE, LiveServer, run_live_server
from wallet.client import ApiClient, Vault

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("WALLET_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Ending the owner's own session would leave the rest of the run logged out.
ENDS_THE_SESSION = "/api/v1/auth/logout"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("schemathesis")) as live:
        yield live


@pytest.fixture(scope="module")
def owner_token(server: LiveServer) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        vault, _recovery = Vault.create_account(
            ApiClient(server.url, http=http), "schemathesis-owner", TEST_PASSPHRASE
        )
        token = vault.api.token
    assert token
    return token


# The committed description, which tests/test_snapshots.py keeps equal to what the app serves
# (and test_the_live_server_serves_it below, to what this server serves). Loaded at import: the
# pytest fixture loader (schemathesis.pytest.from_fixture) does not run on pytest 9.
SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"
api_schema = schemathesis.openapi.from_path(SNAPSHOT)
bounded = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_the_live_server_serves_it(server: LiveServer) -> None:
    served = httpx.get(f"{server.url}/openapi.json").json()
    expected = json.loads(SNAPSHOT.read_text())
    served["info"].pop("version", None)
    assert served == expected


@api_schema.parametrize()
@bounded
def test_answers_without_a_token_match(case: schemathesis.Case, server: LiveServer) -> None:
    case.call_and_validate(base_url=server.url, checks=CHECKS, timeout=30)


@api_schema.parametrize()
@bounded
def test_answers_to_the_owner_match(
    case: schemathesis.Case, server: LiveServer, owner_token: str
) -> None:
    if case.path == ENDS_THE_SESSION:
        return
    headers = {"Authorization": f"Bearer {owner_token}"}
    case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS, timeout=30)


def test_server_logged_no_error(server: LiveServer) -> None:
    """Runs after the requests above: a 500 caught by the app would still be in its log."""
    log = Path(server.log_path).read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
