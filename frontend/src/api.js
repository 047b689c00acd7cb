// Client of incidentmap's HTTP API (OGC API – Features under /api). Every
// request goes to the page's own origin: the Content-Security-Policy allows
// nothing else (connect-src 'self').

/** The most features one items request may ask for (geo.ItemsMaxLimit). */
export const PAGE_LIMIT = 10000;

/**
 * An ApiError is a non-2xx answer; code and message come from its JSON body.
 * errors lists the body's field errors ({field, message}); retryAfter is
 * the Retry-After header in seconds, or null.
 */
export class ApiError extends Error {
  constructor(status, code, message, { errors = [], retryAfter = null } = {}) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || '';
    this.errors = errors;
    this.retryAfter = retryAfter;
  }
}

/** apiError reads an error response into an ApiError. */
async function apiError(res) {
  let body = {};
  try {
    body = await res.json();
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  const retry = res.headers.get('Retry-After');
  return new ApiError(res.status, body?.code, body?.description, {
    errors: Array.isArray(body?.errors) ? body.errors.filter((e) => e && typeof e.field === 'string') : [],
    retryAfter: retry !== null && /^\d+$/.test(retry.trim()) ? Number(retry) : null,
  });
}

/**
 * getJSON fetches a same-origin URL and parses its JSON, throwing ApiError
 * for errors. fresh skips the browser's cache (answers may be cached for a
 * few seconds; a live event can be newer).
 */
export async function getJSON(url, { signal, fresh = false } = {}) {
  const res = await fetch(sameOrigin(url), {
    signal,
    headers: { Accept: 'application/geo+json, application/json' },
    cache: fresh ? 'no-store' : 'default',
  });
  if (!res.ok) throw await apiError(res);
  return res.json();
}

/**
 * request sends a same-origin API request and parses the JSON answer
 * (null for an empty one). body may be FormData (sent as multipart) or any
 * other value (sent as JSON); token, when given, goes in the Authorization
 * header. Non-2xx answers throw ApiError; a failed network throws the
 * browser's TypeError, so callers can tell "refused" from "maybe lost".
 */
export async function request(url, { method = 'GET', body, token, headers = {}, signal } = {}) {
  const h = { Accept: 'application/geo+json, application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(sameOrigin(url), { method, headers: h, body: payload, signal, cache: 'no-store' });
  if (!res.ok) throw await apiError(res);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** fetchBlob fetches a same-origin file with a bearer token (report photos). */
export async function fetchBlob(url, token, { signal } = {}) {
  const res = await fetch(sameOrigin(url), { headers: { Authorization: `Bearer ${token}` }, signal, cache: 'no-store' });
  if (!res.ok) throw await apiError(res);
  return res.blob();
}

/**
 * sameOrigin reduces a URL to its path and query. The server builds its
 * links (rel=next) from the Host it saw and its own scheme, which behind a
 * TLS-terminating proxy may be http: following them as given would be mixed
 * content. Our links always point to this server, so the path is enough.
 */
export function sameOrigin(url) {
  const u = new URL(url, window.location.href);
  return u.pathname + u.search;
}

/** absolute makes a same-origin path absolute, for people to copy. */
export function absolute(path) {
  return new URL(path, window.location.href).href;
}

/** fetchConfig reads the basemap settings; a failure means no tiles. */
export async function fetchConfig() {
  try {
    return await getJSON('/config.json');
  } catch (err) {
    console.warn('incidentmap: no /config.json, using the offline basemap', err);
    return { tileURL: '', tileAttribution: '' };
  }
}

/** fetchCollections lists the collections: incidents first, then the layers. */
export async function fetchCollections() {
  const doc = await getJSON('/api/collections');
  return Array.isArray(doc.collections) ? doc.collections : [];
}

/** itemsPath is the items URL (path and query) of a collection. */
export function itemsPath(collection, params) {
  const query = params.toString();
  return `/api/collections/${encodeURIComponent(collection)}/items${query ? '?' + query : ''}`;
}

/**
 * tilePath is the URL (path and query) of one incidents vector tile:
 * WebMercatorQuad z/y/x (row before column, as OGC API – Tiles orders
 * them), with the items filters as query parameters.
 */
export function tilePath(z, x, y, params) {
  const query = params.toString();
  return `/api/collections/incidents/tiles/WebMercatorQuad/${z}/${y}/${x}${query ? '?' + query : ''}`;
}

/**
 * countIncidents asks how many incidents the items parameters select,
 * with a one-feature page: numberMatched, or null when the server did not
 * count that far (beyond 100,000).
 */
export async function countIncidents(params, { signal, fresh = false } = {}) {
  const p = new URLSearchParams(params);
  p.set('limit', '1');
  p.set('properties', 'status');
  const page = await getJSON(itemsPath('incidents', p), { signal, fresh });
  return Number.isFinite(page.numberMatched) ? page.numberMatched : null;
}

/** fetchIncident reads one incident feature. */
export function fetchIncident(id, { signal } = {}) {
  return getJSON(`/api/collections/incidents/items/${encodeURIComponent(id)}`, { signal });
}

/**
 * fetchFeatures reads an items URL and follows its rel=next links until
 * there are none or cap features have been read.
 * Returns { features, matched, capped }: matched is the server's
 * numberMatched (null when it did not count, beyond 100,000), capped
 * whether pages were left unread.
 */
export async function fetchFeatures(path, { signal, cap = Infinity } = {}) {
  const features = [];
  let matched = null;
  let next = path;
  let capped = false;
  while (next) {
    const page = await getJSON(next, { signal });
    if (matched === null && Number.isFinite(page.numberMatched)) matched = page.numberMatched;
    for (const f of page.features || []) features.push(f);
    next = (page.links || []).find((l) => l.rel === 'next')?.href || null;
    if (next && features.length >= cap) {
      capped = true;
      break;
    }
  }
  return { features, matched, capped };
}

/** isAbort tells an aborted request (superseded, not failed) from an error. */
export function isAbort(err) {
  return err?.name === 'AbortError';
}
