// What an incidents vector tile holds, read for drawing (tiles.js draws
// it): the features of its "incidents" layer decoded with
// @mapbox/vector-tile and pbf, the server's fine clusters summed into the
// circles a tile shows, and what each tile counts towards the incidents in
// view; and, for keyboard users, which drawn item lies nearest the map's
// centre and what Enter does with it. Pure functions: no DOM, no Leaflet.

import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { formatCount, plural } from './format.js';
import { precisionRadius } from './precision.js';
import { clusterStyle } from './symbols.js';

/** Tiles are drawn 256 CSS pixels square. */
export const TILE_SIZE = 256;
/** The layer of the tiles that holds the incidents. */
const SOURCE_LAYER = 'incidents';
/**
 * The server's clusters (up to 64 × 64 a tile) are drawn as one per cell
 * of this many pixels: cells of a world-wide grid, so that a cell never
 * spans two tiles and its circle fits in it (no circle overlaps another or
 * is cut at a tile's edge), and what a tile shows does not depend on which
 * others have loaded.
 */
export const CLUSTER_CELL = 64;

/** The equator's length in metres on the Web Mercator sphere (EPSG:3857). */
const EQUATOR_M = 40075016.686;
/** Precision circles smaller than this radius, in CSS pixels, are not drawn. */
export const MIN_CIRCLE_PX = 4;
/** Circles are drawn on tiles at most this many tiles away from their point's. */
export const MAX_CIRCLE_REACH = 4;

/**
 * circleRadiusPx is the radius in CSS pixels of the precision circle
 * (precision.js) of a point with properties props at world pixel row y
 * (tiles of TILE_SIZE) of zoom z: its radius in metres over Web Mercator's
 * metres per pixel there (cos φ = 1 / cosh(π (1 − 2y / world))). 0 for an
 * exact point or a circle under MIN_CIRCLE_PX.
 */
export function circleRadiusPx(props, y, z) {
  const metres = precisionRadius(props);
  if (!metres) return 0;
  const world = TILE_SIZE * 2 ** z;
  const px = (metres * Math.cosh(Math.PI * (1 - (2 * y) / world)) * world) / EQUATOR_M;
  return px >= MIN_CIRCLE_PX ? px : 0;
}

/**
 * circleReach sets each point item's circle radius r (CSS pixels; 0: none)
 * for a tile at row ty of zoom z, and returns how many tiles away its
 * circles reach (0: none beyond the tile itself), at most MAX_CIRCLE_REACH.
 */
export function circleReach(items, ty, z) {
  let reach = 0;
  for (const it of items) {
    if (it.cluster) continue;
    it.r = circleRadiusPx(it.props, ty * TILE_SIZE + it.y, z);
    if (it.r) {
      const out = Math.max(-(it.x - it.r), it.x + it.r - TILE_SIZE, -(it.y - it.r), it.y + it.r - TILE_SIZE);
      reach = Math.max(reach, Math.ceil(out / TILE_SIZE));
    }
  }
  return Math.min(reach, MAX_CIRCLE_REACH);
}

/**
 * decode reads the incidents layer of a tile into
 * [{ x, y (tile pixels), own (inside the tile, not its buffer), id, props }].
 */
export function decode(data) {
  const layer = new VectorTile(new PbfReader(data)).layers[SOURCE_LAYER];
  const out = [];
  if (!layer) return out;
  const scale = TILE_SIZE / layer.extent;
  for (let i = 0; i < layer.length; i++) {
    const f = layer.feature(i);
    if (f.type !== 1) continue; // points only
    const p = f.loadGeometry()[0]?.[0];
    if (!p) continue;
    out.push({
      x: p.x * scale,
      y: p.y * scale,
      own: p.x >= 0 && p.x < layer.extent && p.y >= 0 && p.y < layer.extent,
      id: f.id,
      props: f.properties,
    });
  }
  return out;
}

/**
 * prepare turns decoded features into what is drawn (items) and what is
 * counted (raw: the tile's own features, each with its count). Clusters in
 * the tile's buffer belong to its neighbour and are left out (each is
 * counted once); the server's fine clusters are summed per CLUSTER_CELL
 * cell into one circle drawn at their weighted centre, where the incidents
 * are (not at the cell's centre, nor pushed inside it: at the world view a
 * cell spans hundreds of kilometres, and Azerbaijan's incidents must not be
 * drawn over Iran). A circle may then reach over the tile's edge: tiles.js
 * draws it on the neighbouring tiles too. Each cluster carries type, the
 * event type most of its incidents have (ties: alphabetical), from the
 * server's counts per type. Points in the buffer are drawn, so that a
 * marker on a tile edge is not cut.
 */
