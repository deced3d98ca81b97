"""The web app's protocol (the bundled generated module and the statement builder every page
signs with) gives the same labels, statement bytes, Ed25519 signatures and catalogue as the
shared vectors (tests/vectors/protocol/, which the Python definitions give: tests/test_protocol.py).
A bundle built from a generated module with one label or one field name changed fails."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import WEB, harness
from tests.protocol_samples import KEY_ID, load
from wallet.protocol.js import render as render_js

# Runs in the page with m = the harness module; returns every mismatch (empty: all agree).
CHECK = """
const P = m.protocol, e = m.encoding, s = m.signing;
const canon = (value) => e.fromUtf8(e.canonicalJson(value));
const bad = [];
const { labels, statements, catalogue } = arg.vectors;
for (const [name, value] of Object.entries(labels.labels)) {
  if (P.LABELS[name] !== value) bad.push(`label ${name}: ${P.LABELS[name]}`);
}
for (const name of Object.keys(P.LABELS)) if (!(name in labels.labels)) bad.push(`label ${name} is extra`);
if (P.SEPARATOR !== labels.separator) bad.push("separator");
for (const v of labels.info) {
  if (e.fromUtf8(P.infoBytes(P.LABELS[v.label], ...v.context)) !== v.bytes) bad.push(`info ${v.label}`);
}
// The crypto modules derive their infos from the same labels.
const docInfo = labels.info.find((v) => v.label === "DOCUMENT_KEY");
if (e.fromUtf8(m.wrap.documentKeyInfo(...docInfo.context)) !== docInfo.bytes) bad.push("wrap.documentKeyInfo");
if (m.kdf.AUTH_KEY_INFO !== labels.labels.AUTH_KEY) bad.push("kdf.AUTH_KEY_INFO");
if (canon(P.STATEMENTS) !== canon(statements.kinds)) bad.push("statement kinds and fields");
if (canon(Object.values(P.KIND).sort()) !== canon(Object.keys(statements.samples).sort())) bad.push("KIND");
const seed = e.b64d(statements.seed);
if (e.b64e(s.publicKeyOf(seed)) !== statements.public_key) bad.push("test key");
for (const [kind, sample] of Object.entries(statements.samples)) {
  try {
    const [message, signature] = s.sign(seed, P.statement(kind, sample.fields));
    if (e.fromUtf8(message) !== sample.canonical) bad.push(`${kind}: bytes ${e.fromUtf8(message)}`);
    if (e.b64e(signature) !== sample.signature) bad.push(`${kind}: signature`);
    P.checkStatement(kind, JSON.parse(sample.canonical));
  } catch (x) {
    bad.push(`${kind}: ${x.message}`);
  }
}
for (const [name, value] of Object.entries(catalogue)) {
  if (canon(P[name]) !== canon(value)) bad.push(`catalogue ${name}`);
}
return bad;
"""


@pytest.fixture
def start(page):  # type: ignore[no-untyped-def]
    page.goto("/")
    return page


def vectors() -> dict[str, Any]:
    files = load()
    return {
        "labels": files["labels.json"],
        "statements": files["statements.json"],
        "catalogue": files["catalogue.json"],
    }


def test_the_bundle_gives_the_shared_vectors(start) -> None:  # type: ignore[no-untyped-def]
    assert harness(start, CHECK, {"vectors": vectors()}) == []


def test_the_statement_builder_refuses_a_wrong_field(start) -> None:  # type: ignore[no-untyped-def]
    out = harness(
        start,
        """const P = m.protocol, res = [];
        const good = { org_id: "o", team_key_id: arg.k, member: "b", member_key_id: "k",
                       sealed_sha256: "s", admin: "a" };
        for (const fields of [{ ...good, sealed_hash: "x" }, { ...good, admin: undefined },
                              { ...good, member: 7 }]) {
          try { P.statement(P.KIND.TEAM_KEY_SEAL, fields); res.push("built"); }
          catch (x) { res.push(x.constructor.name + ": " + x.message); }
        }
        res.push(P.statement(P.KIND.TEAM_KEY_SEAL, good).kind);
        return res;""",
        {"k": KEY_ID},
    )
    assert out == [
        "StatementError: unknown field 'sealed_hash' in a team-key-seal statement",
        "StatementError: the field 'admin' is missing",
        "StatementError: the field 'member' is not of type string",
        "team-key-seal",
    ]


def drifted_bundle(tmp_path: Path, change: tuple[str, str]) -> Path:
    """The test harness bundled from web/src, but with a generated module edited by hand."""
    old, new = change
    source = render_js()
    assert source.count(old) == 1, old
    modified = tmp_path / "protocol.js"
    modified.write_text(source.replace(old, new), encoding="utf-8")
    outfile = tmp_path / "harness.js"
    script = tmp_path / "build.cjs"
    script.write_text(
        """const esbuild = require(process.argv[2]);
const [harness, modified, outfile] = process.argv.slice(3);
const swap = { name: "drift", setup(build) {
  build.onResolve({ filter: /generated\\/protocol\\.js$/ }, () => ({ path: modified }));
} };
esbuild.build({ entryPoints: [harness], bundle: true, format: "esm", outfile,
                logLevel: "error", plugins: [swap] }).catch(() => process.exit(1));
""",
        encoding="utf-8",
    )
    subprocess.run(
        [
            "node",
            str(script),
            str(WEB / "node_modules" / "esbuild"),
            str(WEB / "src" / "testing" / "harness.js"),
            str(modified),
            str(outfile),
        ],
        check=True,
        cwd=WEB,
    )
    return outfile


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('"GRANT": "wallet/v1/grant"', '"GRANT": "wallet/v1/grants"'), "label GRANT"),
        (
            (
                '"sealed_sha256": "string",\n      "admin"',
                '"sealed_hash": "string",\n      "admin"',
            ),
            "team-key-seal: unknown",
        ),
    ],
    ids=["label", "field"],
)
def test_a_hand_edited_generated_module_fails_the_check(  # type: ignore[no-untyped-def]
    page, tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    if not shutil.which("node") or not (WEB / "node_modules" / "esbuild").exists():
        pytest.skip("node and web/node_modules are needed to bundle (scripts/install.sh)")
    bundle = drifted_bundle(tmp_path, change)
    page.route(
        "**/static/js/testing/harness.js",
        lambda route: route.fulfill(path=str(bundle), content_type="text/javascript"),
    )
    page.goto("/")
    mismatches = harness(page, CHECK, {"vectors": vectors()})
    assert any(expected in line for line in mismatches), json.dumps(mismatches, indent=1)
