// The public API, and nothing else: every call goes to this origin; the token only ever travels in the
// Authorization header, never in a URL.

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details; // the envelope's details, as sent (a series_conflict's occurrences)
  }
}

export async function api(path, { method = "GET", body, token, idempotencyKey, params } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "The booking service could not be reached. Try again.");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    // The envelope's message, verbatim (SPEC §6).
    const error = data && data.error ? data.error : { code: "error", message: `HTTP ${response.status}` };
    throw new ApiError(response.status, error.code, error.message, error.details ?? null);
  }
  return data;
}
