"""The public C2SP/CCTV age test vectors, run through the wallet's own decryption path.

The vectors are vendored in tests/vectors/age/ (source, upstream commit and licence in its
SOURCE.md). Each has a `key: value` header, an empty line, then the age file (zlib-compressed when
the header says `compressed: zlib`).

The reference copy kept on the development machines, ../shared/testdata/age-testkit from the
repository root (or $WALLET_SHARED_DIR/testdata/age-testkit), is optional: when it exists, one test
checks that the vendored copy still matches it byte for byte; otherwise that test is skipped.
"""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wallet.crypto import age

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
TESTKIT = TESTS_DIR / "vectors" / "age"
# The files in TESTKIT that are not vectors: the reference copy's README (vendored unchanged) and
# the two files this project added beside the vectors (not in the reference copy).
PROJECT_FILES = {"SOURCE.md", ".gitattributes"}
NOT_VECTORS = PROJECT_FILES | {"README.md"}
EXPECTED_VECTOR_COUNT = 143
# The post-quantum hybrid (ML-KEM-768 + X25519) vectors that should decrypt. pyrage 1.4 (and
# the Rust age it binds) has no hybrid identity type, so the wallet refuses these identities
# with UnsupportedIdentity instead of decrypting (a known limitation, see SECURITY.md).
HYBRID_SUCCESS = {
    "armor_hybrid",
    "hybrid",
    "hybrid_and_x25519",
    "hybrid_grease",
    "hybrid_multiple_recipients",
}


@dataclass
class Vector:
    name: str
    expect: str
    body: bytes
    payload: str | None = None
    identities: list[str] = field(default_factory=list)
    passphrase: str | None = None
    armored: bool = False


def vector_files() -> list[Path]:
    assert TESTKIT.is_dir(), f"the vendored age test vectors are missing: {TESTKIT}"
    return sorted(p for p in TESTKIT.iterdir() if p.is_file() and p.name not in NOT_VECTORS)


def reference_testkit() -> Path:
    """The reference copy of the vectors: $WALLET_SHARED_DIR, else ../shared from the repo root."""
    shared = os.environ.get("WALLET_SHARED_DIR")
    base = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return base / "testdata" / "age-testkit"


VECTOR_FILES = vector_files()


def load_vector(path: Path) -> Vector:
    raw = path.read_bytes()
    header, separator, body = raw.partition(b"\n\n")
    assert separator, f"{path.name}: no empty line after the header"
    values: dict[str, str] = {}
    identities: list[str] = []
    for line in header.decode("utf-8").split("\n"):
        key, colon, value = line.partition(": ")
        assert colon, f"{path.name}: bad header line {line!r}"
        if key == "identity":
            identities.append(value)
        else:
            values[key] = value
    if values.get("compressed") == "zlib":
        body = zlib.decompress(body)
    else:
        assert "compressed" not in values, f"{path.name}: unknown compression"
    return Vector(
        name=path.name,
        expect=values["expect"],
        body=body,
        payload=values.get("payload"),
        identities=identities,
        passphrase=values.get("passphrase"),
        armored=values.get("armored") == "yes",
    )


def test_testkit_has_every_vector() -> None:
    files = VECTOR_FILES
    # test_vector is parametrized with VECTOR_FILES: the count tested cannot silently drop.
    assert len(files) == EXPECTED_VECTOR_COUNT
    vendored = {p.name for p in TESTKIT.iterdir() if p.is_file()}
    assert len(files) >= len(vendored - NOT_VECTORS) > 0
    assert vendored >= NOT_VECTORS
    names = {p.name for p in files}
    assert names >= HYBRID_SUCCESS
    # Every hybrid-identity vector that expects success is in HYBRID_SUCCESS, and only those.
    hybrid_success = {
        v.name
        for v in map(load_vector, files)
        if v.expect == "success" and any(i.startswith("AGE-SECRET-KEY-PQ-1") for i in v.identities)
    }
    assert hybrid_success == HYBRID_SUCCESS


def test_vendored_vectors_match_reference_copy() -> None:
    reference = reference_testkit()
    if not reference.is_dir():
        if os.environ.get("WALLET_SHARED_DIR"):
            pytest.fail(f"WALLET_SHARED_DIR is set but {reference} is not a folder")
        pytest.skip(
            f"no reference copy of the age testkit at {reference} (normal in a fresh clone; "
            "set WALLET_SHARED_DIR to the folder holding testdata/age-testkit to compare)"
        )
    reference_names = {p.name for p in reference.iterdir() if p.is_file()}
    vendored_names = {p.name for p in TESTKIT.iterdir() if p.is_file()} - PROJECT_FILES
    assert sorted(vendored_names - reference_names) == [], "vendored files not in the reference"
    assert sorted(reference_names - vendored_names) == [], "reference files not vendored"
    differing = sorted(
        name
        for name in reference_names
        if (reference / name).read_bytes() != (TESTKIT / name).read_bytes()
    )
    assert differing == [], "vendored files whose bytes differ from the reference copy"
    assert len(reference_names - {"README.md"}) == EXPECTED_VECTOR_COUNT


def _decrypt_identities(vector: Vector, out_dir: Path, path_kind: str) -> Path:
    target = out_dir / "out"
    identities = age.parse_identities(vector.identities)
    if path_kind == "file":
        # The native pyrage path the client uses for downloaded files.
        source = out_dir.parent / "source.age"
        source.write_bytes(vector.body)
        age.decrypt_file_to_path(source, target, identities)
    else:
        age.decrypt_to_path(io.BytesIO(vector.body), target, identities)
    return target


def _assert_nothing_written(out_dir: Path) -> None:
    # Neither the target nor a leftover partial temp file: no plaintext released.
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("path_kind", ["stream", "file"])
@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.name)
def test_vector(path: Path, path_kind: str, tmp_path: Path) -> None:
    vector = load_vector(path)
    # `empty` and `armor_empty` carry neither: they go through the identity path with none.
    use_identities = bool(vector.identities) or vector.passphrase is None
    out_dir = tmp_path / "decrypted"
    out_dir.mkdir()

    if vector.name in HYBRID_SUCCESS:
        # Known limitation: ML-KEM hybrid identities are refused, and nothing is written.
        assert vector.expect == "success"
        with pytest.raises(age.UnsupportedIdentity):
            _decrypt_identities(vector, out_dir, path_kind)
        _assert_nothing_written(out_dir)
        return

    if vector.expect == "success":
        assert vector.payload, f"{vector.name}: success without payload hash"
        if use_identities:
            target = _decrypt_identities(vector, out_dir, path_kind)
            assert hashlib.sha256(target.read_bytes()).hexdigest() == vector.payload
            assert [p.name for p in out_dir.iterdir()] == ["out"]
        if vector.passphrase is not None:
            plaintext = age.decrypt_with_passphrase(vector.body, vector.passphrase)
            assert hashlib.sha256(plaintext).hexdigest() == vector.payload
        return

    # Every failure (no match, HMAC, header, payload or armor failure) is an IntegrityError
    # and leaves nothing behind, not even partly decrypted chunks.
    if use_identities:
        with pytest.raises(age.IntegrityError):
            _decrypt_identities(vector, out_dir, path_kind)
        _assert_nothing_written(out_dir)
    if vector.passphrase is not None:
        with pytest.raises(age.IntegrityError):
            age.decrypt_with_passphrase(vector.body, vector.passphrase)
