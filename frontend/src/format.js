// Formatting of incident values for people. Dates are shown in UTC, the
// time zone the data is recorded in, with fixed English month names so that
// the text does not change with the browser's locale data.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86400000;

/** Time precisions (ACLED codes), as in the time_precision property. */
export const TIME_DAY = 1;
export const TIME_WEEK = 2;
export const TIME_MONTH = 3;

/** formatDay formats a Date as "18 Oct 2020". */
export function formatDay(date) {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/**
 * formatIncidentTime says when an incident happened as exactly as it is
 * known: "18 Oct 2020", "week of 12 Oct 2020" (the week's Monday) or
 * "Oct 2020".
 */
export function formatIncidentTime(iso, precision) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  switch (Number(precision)) {
    case TIME_WEEK: {
      const sinceMonday = (date.getUTCDay() + 6) % 7;
      return `week of ${formatDay(new Date(date.getTime() - sinceMonday * DAY_MS))}`;
    }
    case TIME_MONTH:
      return `${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
    default:
      return formatDay(date);
  }
}

/** formatDistance formats metres as "3.2 km" (or "450 m" under a kilometre). */
export function formatDistance(metres) {
  if (metres < 1000) return `${Math.round(metres)} m`;
  return `${(metres / 1000).toFixed(metres < 100000 ? 1 : 0)} km`;
}

/** formatCount formats an integer with thousands separators: 10,000. */
export function formatCount(n) {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** plural picks the singular or plural noun for n. */
export function plural(n, one, many) {
  return n === 1 ? one : many;
}

/** dayNumber is the number of whole UTC days since 1970-01-01 of an ISO time or Date. */
export function dayNumber(time) {
  return Math.floor(new Date(time).getTime() / DAY_MS);
}

/** dayToISO turns a day number back into "YYYY-MM-DD". */
export function dayToISO(day) {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** isoToDay parses "YYYY-MM-DD" into a day number, or null. */
export function isoToDay(s) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s || '')) return null;
  const t = Date.parse(s + 'T00:00:00Z');
  return Number.isNaN(t) ? null : Math.floor(t / DAY_MS);
}

/** formatDayNumber formats a day number as "18 Oct 2020". */
export function formatDayNumber(day) {
  return formatDay(new Date(day * DAY_MS));
}

/** formatDateTime formats an ISO time as "18 Oct 2020, 04:30 UTC" ('' for no time). */
export function formatDateTime(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return '';
  const hh = String(date.getUTCHours()).padStart(2, '0');
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  return `${formatDay(date)}, ${hh}:${mm} UTC`;
}

/** formatBytes formats a file size: "840 KB", "3.2 MB". */
export function formatBytes(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
