// Pure helpers of the report and moderation forms: local times to RFC 3339
// and back, where an API field error belongs, idempotency keys. No DOM, no
// Leaflet, so the unit tests run them in Node.

const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** localInputValue formats a Date as a datetime-local value ("2020-10-18T04:30") in the browser's time zone. */
export function localInputValue(date) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '';
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** formatOffset writes minutes east of UTC as an RFC 3339 offset: "+04:00", "-03:30", "+00:00". */
export function formatOffset(minutesEast) {
  const sign = minutesEast < 0 ? '-' : '+';
  const m = Math.abs(minutesEast);
  return `${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/**
 * toRFC3339 turns a datetime-local value, read in the browser's time zone,
 * into an RFC 3339 time with that zone's offset at that moment (so summer
 * and winter time are right): "2020-10-18T04:30" → "2020-10-18T04:30:00+04:00".
 * A time that does not exist locally (skipped by a clock change) moves
 * forward as Date does. Returns '' for anything else.
 */
export function toRFC3339(value) {
  const m = LOCAL_RE.exec(value || '');
  if (!m) return '';
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const date = new Date(y, mo - 1, d, h, mi, s || 0);
  if (Number.isNaN(date.getTime()) || date.getMonth() !== mo - 1) return '';
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    formatOffset(-date.getTimezoneOffset())
  );
}

/** zoneLabel names the browser's offset at a moment: "UTC+04:00". */
export function zoneLabel(date = new Date()) {
  return `UTC${formatOffset(-date.getTimezoneOffset())}`;
}

/**
 * errorKey says which form control an API field error belongs to:
 * "geometry.coordinates" → "location", "properties.description" →
 * "description", "properties.source_urls[2]" → "source_urls[2]",
 * "photo[0]" → "photo"; moderation fields come without a prefix
 * ("title", "reason") and stay as they are. Returns '' for errors about
 * the request as a whole.
 */
export function errorKey(field) {
  if (typeof field !== 'string' || field === '') return '';
  if (field === 'geometry' || field.startsWith('geometry.') || field === 'location' || field === 'lon' || field === 'lat') {
    return 'location';
  }
  if (/^photo(\[\d+\])?$/.test(field)) return 'photo';
  const name = field.startsWith('properties.') ? field.slice('properties.'.length) : field;
  if (name === 'type' || name === 'properties' || name === 'body' || name === 'Idempotency-Key') return '';
  return name;
}

/** newIdempotencyKey makes a random key for one filling of the form. */
export function newIdempotencyKey(cryptoObj = globalThis.crypto) {
  if (typeof cryptoObj?.randomUUID === 'function') return cryptoObj.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not.
  const bytes = cryptoObj.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** defaultTitle is the title the server gives an incident made from a report (as postgis.defaultTitle). */
export function defaultTitle({ event_type: type, sub_event_type: sub, location_name: place }) {
  let title = sub || type || 'Incident';
  if (place) title += ` near ${place}`;
  return [...title].slice(0, 300).join('');
}

/**
 * suggestedTitle is the title a moderator's form starts with: the server's
 * default when the report names a place, else nothing, since a bare type
 * ("Battles") says neither what happened nor where.
 */
export function suggestedTitle(p) {
  return p.location_name ? defaultTitle(p) : '';
}

/**
 * titleProblem says what is wrong with a title about to be published, or
 * gives null: it is needed, and more than the event's type or sub-type.
 */
export function titleProblem(title, { event_type: type, sub_event_type: sub }) {
  const t = title.trim().toLowerCase();
  if (!t) return 'Write a public title: what happened, and where.';
  if ([type, sub, 'incident'].some((k) => k && k.toLowerCase() === t)) {
    return 'Say what happened and where: a type of event alone is not a title.';
  }
  return null;
}

/** formatLonLat writes a point for people: "39.40000° N, 47.03000° E". */
export function formatLonLat(lon, lat) {
  const ns = lat < 0 ? 'S' : 'N';
  const ew = lon < 0 ? 'W' : 'E';
  return `${Math.abs(lat).toFixed(5)}° ${ns}, ${Math.abs(lon).toFixed(5)}° ${ew}`;
}

// Audit snapshots carry bookkeeping columns that change on every write.
const AUDIT_NOISE = new Set(['updated_at', 'created_at', 'version']);

/** auditChanges describes what an audit entry changed, one line per field. */
export function auditChanges(before, after) {
  if (!before && !after) return [];
  if (!before) return ['created'];
  if (!after) return ['deleted'];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !AUDIT_NOISE.has(k)).sort();
  const out = [];
  for (const k of keys) {
    const a = JSON.stringify(before[k] ?? null);
    const b = JSON.stringify(after[k] ?? null);
    if (a !== b) out.push(`${k}: ${clip(a, 120)} → ${clip(b, 120)}`);
  }
  return out;
}

function clip(s, n) {
  const text = String(s ?? '');
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/** MIN_DESCRIPTION: a description shorter than this says too little to review. */
export const MIN_DESCRIPTION = 10;

/**
 * formatLocalDateTime writes a time in the browser's zone for the person
 * who typed it: "18 Oct 2020, 08:30 (UTC+04:00)".
 */
export function formatLocalDateTime(date) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return '';
  const day = date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
  return `${day}, ${pad(date.getHours())}:${pad(date.getMinutes())} (${zoneLabel(date)})`;
}

/**
 * humanMessage rewrites an API validation message for the person filling
 * the form, by the field (errorKey) it is about: "-3 out of range [0,
 * 1000000]" becomes "Enter a number from 0 to 1,000,000 (not -3).", and a
 * time in the future is told in the person's own zone. Unknown messages
 * are kept, as a sentence.
 */
export function humanMessage(key, message) {
  const m = String(message || '').trim();
  const names = { occurred_at: 'when it happened', event_type: 'the type of event', description: 'what happened' };
  let r;
  if (/^required\b/.test(m)) {
    if (key === 'event_type') return 'Choose the type of event.';
    if (key === 'occurred_at') return 'Enter the date and time it happened.';
    if (key === 'description') return 'Describe what happened.';
    return names[key] ? `Enter ${names[key]}.` : 'This is needed.';
  }
  if ((r = /^(?:(?:longitude|latitude) )?(-?[\d.e+]+) out of range \[(-?[\d.]+), (-?[\d.]+)\]$/.exec(m))) {
    const [, got, lo, hi] = r;
    const n = (s) => Number(s).toLocaleString('en-GB');
    return `Enter a number from ${n(lo)} to ${n(hi)} (not ${got}).`;
  }
  if ((r = /^(\S+) is in the future$/.exec(m))) {
    const t = new Date(r[1]);
    return `${formatLocalDateTime(t) || r[1]} is in the future: enter when it happened, in your time (${zoneLabel(t)}).`;
  }
  if (/ is before 1900$/.test(m)) return 'Enter a date from 1900 on.';
  if (/^unknown event type/.test(m)) return 'Choose a type of event from the list.';
  if (/^not a sub-event type of/.test(m)) return 'Choose a sub-type of the type of event chosen, or none.';
  if (!m) return '';
  const s = m[0].toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
