// How exactly an incident is known, drawn as such (issue 14). ACLED codes:
// geo_precision 1 is the point itself, 2 "near" a place, 3 a district or
// region; time_precision 1 the day, 2 the week, 3 the month. A point known
// only roughly is drawn with a translucent circle of the radius below around
// it, and its date as the span it stands for, not as a pin and a day.

/**
 * The radius, in metres, of the circle drawn around a point of each
 * geo_precision (README "Uncertainty on the map" and the legend say the
 * same): 2 km for "near a place", 25 km for "somewhere in the district or
 * region". A precise point (1) has none.
 */
export const PRECISION_RADIUS_M = Object.freeze({ 2: 2000, 3: 25000 });

/** precisionRadius is the circle radius in metres of an incident's properties, or 0 for an exact point. */
export function precisionRadius(p) {
  return PRECISION_RADIUS_M[Number(p?.geo_precision)] || 0;
}

/** precisionLabel is the legend's and the marker name's words for a geo_precision. */
export function precisionLabel(precision) {
  switch (Number(precision)) {
    case 2:
      return 'location known only near a place (circle: within about 2 km)';
    case 3:
      return 'location known only to the district or region (circle: about 25 km)';
    default:
      return '';
  }
}

const DAY_MS = 86400000;

/**
 * timeSpan is the days an incident's time stands for, [first, last] as
 * day numbers (days since 1970-01-01, UTC), inclusive: its day, its week
 * (Monday to Sunday, as formatIncidentTime names it) or its month. null
 * for an unreadable time.
 */
export function timeSpan(iso, precision) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return null;
  const day = Math.floor(t / DAY_MS);
  switch (Number(precision)) {
    case 2: {
      const monday = day - ((new Date(day * DAY_MS).getUTCDay() + 6) % 7);
      return [monday, monday + 6];
    }
    case 3: {
      const d = new Date(day * DAY_MS);
      const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS;
      const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / DAY_MS;
      return [first, next - 1];
    }
    default:
      return [day, day];
  }
}
