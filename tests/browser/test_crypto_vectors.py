"""The browser crypto (web/src/crypto/*) matches the Python client byte for byte, or opens what
the other side sealed, on fixed vectors. Runs in Debian's chromium."""

from __future__ import annotations

import hashlib
import json

import nacl.signing
import pyrage
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.browser.conftest import harness
from wallet.crypto import age, links, wrap
from wallet.crypto.encoding import b64d, b64e, canonical_json
from wallet.crypto.kdf import derive_master_key, hkdf, split_master_key, split_recovery_key
from wallet.crypto.keys import AccountKeys
from wallet.crypto.recovery import format_recovery_key, parse_recovery_key
from wallet.crypto.signing import sign, verify

SALT = bytes(range(16))
SEED = bytes(range(32, 64))


@pytest.fixture
def start(page):  # type: ignore[no-untyped-def]
    page.goto("/")
    return page


def test_encoding_and_canonical_json(start) -> None:  # type: ignore[no-untyped-def]
    raw = bytes(range(256))
    value = {
        "zeta": [1, -2, {"b": None, "a": True}],
        "alpha": 'Ünïcödé \u2028 "quote" \\ \n\t\x01 😀',
        "Émile": "é",
        "é": 0,
        "e": False,
    }
    out = harness(
        start,
        """const e = m.encoding;
        return { b64: e.b64e(e.b64d(arg.b64)), canon: e.b64e(e.canonicalJson(arg.value)),
                 bad: (() => { try { e.b64d("ab+c"); return "accepted"; } catch { return "refused"; } })() };""",
        {"b64": b64e(raw), "value": value},
    )
    assert out["b64"] == b64e(raw)
    assert b64d(out["canon"]) == canonical_json(value)
    assert out["bad"] == "refused"


def test_argon2id_and_hkdf_match_pynacl(start) -> None:  # type: ignore[no-untyped-def]
    # Typed as decomposed "é" on one device: NFC makes it the same key everywhere.
    passphrase = "Cafe\u0301 au lait, vingt-trois"
    master = derive_master_key(passphrase, SALT, 2, 64 * 1024)
    auth, kek = split_master_key(master)
    rec_auth, rec_kek = split_recovery_key(SEED)
    out = harness(
        start,
        """const k = m.kdf, e = m.encoding;
        const master = await k.deriveMasterKey(arg.pass, e.b64d(arg.salt), 2, 65536);
        const [auth, kek] = await k.splitMasterKey(master);
        const [ra, rk] = await k.splitRecoveryKey(e.b64d(arg.seed));
        let weak = "accepted";
        try { k.checkKdfCost(0, 8192); } catch (x) { weak = x.message; }
        return { master: e.b64e(master), auth: e.b64e(auth), kek: e.b64e(kek),
                 ra: e.b64e(ra), rk: e.b64e(rk), weak };""",
        {"pass": passphrase, "salt": b64e(SALT), "seed": b64e(SEED)},
    )
    assert out["master"] == b64e(master)
    assert (out["auth"], out["kek"]) == (b64e(auth), b64e(kek))
    assert (out["ra"], out["rk"]) == (b64e(rec_auth), b64e(rec_kek))
    # The page's floor (1, 8192 on the test server) refuses anything weaker.
    assert out["weak"] == "weak-kdf"


def test_default_kdf_floor_without_the_test_meta(start) -> None:  # type: ignore[no-untyped-def]
    out = harness(
        start,
        """document.querySelector('meta[name="wallet-kdf-floor"]').remove();
        const res = [];
        const mib128 = 128 * 1024 * 1024;
        for (const [o, mm] of [[3, 67108864], [9, mib128], [10, mib128 - 1024], [10, mib128]]) {
          try { m.kdf.checkKdfCost(o, mm); res.push("ok"); } catch { res.push("refused"); }
        }
        return res;""",
    )
    assert out == ["refused", "refused", "refused", "ok"]


