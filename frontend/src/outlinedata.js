// What the offline basemap reads from the server's vector tiles of the
// countries and borders layers (Mapbox Vector Tiles: one layer named after
// the collection, each feature's properties as one JSON text attribute
// "properties"), and where it can name a country. Pure functions: no DOM,
// no Leaflet.

import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

/** Tiles are drawn this many CSS pixels square. */
export const OUTLINE_TILE_SIZE = 256;

/**
 * decodeOutlines reads layer `name` of a tile into
 * [{ type: 2 (line) or 3 (polygon), rings: [[[x, y]...]...] in tile
 * pixels, props }].
 */
export function decodeOutlines(data, name) {
  const layer = new VectorTile(new PbfReader(data)).layers[name];
  const out = [];
  if (!layer) return out;
  const scale = OUTLINE_TILE_SIZE / layer.extent;
  for (let i = 0; i < layer.length; i++) {
    const f = layer.feature(i);
    if (f.type !== 2 && f.type !== 3) continue;
    const rings = f.loadGeometry().map((ring) => ring.map((p) => [p.x * scale, p.y * scale]));
    out.push({ type: f.type, rings, props: parseProps(f.properties) });
  }
  return out;
}

function parseProps(p) {
  if (typeof p?.properties !== 'string') return p || {};
  try {
    return JSON.parse(p.properties) || {};
  } catch {
    return {};
  }
}

/**
 * ringArea is the signed area of a ring (shoelace), in square pixels:
 * outer rings of vector tiles are positive (clockwise in screen space).
 */
export function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  }
  return a / 2;
}

/** ringCentroid is the area-weighted centroid of a ring. */
export function ringCentroid(ring) {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0, y0] = ring[j];
    const [x1, y1] = ring[i];
    const f = x0 * y1 - x1 * y0;
    a += f;
    cx += (x0 + x1) * f;
    cy += (y0 + y1) * f;
  }
  if (a === 0) return ring[0] ? [ring[0][0], ring[0][1]] : [0, 0];
  return [cx / (3 * a), cy / (3 * a)];
}

/** pointInRing: even-odd test. */
export function pointInRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * labelAnchors gives, for each named polygon of a tile, where its name
 * could go: the centroid of its largest outer ring (or, when that falls
 * outside the ring, as for a crescent, the ring's widest horizontal
 * middle), with that ring's area and width: [{ name, x, y, area, width }].
 */
export function labelAnchors(features) {
  const out = [];
  for (const f of features) {
    const name = f.props?.name;
    if (f.type !== 3 || typeof name !== 'string' || !name) continue;
    let best = null;
    let bestArea = 0;
    for (const ring of f.rings) {
      const a = Math.abs(ringArea(ring));
      if (a > bestArea) {
        bestArea = a;
        best = ring;
      }
    }
    if (!best || bestArea === 0) continue;
    let [x, y] = ringCentroid(best);
    const xs = best.map((p) => p[0]);
    const ys = best.map((p) => p[1]);
    const width = Math.max(...xs) - Math.min(...xs);
    if (!pointInRing([x, y], best)) [x, y] = widestMiddle(best, (Math.min(...ys) + Math.max(...ys)) / 2);
    out.push({ name, x, y, area: bestArea, width });
  }
  return out;
}

/** widestMiddle: the middle of the widest span of a ring along the line y. */
function widestMiddle(ring, y) {
  const xs = [];
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
  }
  xs.sort((a, b) => a - b);
  let best = [ring[0][0], y];
  let span = -1;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    if (xs[i + 1] - xs[i] > span) {
      span = xs[i + 1] - xs[i];
      best = [(xs[i] + xs[i + 1]) / 2, y];
    }
  }
  return best;
}

/** Population a place needs to be named at a zoom (the most populous in view come first anyway). */
export function minPopulation(zoom) {
  if (zoom <= 3) return 1000000;
  if (zoom <= 4) return 500000;
  if (zoom <= 5) return 200000;
  if (zoom <= 6) return 50000;
  if (zoom <= 7) return 15000;
  if (zoom <= 8) return 5000;
  return 0;
}

/** placeSize: the label size class of a place, from its population. */
export function placeSize(population, capital) {
  if (capital || population >= 5000000) return 'l';
  if (population >= 1000000) return 'm';
  if (population >= 100000) return 's';
  return 'xs';
}

/**
 * placeLabels chooses labels that do not overlap: candidates are { key,
 * x, y, w, h } boxes centred on x, y (container pixels), most important
 * first; each is kept when it overlaps none kept before (with a margin).
 */
export function placeLabels(candidates, margin = 4) {
  const kept = [];
  for (const c of candidates) {
    const box = [c.x - c.w / 2 - margin, c.y - c.h / 2 - margin, c.x + c.w / 2 + margin, c.y + c.h / 2 + margin];
    if (kept.some(({ box: k }) => box[0] < k[2] && k[0] < box[2] && box[1] < k[3] && k[1] < box[3])) continue;
    kept.push({ ...c, box });
  }
  return kept;
}
