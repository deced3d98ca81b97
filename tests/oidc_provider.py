"""A small but real OpenID Provider for the tests, built from Authlib's server components.

Authorization code grant (RFC 6749) with PKCE (RFC 7636, `CodeChallenge`, required for the
public client) and OpenID Connect ID tokens (`OpenIDCode`), signed RS256 with a key made at
start-up and published as a JWKS. It serves discovery, JWKS, authorize and token over a stdlib
HTTP server on 127.0.0.1, and auto-approves one test user.

Run: python -m tests.oidc_provider --port 8123 --redirect-uri http://127.0.0.1:8000/cb

A test-only control endpoint, POST /test/config with JSON, sets the signed-in user's subject
and makes the provider misbehave: {"sub": "worker-1", "iss": "http://other", "aud": "other",
"exp_offset": -3600, "nonce": "other", "foreign_key": true}; {} restores good behaviour.

The tests sign in against the certified provider, oidc-provider (Node, pinned in
tests/oidc-node/package-lock.json): `start_node_provider` and `ProviderPages` below. This
Authlib provider stays only for what a conforming provider never does (a wrong issuer or
audience in the ID token, another nonce, a key it does not publish) and for a provider that
does not send `iss` in its answers (RFC 9207).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

# Plain HTTP on 127.0.0.1 in tests; Authlib refuses it otherwise.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.oauth2.rfc6749 import (  # noqa: E402
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant  # noqa: E402
from authlib.oauth2.rfc7636 import CodeChallenge  # noqa: E402
from authlib.oidc.core import OpenIDCode, UserInfo  # noqa: E402
from joserfc.jwk import RSAKey  # noqa: E402

CLIENT_ID = "wallet"
CODE_LIFETIME = 600


@dataclass
class Config:
    """What the provider does now. Changed through POST /test/config."""

    sub: str = "worker-1"
    iss: str | None = None  # a wrong issuer in the ID token
    aud: str | None = None  # a wrong audience in the ID token
    exp_offset: int = 3600  # negative: the ID token has already expired
    nonce: str | None = None  # a nonce other than the one asked for
    foreign_key: bool = False  # sign with a key that is not in the JWKS


@dataclass
class User:
    sub: str


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return time.time() - self.auth_time > CODE_LIFETIME


class Client(ClientMixin):
    """A public client: it proves itself with PKCE, it has no secret."""

    def __init__(self, client_id: str, redirect_uris: list[str]) -> None:
        self.client_id = client_id
        self.redirect_uris = redirect_uris

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "profile", "email"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class Payload(OAuth2Payload):
    def __init__(self, values: dict[str, list[str]]) -> None:
        self._datalist = values
        self._data = {key: items[0] for key, items in values.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:  # type: ignore[override]
        return self._datalist


class Request(OAuth2Request):
    """An OAuth2Request made from a stdlib HTTP request."""

    def __init__(
        self, method: str, uri: str, headers: dict[str, str], query: str, body: str
    ) -> None:
        super().__init__(method, uri, headers)
        self._args = parse_qs(query, keep_blank_values=True)
        self._form = parse_qs(body, keep_blank_values=True)
        self.payload = Payload({**self._args, **self._form})

    @property
    def args(self) -> dict[str, str]:
        return {key: items[0] for key, items in self._args.items()}

    @property
    def form(self) -> dict[str, str]:
        return {key: items[0] for key, items in self._form.items()}


class Provider:
    def __init__(self, issuer: str, redirect_uris: list[str]) -> None:
        self.issuer = issuer
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        self.foreign_key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        self.client = Client(CLIENT_ID, redirect_uris)
        self.config = Config()
        self.codes: dict[str, Code] = {}
        self.nonces: set[str] = set()
        self.lock = threading.Lock()
        self.server = self._authorization_server()

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: Any) -> None:
                pass

            def create_oauth2_request(self, request: Any) -> Any:
                return request

            def create_json_request(self, request: Any) -> Any:
                raise NotImplementedError

            def handle_response(self, status: int, body: Any, headers: Any) -> Any:
                return status, body, headers

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                pass

        class Grant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

            def save_authorization_code(self, code: str, request: Any) -> None:
                data = request.payload.data
                with provider.lock:
                    provider.codes[code] = Code(
                        code=code,
                        client_id=request.client.get_client_id(),
                        redirect_uri=data.get("redirect_uri", ""),
                        scope=request.client.get_allowed_scope(data.get("scope", "")),
                        user=request.user,
                        nonce=data.get("nonce"),
                        code_challenge=data.get("code_challenge"),
                        code_challenge_method=data.get("code_challenge_method"),
                    )
                    if data.get("nonce"):
                        provider.nonces.add(data["nonce"])

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                with provider.lock:
                    item = provider.codes.get(code)
                if item and item.client_id == client.get_client_id() and not item.is_expired():
                    return item
                return None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                # A code works once: a replay finds nothing and gets invalid_grant.
                with provider.lock:
                    provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> User:
                return authorization_code.user

        class IdTokens(OpenIDCode):
            def exists_nonce(self, nonce: str, request: Any) -> bool:
                with provider.lock:
                    return nonce in provider.nonces

            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.foreign_key if provider.config.foreign_key else provider.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": "test-1"}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                config = provider.config
                now = int(time.time())
                return {
                    "iss": config.iss or provider.issuer,
                    "aud": [config.aud or client.get_client_id()],
                    "iat": now,
                    "exp": now + config.exp_offset,
                }

            def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.config.nonce is not None:
                    claims["nonce"] = provider.config.nonce
                return claims

            def generate_user_info(self, user: User, scope: str) -> UserInfo:
                return UserInfo(sub=user.sub)

        def bearer_token(
            grant_type: str,
            client: Client,
            user: User | None = None,
            scope: str | None = None,
            expires_in: int | None = None,
            include_refresh_token: bool = True,
        ) -> dict[str, Any]:
            return {
                "token_type": "Bearer",
                "access_token": secrets.token_urlsafe(32),
                "expires_in": expires_in or 3600,
                "scope": scope or "",
            }

        server = Server(scopes_supported=["openid", "profile", "email"])
        server.register_token_generator("default", bearer_token)
        server.register_grant(Grant, [CodeChallenge(required=True), IdTokens(require_nonce=True)])
        return server

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile", "email"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def set_config(self, values: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.config = Config(**values)
            return self.config.__dict__


def make_handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: the tests read answers, not logs (and codes are in URLs)

        def _send(self, status: int, body: Any, headers: Any = ()) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            present = set()
            for name, value in headers:
                self.send_header(name, value)
                present.add(name.lower())
            if "content-type" not in present:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _request(self, body: str = "") -> Request:
            parts = urlsplit(self.path)
            uri = provider.issuer + self.path
            return Request(self.command, uri, dict(self.headers.items()), parts.query, body)

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path == "/.well-known/openid-configuration":
                self._send(200, provider.discovery())
            elif path == "/jwks":
                self._send(200, provider.jwks())
            elif path == "/authorize":
                self._authorize()
            elif path == "/test/config":
                self._send(200, provider.config.__dict__)
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            path = urlsplit(self.path).path
            if path == "/token":
                status, payload, headers = provider.server.create_token_response(
                    self._request(body)
                )
                self._send(status, payload, headers)
            elif path == "/test/config":
                self._send(200, provider.set_config(json.loads(body or "{}")))
            else:
                self._send(404, {"error": "not_found"})

        def _authorize(self) -> None:
            request = self._request()
            user = User(provider.config.sub)
            try:
                grant = provider.server.get_consent_grant(request, end_user=user)
            except OAuth2Error as error:
                status, payload, headers = error()
                self._send(status, payload, headers)
                return
            # The test user approves at once: no login page, no consent page.
            status, payload, headers = provider.server.create_authorization_response(
                request, grant_user=user, grant=grant
            )
            self._send(status, payload if payload else b"", headers)

    return Handler


# --- the certified provider: oidc-provider (Node) --------------------------------------------

NODE_DIR = Path(__file__).parent / "oidc-node"
NODE_SCRIPT = NODE_DIR / "provider.mjs"
CONTROL = "/__test__/config"
# Every wait polls for a condition; this ceiling only matters on a busy machine.
START_TIMEOUT = 120.0


def node_provider_missing() -> str:
    """Why the Node provider cannot run here, or "" when it can."""
    if shutil.which("node") is None:
        return "node is missing (apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return "tests/oidc-node/node_modules is missing: run scripts/install.sh (npm ci there)"
    return ""


def public_client(client_id: str, *redirect_uris: str) -> dict[str, Any]:
    """Client metadata, as oidc-provider takes it, for a public client (PKCE only)."""
    return {
        "client_id": client_id,
        "redirect_uris": list(redirect_uris),
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }


def confidential_client(
    client_id: str,
    method: str,
    *redirect_uris: str,
    secret: str | None = None,
    jwks: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A client that proves itself at the token endpoint with `method`: its secret
    (client_secret_basic, client_secret_post) or a key from `jwks` (private_key_jwt)."""
    client = {**public_client(client_id, *redirect_uris), "token_endpoint_auth_method": method}
    if secret is not None:
        client["client_secret"] = secret
    if jwks is not None:
        client["jwks"] = jwks
    return client