def test_account_keys_lock_both_ways(start) -> None:  # type: ignore[no-untyped-def]
    keys = AccountKeys.generate()
    kek = hashlib.sha256(b"kek").digest()
    locked = keys.lock(kek)
    out = harness(
        start,
        """const e = m.encoding;
        const keys = await m.keys.AccountKeys.unlock(e.b64d(arg.kek), e.b64d(arg.locked));
        let wrong = "opened";
        try { await m.keys.AccountKeys.unlock(new Uint8Array(32), e.b64d(arg.locked)); }
        catch (x) { wrong = x.constructor.name; }
        const fresh = m.keys.AccountKeys.generate();
        return { enc: e.b64e(keys.publicEncryptionKey), sig: e.b64e(keys.publicSigningKey),
                 keyId: await keys.keyId(), slot: await keys.profileSlot("first_name"), wrong,
                 relocked: e.b64e(await keys.lock(e.b64d(arg.kek))),
                 fresh: e.b64e(await fresh.lock(e.b64d(arg.kek))),
                 freshEnc: e.b64e(fresh.publicEncryptionKey), freshSig: e.b64e(fresh.publicSigningKey) };""",
        {"kek": b64e(kek), "locked": b64e(locked)},
    )
    assert out["enc"] == b64e(keys.public_encryption_key)
    assert out["sig"] == b64e(keys.public_signing_key)
    assert out["keyId"] == keys.key_id
    assert out["slot"] == keys.profile_slot("first_name")
    assert out["wrong"] == "WrongKey"
    assert AccountKeys.unlock(kek, b64d(out["relocked"])).to_bytes() == keys.to_bytes()
    fresh = AccountKeys.unlock(kek, b64d(out["fresh"]))
    assert b64e(fresh.public_encryption_key) == out["freshEnc"]
    assert b64e(fresh.public_signing_key) == out["freshSig"]


def test_recovery_key_text(start) -> None:  # type: ignore[no-untyped-def]
    text = format_recovery_key(SEED)
    sloppy = text.lower().replace("-", " ").replace("O", "0")
    out = harness(
        start,
        """const e = m.encoding, r = m.recovery;
        const typo = arg.text.slice(0, -1) + (arg.text.endsWith("A") ? "B" : "A");
        const codes = [];
        for (const t of [typo, "WR1-ABCD"]) {
          try { await r.parseRecoveryKey(t); codes.push("parsed"); } catch (x) { codes.push(x.code); }
        }
        const fresh = r.newRecoveryKey();
        return { text: await r.formatRecoveryKey(e.b64d(arg.seed)),
                 parsed: e.b64e(await r.parseRecoveryKey(arg.sloppy)), codes,
                 fresh: e.b64e(fresh), freshText: await r.formatRecoveryKey(fresh) };""",
        {"seed": b64e(SEED), "text": text, "sloppy": text.replace("-", " ").lower()},
    )
    assert out["text"] == text
    assert out["parsed"] == b64e(SEED)
    assert out["codes"] == ["typing", "length"]
    assert parse_recovery_key(out["freshText"]) == b64d(out["fresh"])
    assert parse_recovery_key(sloppy.replace("0", "O")) == SEED


def test_hpke_wraps_both_ways(start) -> None:  # type: ignore[no-untyped-def]
    private = X25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = wrap.key_id(public)
    info = wrap.document_key_info("ab" * 16, 3, kid)
    sealed_by_python = wrap.seal(public, b"AGE-SECRET-KEY-1PYTHON", info)
    out = harness(
        start,
        """const e = m.encoding, w = m.wrap;
        const info = w.documentKeyInfo("ab".repeat(16), 3, arg.kid);
        const opened = await w.openSealed(e.b64d(arg.priv), e.b64d(arg.sealed), info);
        let replay = "opened";
        try { await w.openSealed(e.b64d(arg.priv), e.b64d(arg.sealed), w.documentKeyInfo("ab".repeat(16), 4, arg.kid)); }
        catch (x) { replay = x.constructor.name; }
        const mine = await w.seal(e.b64d(arg.pub), e.utf8("AGE-SECRET-KEY-1BROWSER"), info);
        const pinfo = w.profileFieldInfo("cd".repeat(16), arg.kid);
        return { opened: e.fromUtf8(opened), replay, keyId: await w.keyId(e.b64d(arg.pub)),
                 mine: e.b64e(mine), pinfo: e.b64e(pinfo) };""",
        {
            "priv": b64e(raw_private),
            "pub": b64e(public),
            "kid": kid,
            "sealed": b64e(sealed_by_python),
        },
    )
    assert out["opened"] == "AGE-SECRET-KEY-1PYTHON"
    assert out["replay"] == "UnwrapError"
    assert out["keyId"] == kid
    assert wrap.open_sealed(private, b64d(out["mine"]), info) == b"AGE-SECRET-KEY-1BROWSER"
    assert b64d(out["pinfo"]) == wrap.profile_field_info("cd" * 16, kid)


