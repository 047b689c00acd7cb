// The timeline's histogram when the map shows tiles (too many incidents in
// view to load them): per-day counts from the server's histogram endpoint
// (GET /api/collections/incidents/histogram, the same filters and bbox as
// the items).

import { getJSON } from './api.js';
import { isoToDay } from './format.js';

/**
 * fetchHistogram asks the server how many incidents params select on each
 * day: { start (day number of the first day), counts (per day from it) },
 * or null when none.
 */
export async function fetchHistogram(params, { signal } = {}) {
  const body = await getJSON(`/api/collections/incidents/histogram?${new URLSearchParams(params)}`, { signal });
  return histogramFrom(body?.days);
}

/** histogramFrom turns [{ date, count }] in date order into { start, counts }, or null. */
export function histogramFrom(days) {
  const parsed = (Array.isArray(days) ? days : [])
    .map((d) => [isoToDay(d?.date), Number(d?.count)])
    .filter(([day, n]) => day !== null && n > 0);
  if (!parsed.length) return null;
  const start = parsed[0][0];
  const counts = new Array(parsed[parsed.length - 1][0] - start + 1).fill(0);
  for (const [day, n] of parsed) counts[day - start] += n;
  return { start, counts };
}
