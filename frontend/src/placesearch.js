// The pure parts of the map's "go to place" search (placecontrol.js): the
// request to /api/places, what a result says, where the map goes.

import { formatCount } from './format.js';
import { wrapLng } from './geo.js';

const RESULTS = 8;
/** The gazetteer's longest search text (geo.PlaceQueryMaxLen). */
export const MAX_QUERY = 100;

/** placeSearchParams builds the query of /api/places for text q seen from center ({lat, lng}). */
export function placeSearchParams(q, center) {
  const params = new URLSearchParams({ q: q.trim(), limit: String(RESULTS) });
  if (center && Number.isFinite(center.lat) && Number.isFinite(center.lng)) {
    params.set('near', `${wrapLng(center.lng).toFixed(4)},${center.lat.toFixed(4)}`);
  }
  return params;
}

/**
 * placeResultText says what a result is: its name, the name that matched
 * when another (Stepanakert for Xankandi), and country and size.
 */
export function placeResultText(props) {
  const name = String(props?.name ?? '');
  const matched = typeof props?.matched === 'string' && props.matched !== name ? props.matched : '';
  const details = [
    typeof props?.country_code === 'string' ? props.country_code : '',
    props?.population > 0 ? `${formatCount(props.population)} people` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return { name, matched, details };
}

/** placeZoom is the zoom to show a place at: a town closer than a city. */
export function placeZoom(props) {
  const pop = Number(props?.population) || 0;
  if (pop >= 1_000_000) return 10;
  if (pop >= 100_000) return 11;
  if (pop >= 10_000) return 12;
  return 13;
}

/** usablePlaces keeps the features of a search answer that can be shown and gone to. */
export function usablePlaces(fc) {
  const features = Array.isArray(fc?.features) ? fc.features : [];
  return features.filter(
    (f) =>
      f?.geometry?.type === 'Point' &&
      Array.isArray(f.geometry.coordinates) &&
      f.geometry.coordinates.length >= 2 &&
      f.geometry.coordinates.every(Number.isFinite) &&
      typeof f.properties?.name === 'string',
  );
}