@dataclass
class NodeProvider:
    url: str
    process: subprocess.Popen
    log_path: Path

    def configure(
        self,
        *clients: dict[str, Any],
        clock_skew_seconds: int = 0,
        id_token_ttl: int = 3600,
    ) -> None:
        """A fresh provider (no sessions, grants or codes) with these clients, same issuer
        and signing key. `clock_skew_seconds` sets its clock ahead (or behind, if negative)."""
        config = {
            "clients": list(clients),
            "clockSkewSeconds": clock_skew_seconds,
            "idTokenTtl": id_token_ttl,
        }
        response = httpx.post(f"{self.url}{CONTROL}", json=config, timeout=30)
        assert response.status_code == 200, response.text

    def discovery(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/.well-known/openid-configuration", timeout=30)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_ready(url: str, process: subprocess.Popen, log_path: Path) -> None:
    """Polls the discovery document until it answers; fails at once if node exits."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"oidc-provider exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/.well-known/openid-configuration", timeout=5).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"oidc-provider did not answer at {url}")


@contextlib.contextmanager
def start_node_provider(log_dir: Path) -> Iterator[NodeProvider]:
    """Runs oidc-provider on 127.0.0.1 on a free port until the block ends."""
    missing = node_provider_missing()
    if missing:
        raise RuntimeError(missing)
    port = _free_port()
    log_path = log_dir / f"oidc-provider-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["node", str(NODE_SCRIPT), str(port)],
            cwd=NODE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, process, log_path)
        yield NodeProvider(url, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CANCEL = re.compile(r'<a href="([^"]+)">\[ Cancel \]</a>')


class ProviderPages:
    """A person at oidc-provider's own login and consent pages, over plain HTTP: fetches each
    page, fills in its form as it is written and follows the redirects, like a browser without
    scripts. One instance is one browser: it keeps the provider's cookies (its session).
    tests/browser/test_oidc_provider.py does the same in Chromium."""

    def __init__(self, login: str = "worker-1", password: str = "any password") -> None:
        self.login = login
        self.password = password
        self.http = httpx.Client(timeout=30)
        self.pages: list[str] = []  # the prompts shown: "login", "consent"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ProviderPages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sign_in(self, authorization_url: str, *, cancel_at: str | None = None) -> str:
        """Goes through the provider's pages; returns where it sends the browser back (the
        wallet's callback, with code, state and iss). With `cancel_at` ("login" or "consent"),
        clicks Cancel on that page instead."""
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorization_url))
        response = self.http.get(authorization_url)
        for _ in range(20):
            if response.status_code in (302, 303):
                location = urljoin(str(response.url), response.headers["location"])
                if not location.startswith(origin):
                    return location
                response = self.http.get(location)
                continue
            assert response.status_code == 200, response.text
            form = FORM.search(response.text)
            assert form, response.text
            fields = dict(HIDDEN.findall(form.group(2)))
            prompt = fields.get("prompt", "")
            self.pages.append(prompt)
            if prompt == cancel_at:
                cancel = CANCEL.search(response.text)
                assert cancel, response.text
                response = self.http.get(urljoin(str(response.url), html.unescape(cancel[1])))
                continue
            if prompt == "login":
                fields.update(login=self.login, password=self.password)
            action = urljoin(str(response.url), html.unescape(form.group(1)))
            response = self.http.post(action, data=fields)
        raise AssertionError("the provider's pages did not send the browser back")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--issuer", default="")
    parser.add_argument("--redirect-uri", action="append", required=True)
    args = parser.parse_args()
    issuer = args.issuer or f"http://127.0.0.1:{args.port}"
    provider = Provider(issuer, args.redirect_uri)
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(provider))
    httpd.serve_forever()


if __name__ == "__main__":
    main()
