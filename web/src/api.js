// A thin client for /api/v1 (like wallet/client/api.py). The session rides in the HttpOnly
// cookie; this module never sees it except for the one moment after login (see vault.js).
export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, message, { code = "", retryAfter = null, quota = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.quota = quota; // { used, limit } in bytes, with code "quota_full"
  }
}

/** The server could not be reached (offline, dropped connection). */
export class NetworkError extends ApiError {
  constructor(cause) {
    super(0, "network", { code: "network" });
    this.cause = cause;
  }
}

export async function errorFrom(response) {
  let message = response.statusText || `HTTP ${response.status}`;
  let code = "";
  try {
    const body = await response.json();
    message = body.detail || message;
    code = body.code || "";
  } catch {
    // not JSON: keep the status text
  }
  const retry = response.headers.get("retry-after");
  const used = response.headers.get("wallet-quota-used");
  const limit = response.headers.get("wallet-quota-limit");
  return new ApiError(response.status, String(message), {
    code,
    retryAfter: retry && /^\d+$/.test(retry) ? Number(retry) : null,
    quota: used && limit && /^\d+$/.test(used + limit) ? { used: Number(used), limit: Number(limit) } : null,
  });
}

/**
 * request("POST", "/auth/login", { json }) -> Response (2xx) or throws ApiError/NetworkError.
 * `path` is under /api/v1 unless it starts with "/web/" or "http".
 */
export async function request(method, path, { json, body, headers = {}, signal, token } = {}) {
  const url = /^(\/api\/|\/web\/|https?:)/.test(path) ? path : API + path;
  const init = { method, headers: { ...headers }, credentials: "same-origin", signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new NetworkError(error);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function getJson(path, options) {
  return (await request("GET", path, options)).json();
}

export async function postJson(path, json, options = {}) {
  const response = await request("POST", path, { ...options, json });
  return response.status === 204 ? null : response.json();
}