def test_ed25519_signatures_are_identical(start) -> None:  # type: ignore[no-untyped-def]
    statement = {
        "v": 1,
        "kind": "document-version",
        "document_id": "ab" * 16,
        "version": 2,
        "wraps": [{"key_id": "k", "sha256": "00"}],
        "signed_at": "2026-01-01T00:00:00+00:00",
    }
    message, signature = sign(nacl.signing.SigningKey(SEED), statement)
    out = harness(
        start,
        """const e = m.encoding, s = m.signing;
        const [msg, sig] = s.sign(e.b64d(arg.seed), arg.statement);
        let forged = "accepted";
        const bad = e.b64d(arg.sig); bad[0] ^= 1;
        try { s.verify(s.publicKeyOf(e.b64d(arg.seed)), msg, bad); } catch (x) { forged = x.constructor.name; }
        s.verify(s.publicKeyOf(e.b64d(arg.seed)), e.b64d(arg.msg), e.b64d(arg.sig));
        return { msg: e.b64e(msg), sig: e.b64e(sig), forged };""",
        {"seed": b64e(SEED), "statement": statement, "msg": b64e(message), "sig": b64e(signature)},
    )
    assert b64d(out["msg"]) == message
    assert b64d(out["sig"]) == signature  # Ed25519 is deterministic
    assert out["forged"] == "BadSignature"
    verify(bytes(nacl.signing.SigningKey(SEED).verify_key), message, b64d(out["sig"]))


def test_age_files_both_ways(start) -> None:  # type: ignore[no-untyped-def]
    identity = age.new_identity()
    payload = json.dumps({"title": "Carte d'identité", "type": "id_card"}).encode()
    by_python = age.encrypt_bytes(payload, age.recipient_of(identity))
    out = harness(
        start,
        """const e = m.encoding, a = await m.age();
        const plain = await a.decryptBytes(e.b64d(arg.file), arg.identity);
        const mine = await a.newIdentity();
        const recipient = await a.recipientOf(mine);
        const big = new Uint8Array(200000).map((_, i) => i % 251);
        const stream = await a.encryptStream(new Blob([big]).stream(), recipient);
        const parts = []; const reader = stream.getReader();
        for (;;) { const { done, value } = await reader.read(); if (done) break; parts.push(value); }
        const encrypted = e.concat(...parts);
        const damaged = encrypted.slice(); damaged[damaged.length - 5] ^= 1;
        let tamper = "opened";
        try { await a.decryptBytes(damaged, mine); } catch (x) { tamper = x.constructor.name; }
        return { plain: e.b64e(plain), mine, recipient, theirRecipient: await a.recipientOf(arg.identity),
                 encrypted: e.b64e(encrypted), tamper };""",
        {"file": b64e(by_python), "identity": str(identity)},
    )
    assert b64d(out["plain"]) == payload
    assert out["theirRecipient"] == str(age.recipient_of(identity))
    theirs = pyrage.x25519.Identity.from_str(out["mine"])
    assert str(theirs.to_public()) == out["recipient"]
    assert age.decrypt_bytes(b64d(out["encrypted"]), [theirs]) == bytes(
        i % 251 for i in range(200000)
    )
    assert out["tamper"] == "IntegrityError"


def test_link_keys_match(start) -> None:  # type: ignore[no-untyped-def]
    link_id = "12" * 16
    secret, share, nonce = SEED, bytes(32), b"n" * 24
    sealed = links.seal(links.link_key(secret, share, "4321", link_id), b"package", link_id)
    out = harness(
        start,
        """const e = m.encoding, l = m.links;
        const s = e.b64d(arg.secret), sh = e.b64d(arg.share);
        const key = await l.linkKey(s, sh, "4321", arg.id);
        const mine = await l.seal(await l.previewKey(s, arg.id), e.utf8("preview"), arg.id);
        return { proof: e.b64e(await l.proof(s, arg.id, e.b64d(arg.nonce))),
                 pin: e.b64e(await l.pinCheck(s, arg.id, "4321")),
                 preview: e.b64e(await l.previewKey(s, arg.id)),
                 key: e.b64e(key), opened: e.fromUtf8(await l.openSealed(key, e.b64d(arg.sealed), arg.id)),
                 mine: e.b64e(mine) };""",
        {
            "secret": b64e(secret),
            "share": b64e(share),
            "id": link_id,
            "nonce": b64e(nonce),
            "sealed": b64e(sealed),
        },
    )
    expected_proof = links.proof_key(secret, link_id).sign(links.challenge_message(link_id, nonce))
    assert b64d(out["proof"]) == expected_proof.signature
    assert b64d(out["pin"]) == links.pin_check(secret, link_id, "4321")
    assert b64d(out["preview"]) == links.preview_key(secret, link_id)
    assert b64d(out["key"]) == links.link_key(secret, share, "4321", link_id)
    assert out["opened"] == "package"
    assert (
        links.open_sealed(links.preview_key(secret, link_id), b64d(out["mine"]), link_id)
        == b"preview"
    )
    assert hkdf(secret, b"x")  # the Python helper the JS mirrors
