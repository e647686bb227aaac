// The REST side of the client: same-origin fetch with the session cookie
// (never a token in the page) and the CSRF header confab asks of every
// cookie-signed request that changes something.

/** An error answer of the API: `status`, `code` and the server's message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; resolves the parsed JSON body (null for 204). */
export async function api(method, path, body) {
  const headers = { accept: 'application/json', 'x-confab-csrf': '1' };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, {
    method,
    headers,
    body: payload,
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code || String(res.status), err.message || res.statusText || 'request failed');
  }
  return data;
}

/** Pages through `GET /api/sync` from `since`; `apply` gets each page's changes. */
export async function syncSince(since, apply) {
  let cursor = since;
  for (;;) {
    const page = await api('GET', `/api/sync?since=${encodeURIComponent(cursor)}&limit=500`);
    apply(page.changes || []);
    cursor = page.next ?? cursor;
    if (!page.hasMore) return cursor;
  }
}
