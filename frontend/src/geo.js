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
