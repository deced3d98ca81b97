// The account in the browser, like Vault.change_passphrase / _set_passphrase / delete_account in
// wallet/client/vault.py: the private keys are locked again under a key derived from the new
// passphrase (new salt, the server's Argon2id cost, checked against the floor); the server
// ends every other session and hands this tab a new one. Deleting is crypto-shredding: the
// server drops keys, wraps and blobs, so nothing can be decrypted afterwards.
import { getJson, postJson, request } from "./api.js";
import { b64d, b64e, randomBytes } from "./crypto/encoding.js";
import { deriveCredentials } from "./crypto/kdf.js";
import { AccountKeys, WrongKey } from "./crypto/keys.js";
import { checkKdfPin, forgetKdfPin, pinKdf, strongestCost } from "./kdfpins.js";
import { getSession, setSession } from "./session.js";
import { PlainError } from "./ui.js";

function session() {
  const current = getSession();
  if (!current) throw new PlainError("errors.locked");
  return current;
}

/** current_auth_key: checks the passphrase against this account and returns its auth key. */
export async function currentAuthKey(passphrase) {
  const { account } = session();
  const params = await postJson("/auth/prelogin", { handle: account.handle });
  const salt = b64d(params.salt);
  await checkKdfPin(account.handle, salt, params.opslimit, params.memlimit);
  const creds = await deriveCredentials(passphrase, salt, params.opslimit, params.memlimit);
  try {
    (await AccountKeys.unlock(creds.kek, b64d(account.keys_by_passphrase))).wipe();
  } catch (error) {
    if (error instanceof WrongKey) throw new PlainError("account.wrong_passphrase");
    throw error;
  } finally {
    creds.kek.fill(0);
  }
  return creds.authKey;
}

/** change_passphrase: the keys locked again under the new passphrase; other sessions end. */
export async function changePassphrase(current, next) {
  const { keys, account } = session();
  const currentKey = await currentAuthKey(current);
  const params = await strongestCost(account.handle, await getJson("/accounts/params"));
  const creds = await deriveCredentials(next, randomBytes(16), params.opslimit, params.memlimit);
  const body = {
    current_auth_key: b64e(currentKey),
    kdf_salt: b64e(creds.salt),
    kdf_opslimit: creds.opslimit,
    kdf_memlimit: creds.memlimit,
    auth_key: b64e(creds.authKey),
    keys_by_passphrase: b64e(await keys.lock(creds.kek)),
  };
  creds.kek.fill(0);
  const changed = await (await request("PUT", "/accounts/me/passphrase", { json: body })).json();
  // The server ended every session, this one too: the new token becomes this tab's cookie.
  await request("POST", "/web/session", { token: changed.token });
  setSession(keys, changed.account);
  await pinKdf(changed.account.handle, creds.salt, creds.opslimit, creds.memlimit);
  return changed.account;
}

/** delete_account: after the passphrase check, everything of this account is shredded. */
export async function deleteAccount(passphrase) {
  const authKey = await currentAuthKey(passphrase);
  await postJson("/accounts/me/delete", { auth_key: b64e(authKey) });
  await forgetKdfPin(session().account.handle);
}
