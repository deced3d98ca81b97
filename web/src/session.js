// The unlocked wallet of this tab: private keys and the account, in memory only. Never written
// to localStorage, sessionStorage, IndexedDB or history state. A reload, a logout or closing the
// tab forgets them; the session token itself lives in the HttpOnly `wallet_session` cookie.
let current = null;
const listeners = new Set();

/** { keys: AccountKeys, account: {...} } or null. */
export function getSession() {
  return current;
}

export function setSession(keys, account) {
  current = { keys, account };
  for (const listener of listeners) listener(current);
}

export function clearSession() {
  current?.keys?.wipe?.();
  current = null;
  for (const listener of listeners) listener(null);
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// The recovery key text travels from the register page to the recovery sheet in memory only,
// and is forgotten as soon as the sheet is left.
let pendingRecovery = null;

export function setPendingRecovery(value) {
  pendingRecovery = value;
}

export function takePendingRecovery() {
  return pendingRecovery;
}

export function forgetPendingRecovery() {
  pendingRecovery = null;
}
