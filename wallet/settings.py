"""All settings in one place. Every field can be set with an environment variable WALLET_<NAME>."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, RSAKey
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OidcClientAuth = Literal["", "none", "client_secret_basic", "client_secret_post", "private_key_jwt"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore")

    data_dir: Path = Path("./wallet-data")
    database_url: str = ""
    storage_backend: Literal["filesystem", "s3"] = "filesystem"
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "wallet-blobs"
    s3_secure: bool = True
    s3_region: str = ""

    max_upload_bytes: int = 100 * 1024 * 1024
    # Any request body but an upload's bytes (bulk key routes: see wallet/server/limits.py).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    upload_expiry_hours: int = 24
    session_ttl_hours: int = 12
    recovery_session_minutes: int = 15
    server_secret: str = ""
    # Argon2id cost for new accounts (libsodium units): about 0.65 s per login on a 2-core
    # server (benchmarks/login_kdf.py). 128 MiB still fits the browser of a cheap phone.
    kdf_opslimit: int = Field(default=10, ge=1)
    kdf_memlimit: int = Field(default=128 * 1024 * 1024, ge=8192)
    # Argon2id cost of the server's own hash of each auth key (libsodium units). Auth keys are
    # 256-bit random values, so a light cost is enough to stop pass-the-hash from a stolen
    # database; 2 passes over 16 MiB keep a login cheap for the server. Only tests lower it.
    auth_hash_opslimit: int = Field(default=2, ge=1, le=20)
    auth_hash_memlimit: int = Field(default=16 * 1024 * 1024, ge=8192, le=1024 * 1024 * 1024)
    public_url: str = "http://127.0.0.1:8000"
    # Addresses of reverse proxies whose X-Forwarded-For is believed (comma separated, or *).
    trusted_proxies: str = "127.0.0.1,::1"
    # /docs and /redoc: Swagger UI and ReDoc, self-hosted under their own CSP
    # (wallet/server/apidocs.py). Off unless asked for; /openapi.json always answers.
    api_docs: bool = False
    sweep_interval_seconds: int = 600
    orphan_grace_seconds: int = 3600
    # Worker login through the organisation's OpenID Connect provider; off while the issuer is
    # empty. The discovery URL defaults to ISSUER/.well-known/openid-configuration.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_discovery_url: str = ""
    oidc_scopes: str = "openid"
    oidc_login_minutes: int = Field(default=10, ge=1, le=60)
    oidc_timeout_seconds: float = Field(default=10.0, gt=0)
    # Public kiosk (/kiosk): seconds without a touch before the session wipes itself.
    kiosk_idle_seconds: int = Field(default=180, ge=5, le=1800)
    # Test servers only: a lower Argon2id floor the browser accepts, "OPS,MEM" (never in
    # production: the page would accept a weak cost from a malicious server).
    web_kdf_floor: str = Field(default="", pattern=r"^(\d+,\d+)?$")
    log_level: str = "INFO"
    log_json: bool = False
    # Bytes kept free on the data dir's disk (filesystem backend): uploads are refused with
    # "storage full" before they would eat into it, so the database (SQLite), logins and the
    # journal keep working. 0 turns the check off.
    disk_reserve_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    # Load and faults (docs/operations.md, "Connection budget and timeouts"). At most this many
    # requests run at once per process; the others wait in line up to the queue time, then get
    # 503 "busy" with Retry-After. 0 turns the limit off (benchmarks only).
    requests_in_flight: int = Field(default=16, ge=0, le=1000)
    request_queue_seconds: float = Field(default=3.0, ge=0, le=60)
    # Of those, at most this many logins (and other requests that hash a passphrase proof)
    # at once, so a burst of logins leaves places for everything else. 0: no separate limit.
    logins_in_flight: int = Field(default=4, ge=0, le=1000)
    # Database connections per process. 0: one per request in flight plus 2 (readiness check
    # and metrics), with no overflow, so a request never waits for a connection.
    database_pool_size: int = Field(default=0, ge=0, le=1000)
    database_pool_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    database_connect_timeout_seconds: int = Field(default=2, ge=1, le=60)
    # PostgreSQL's own limit on one statement of a request (0: none). The sweeper and the
    # migrations run without it.
    database_statement_timeout_seconds: float = Field(default=3.0, ge=0, le=3600)
    # The longest the app waits for any answer from PostgreSQL before it drops the connection
    # (a network partition or a frozen server never answers, so statement_timeout never fires).
    # 0: no bound. Keep it above the statement timeout.
    database_answer_timeout_seconds: float = Field(default=4.0, ge=0, le=3600)
    sqlite_busy_timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    # /readyz answers within this time: a check still running then counts as "down".
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # S3: how long to wait for a connection and for each answer, and how many retries of a
    # failed connection. After a failure, requests that need S3 get 503 at once for
    # s3_pause_seconds instead of all waiting for it (0: no pause).
    s3_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    s3_read_timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    s3_retries: int = Field(default=1, ge=0, le=5)
    s3_pause_seconds: float = Field(default=5.0, ge=0, le=300)
    # Rate limits, counted in the database so every instance shares them (docs/operations.md,
    # "Limits and quotas"): a burst of N, then N again over each hour. 0 turns one off. Per
    # client network (one IPv4 address or one IPv6 /64); a welcome centre or an office puts
    # many people behind one address, hence the generous numbers.
    new_accounts_per_hour: int = Field(default=30, ge=0)
    link_challenges_per_hour: int = Field(default=600, ge=0)
    # Per link, whatever the network: a link has at most 100 uses, each a preview and a redeem.
    link_challenges_per_link_per_hour: int = Field(default=240, ge=0)
    oidc_starts_per_hour: int = Field(default=600, ge=0)
    # Bytes of stored ciphertext per account (every version of every document, and uploads
    # under way). 0: no quota.
    account_quota_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    # How the wallet proves who it is at the OpenID provider's token endpoint (see
    # docs/operations.md): "none" (a public client, PKCE only), "client_secret_basic",
    # "client_secret_post" or "private_key_jwt". Empty: "none" without a client secret,
    # "client_secret_basic" with one.
    oidc_client_auth: OidcClientAuth = ""
    # For private_key_jwt: a PEM file with the wallet's private key (RSA of 2048 bits or more,
    # or EC P-256). `wallet oidc jwks` prints its public half for the provider.
    oidc_client_key_file: Path | None = None

    @field_validator("server_secret")
    @classmethod
    def _no_placeholder_secret(cls, value: str) -> str:
        if value.startswith("change-me"):
            raise ValueError("WALLET_SERVER_SECRET is still a placeholder: set a random value")
        return value

    @model_validator(mode="after")
    def _oidc_client_auth_is_complete(self) -> Settings:
        method = self.oidc_client_auth
        if method in ("client_secret_basic", "client_secret_post") and not self.oidc_client_secret:
            raise ValueError(f"WALLET_OIDC_CLIENT_AUTH={method} needs WALLET_OIDC_CLIENT_SECRET")
        if method == "private_key_jwt":
            if self.oidc_client_key_file is None:
                raise ValueError(
                    "WALLET_OIDC_CLIENT_AUTH=private_key_jwt needs WALLET_OIDC_CLIENT_KEY_FILE"
                )
            load_oidc_client_key(self.oidc_client_key_file)  # a bad key stops the start
        if method == "none" and self.oidc_client_secret:
            raise ValueError(
                "WALLET_OIDC_CLIENT_AUTH=none is a public client: leave WALLET_OIDC_CLIENT_SECRET "
                "empty, or choose client_secret_basic or client_secret_post"
            )
        return self

    @model_validator(mode="after")
    def _answer_bound_above_statement_timeout(self) -> Settings:
        answer = self.database_answer_timeout_seconds
        if answer and answer <= self.database_statement_timeout_seconds:
            raise ValueError(
                "WALLET_DATABASE_ANSWER_TIMEOUT_SECONDS must be above "
                "WALLET_DATABASE_STATEMENT_TIMEOUT_SECONDS (or 0)"
            )
        return self

    @property
    def database_pool_places(self) -> int:
        """Connections in this process's pool (see database_pool_size)."""
        if self.database_pool_size:
            return self.database_pool_size
        # Without a limit: as many as the thread pool (40) can use, plus the same 2.
        return (self.requests_in_flight or 40) + 2

    @property
    def oidc_token_auth_method(self) -> str:
        """The client authentication method used at the token endpoint."""
        if self.oidc_client_auth:
            return self.oidc_client_auth
        return "client_secret_basic" if self.oidc_client_secret else "none"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'wallet.db').resolve()}"

    @cached_property
    def resolved_server_secret(self) -> bytes:
        """Keeps fake login parameters stable across restarts when no secret is configured."""
        if self.server_secret:
            return self.server_secret.encode()
        path = self.data_dir / "server-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip().encode()


