// Longitude arithmetic for a map that can be panned round the world while
// the API speaks [-180, 180].

/**
 * viewBBox is the API bbox of the map view: [west, south, east, north]
 * within [-180, 180] x [-90, 90]. A view across the antimeridian gives
 * west > east, which the API reads as a box crossing it; a view wider than
 * the world asks for all longitudes.
 */
export function viewBBox(map) {
  const b = map.getBounds();
  const south = clamp(b.getSouth(), -90, 90);
  const north = clamp(b.getNorth(), -90, 90);
  if (b.getEast() - b.getWest() >= 360) return [-180, down(south), 180, up(north)];
  const west = wrapLng(b.getWest());
  let east = wrapLng(b.getEast());
  if (east === -180 && west > -180) east = 180; // the view ends exactly on the antimeridian
  // Round outwards so that a point on the edge of the view stays in.
  return [down(west), down(south), up(east), up(north)];
}

/**
 * setBBox puts a [west, south, east, north] box in an API query as its
 * bbox parameter; digits, when given, rounds each number (toFixed).
 */
export function setBBox(params, box, digits) {
  params.set('bbox', box.map((x) => (digits === undefined ? String(x) : x.toFixed(digits))).join(','));
  return params;
}

/** wrapLng brings a longitude into [-180, 180). */
export function wrapLng(lng) {
  return ((((lng + 180) % 360) + 360) % 360) - 180;
}

function clamp(x, lo, hi) {
  return Math.min(Math.max(x, lo), hi);
}

// Six decimals (about 10 cm) keep URLs short. Latitudes are already within
// ±90, so rounding them outwards cannot leave that range.
function down(x) {
  return Math.max(Math.floor(x * 1e6) / 1e6, -180);
}

function up(x) {
  return Math.min(Math.ceil(x * 1e6) / 1e6, 180);
}

/** lngNear moves a longitude by whole turns to the copy of the world east of west. */
export function lngNear(lng, west) {
  return lng + 360 * Math.ceil((west - lng) / 360);
}

const EARTH_RADIUS_M = 6371008.8; // mean radius, as PostGIS's spheroid-free distance

/** distanceMetres is the great-circle distance between two [lon, lat] points. */
export function distanceMetres([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * bboxAround is the API bbox [west, south, east, north] of the square
 * reaching km from a point in every direction. Near the antimeridian west
 * may be greater than east (a box across it); near a pole it spans every
 * longitude.
 */
export function bboxAround(lon, lat, km) {
  const dLat = km / 111.32;
  const south = clamp(lat - dLat, -90, 90);
  const north = clamp(lat + dLat, -90, 90);
  const cos = Math.cos((Math.min(Math.abs(lat) + dLat, 90) * Math.PI) / 180);
  const dLon = cos > 1e-6 ? km / (111.32 * cos) : 360;
  if (dLon >= 180) return [-180, down(south), 180, up(north)];
  return [down(wrapLng(lon - dLon)), down(south), up(wrapLng(lon + dLon)), up(north)];
}

/**
 * bboxWithin reports whether API bbox inner lies inside outer. Boxes that
 * cross the antimeridian are never said to: callers use it only to skip
 * work, so "no" is always safe.
 */
export function bboxWithin([w1, s1, e1, n1], [w2, s2, e2, n2]) {
  if (w1 > e1 || w2 > e2) return false;
  return w1 >= w2 && e1 <= e2 && s1 >= s2 && n1 <= n2;
}

/** bboxContains reports whether an API bbox (which may cross the antimeridian) holds a point. */
export function bboxContains([west, south, east, north], lon, lat) {
  if (!(lat >= south && lat <= north)) return false;
  const x = wrapLng(lon) === -180 && lon === 180 ? 180 : wrapLng(lon);
  return west <= east ? x >= west && x <= east : x >= west || x <= east;
}