export function prepare(features) {
  const clusters = features.some((f) => f.props.count !== undefined);
  if (!clusters) {
    return {
      clusters,
      items: features.map((f) => ({ x: f.x, y: f.y, id: f.id, props: f.props, count: 1 })),
      raw: features.filter((f) => f.own).map((f) => ({ x: f.x, y: f.y, count: 1 })),
    };
  }
  const own = features
    .filter((f) => f.own && Number(f.props.count) > 0)
    .map((f) => ({ x: f.x, y: f.y, count: Number(f.props.count), types: typeCounts(f.props) }));
  const cells = new Map();
  for (const c of own) {
    const col = Math.floor(c.x / CLUSTER_CELL);
    const row = Math.floor(c.y / CLUSTER_CELL);
    const key = row * TILE_SIZE + col;
    let g = cells.get(key);
    if (!g) cells.set(key, (g = { wx: 0, wy: 0, count: 0, types: new Map() }));
    g.wx += c.x * c.count;
    g.wy += c.y * c.count;
    g.count += c.count;
    for (const [t, n] of c.types) g.types.set(t, (g.types.get(t) || 0) + n);
  }
  const items = [...cells.values()].map((g) => {
    const cx = g.wx / g.count;
    const cy = g.wy / g.count;
    const r = clusterStyle(g.count).diameter / 2;
    return { cluster: true, x: cx, y: cy, cx, cy, r, count: g.count, type: dominant(g.types) };
  });
  items.sort((a, b) => a.count - b.count); // the biggest on top
  return { clusters, items, raw: own.map((c) => ({ x: c.x, y: c.y, count: c.count })) };
}

/**
 * typeCounts reads a server cluster's counts per event type (its types
 * attribute, a JSON object); without it, all its incidents count for its
 * event_type.
 */
function typeCounts(props) {
  const out = new Map();
  if (typeof props.types === 'string') {
    try {
      for (const [t, n] of Object.entries(JSON.parse(props.types))) if (Number(n) > 0) out.set(t, Number(n));
    } catch {
      out.clear();
    }
  }
  if (!out.size && props.event_type) out.set(String(props.event_type), Number(props.count) || 0);
  return out;
}

/** dominant is the key of the largest count (ties: alphabetical), or null. */
export function dominant(counts) {
  let best = null;
  let bestN = -1;
  for (const [t, n] of counts) {
    if (n > bestN || (n === bestN && t < best)) {
      best = t;
      bestN = n;
    }
  }
  return best;
}

/**
 * nearest finds, among the items drawn on tiles ([{ x, y (tile column and
 * row), items }]), the one drawn nearest to the world pixel p ({ x, y }, at
 * the tiles' zoom) and inside box ({ minX, minY, maxX, maxY }, world
 * pixels: the view): { item, tile } or null. Ties go to the item drawn
 * last (on top), as clicks do.
 */
export function nearest(tiles, p, box) {
  let best = null;
  let bestD = Infinity;
  for (const tile of tiles) {
    for (const item of tile.items) {
      const x = tile.x * TILE_SIZE + item.x;
      const y = tile.y * TILE_SIZE + item.y;
      if (x < box.minX || x > box.maxX || y < box.minY || y > box.maxY) continue;
      const d = (x - p.x) ** 2 + (y - p.y) ** 2;
      if (d <= bestD) {
        best = { item, tile };
        bestD = d;
      }
    }
  }
  return best;
}

/**
 * keyHint says what Enter does with an item nearest returned (null: none
 * in view). Plain text, to be set as textContent.
 */
export function keyHint(item) {
  if (!item) return 'No incident drawn in view: pan with the arrow keys, zoom with + and −';
  if (item.cluster) {
    return `Enter: zoom to ${formatCount(item.count)} ${plural(item.count, 'incident', 'incidents')} near the centre`;
  }
  const title = typeof item.props?.title === 'string' ? item.props.title.trim() : '';
  return title ? `Enter: open “${title}”` : 'Enter: open the incident nearest the centre';
}