@dataclass(frozen=True)
class OidcClientKey:
    """The wallet's own key for private_key_jwt, with the signing algorithm that fits it.
    Its `kid` is the RFC 7638 thumbprint, so the provider finds it in the published JWKS."""

    key: RSAKey | ECKey
    alg: str

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def public_jwks(self) -> dict[str, list[dict[str, object]]]:
        return {"keys": [dict(self.key.as_dict(private=False))]}


def load_oidc_client_key(path: Path) -> OidcClientKey:
    """Reads an unencrypted PEM private key: RSA (2048 bits or more, RS256) or EC P-256 (ES256)."""
    try:
        data = path.read_bytes()
        private = serialization.load_pem_private_key(data, password=None)
    except OSError as exc:
        raise ValueError(f"cannot read WALLET_OIDC_CLIENT_KEY_FILE {path}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"WALLET_OIDC_CLIENT_KEY_FILE {path} is not an unencrypted PEM private key"
        ) from exc
    key: RSAKey | ECKey
    if isinstance(private, rsa.RSAPrivateKey) and private.key_size >= 2048:
        alg = "RS256"
        key = RSAKey.import_key(data, parameters={"use": "sig", "alg": alg})
    elif isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(
        private.curve, ec.SECP256R1
    ):
        alg = "ES256"
        key = ECKey.import_key(data, parameters={"use": "sig", "alg": alg})
    else:
        raise ValueError(
            f"WALLET_OIDC_CLIENT_KEY_FILE {path} must hold an RSA key of 2048 bits or more, "
            "or an EC P-256 key"
        )
    key.ensure_kid()
    return OidcClientKey(key, alg)
