// Incidents as vector tiles, for views that hold too many to load: a
// Leaflet GridLayer that fetches the server's Mapbox Vector Tiles
// (/api/collections/incidents/tiles/WebMercatorQuad/{z}/{y}/{x}, with the
// same filter parameters as the items) and draws them on canvases. Below
// the server's cluster zoom a tile holds grid clusters (count, event_type,
// fatalities), drawn as cluster circles with their count; from it on, one
// point per incident (id, title, event_type, status, fatalities,
// geo_precision, occurred_at), drawn as the markers of incidents.js, over
// the translucent precision circle of a point known only near a place or to
// a district wherever that circle is a few pixels wide (tiledata.js
// circleRadiusPx; it may reach over onto other tiles, which draw their part
// of it). Clicking a cluster
// zooms in on it; clicking a point calls onSelect with a GeoJSON-like
// feature, whose popup fetches the whole incident.
//
// Keyboard: canvas drawings cannot take focus, so while the map container
// itself has focus, Enter does to the cluster or point drawn nearest the
// map's centre what a click on it does, and a polite live region over the
// map says what that would be ("Enter: zoom to 1,234 incidents near the
// centre", "Enter: open “title”"), updated after each move once the
// tiles are in. Arrows and +/- stay Leaflet's.
//
// Tiles are redrawn in place (the old drawing stays until the new one is
// in) when the filters change and, for the tiles an incident event
// touches, after live updates.

import L from 'leaflet';
import { tilePath } from './api.js';
import { debounce, el } from './dom.js';
import { bboxContains, wrapLng } from './geo.js';
import { CLUSTER_HALO, createPainter, SYMBOL_SIZE } from './symbols.js';
import { circleReach, decode, keyHint, MAX_CIRCLE_REACH, nearest, prepare, TILE_SIZE } from './tiledata.js';

/** The deepest zoom the server makes tiles for (geo.MaxTileZoom). */
const MAX_TILE_ZOOM = 22;
const MVT = 'application/vnd.mapbox-vector-tile';
/** Clicks this close to a point's centre hit it. */
const POINT_HIT = SYMBOL_SIZE / 2 + 2;
/** Clicking a cluster zooms in this many levels. */
const CLUSTER_ZOOM_STEP = 2;
/** Live events arriving within this long are redrawn together. */
const LIVE_REFRESH_MS = 500;

/**
 * IncidentTileLayer options: onSelect(feature) for a clicked point;
 * ignoreClick() may say that map clicks are someone else's now (the report
 * form placing its point). Events: 'idle' when no tile is loading any more,
 * 'tiledrawn' ({ count }) when a tile with incidents has been drawn, and
 * GridLayer's 'tileerror'.
 */
export const IncidentTileLayer = L.GridLayer.extend({
  options: {
    tileSize: TILE_SIZE,
    pane: 'incidentTiles',
    maxNativeZoom: MAX_TILE_ZOOM,
    updateWhenZooming: false,
    onSelect: null,
    ignoreClick: null,
  },

  initialize(options) {
    L.GridLayer.prototype.initialize.call(this, options);
    this._params = new URLSearchParams();
    this._pending = 0;
    this._dirty = new Set(); // wrapped tile keys to redraw after live events
    this._refreshDirty = debounce(() => this._refreshKeys(), LIVE_REFRESH_MS);
    this.on('tileunload', (e) => e.tile._im?.abort?.abort());
    this._onKeyDown = this._onKeyDown.bind(this);
    this._updateHint = this._updateHint.bind(this);
  },

  onAdd(map) {
    if (!map.getPane(this.options.pane)) map.createPane(this.options.pane);
    this._painter = this._painter || createPainter(map.getContainer(), window.devicePixelRatio || 1);
    L.GridLayer.prototype.onAdd.call(this, map);
    map.on('click', this._onClick, this);
    map.on('mousemove', this._onMouseMove, this);
    map.on('mouseout', this._clearHover, this);
    this._addKeyboard(map);
  },

  onRemove(map) {
    map.off('click', this._onClick, this);
    map.off('mousemove', this._onMouseMove, this);
    map.off('mouseout', this._clearHover, this);
    this._clearHover();
    this._removeKeyboard(map);
    this._refreshDirty.cancel();
    this._dirty.clear();
    L.GridLayer.prototype.onRemove.call(this, map);
  },

  /**
   * setParams sets the filter parameters of the tiles; when they differ
   * from the current ones, the tiles on the map are fetched again.
   */
  setParams(params) {
    const next = new URLSearchParams(params);
    next.sort();
    if (next.toString() === this._params.toString()) return false;
    this._params = next;
    this._refreshAll();
    return true;
  },

  /** isBusy: some tile is being fetched. */
  isBusy() {
    return this._pending > 0;
  },

  /**
   * touch marks for a redraw the tiles an incident event may have changed:
   * those around its point (lon, lat; may be null) and those showing it.
   */
  touch(lon, lat, id) {
    if (!this._map || this._tileZoom === undefined) return;
    const z = this._tileZoom;
    const margin = POINT_HIT / TILE_SIZE; // a point is drawn a little beyond its own tile
    let p = null;
    if (Number.isFinite(lon) && Number.isFinite(lat)) {
      p = this._map.project([lat, wrapLng(lon)], z).divideBy(TILE_SIZE);
    }
    for (const key in this._tiles) {
      const tile = this._tiles[key];
      const im = tile.el._im;
      if (!tile.current || !im) continue;
      const { x, y } = im.coords;
      const near = p && p.x >= x - margin && p.x < x + 1 + margin && p.y >= y - margin && p.y < y + 1 + margin;
      if (near || (id !== undefined && im.items.some((it) => it.id !== undefined && String(it.id) === String(id)))) {
        this._dirty.add(wrappedKey(im.coords));
      }
    }
    if (this._dirty.size) this._refreshDirty();
  },

  /**
   * stats sums the incidents of the loaded tiles at the current zoom
   * that lie in an API bbox: { count, clusters (whether they are
   * clusters), complete (every tile in view is loaded) }.
   */
  stats(bbox) {
    const seen = new Set();
    let count = 0;
    let clusters = false;
    let complete = true;
    for (const key in this._tiles) {
      const tile = this._tiles[key];
      const im = tile.el._im;
      if (!tile.current || !im || im.coords.z !== this._tileZoom) continue;
      const k = wrappedKey(im.coords);
      if (seen.has(k)) continue; // another copy of the world
      seen.add(k);
      if (!im.loaded) {
        complete = false;
        continue;
      }
      clusters = clusters || im.clusters;
      for (const f of im.raw) {
        const ll = this._map.unproject([im.coords.x * TILE_SIZE + f.x, im.coords.y * TILE_SIZE + f.y], im.coords.z);
        if (bboxContains(bbox, ll.lng, ll.lat)) count += f.count;
      }
    }
    return { count, clusters, complete: complete && seen.size > 0 };
  },

  /**
   * heatPoints are [lat, lng, weight] of what the loaded tiles hold, on
   * the copies of the world they are shown on: a cluster weighs its count,
   * a point 1 (the heat layer scales them to the view's heaviest cell).
   */
  heatPoints() {
    const out = [];
    for (const key in this._tiles) {
      const tile = this._tiles[key];
      const im = tile.el._im;
      if (!tile.current || !im?.loaded) continue;
      const { x, y, z } = tile.coords; // unwrapped: the copy in view
      for (const f of im.raw) {
        const ll = this._map.unproject([x * TILE_SIZE + f.x, y * TILE_SIZE + f.y], z);
        out.push([ll.lat, ll.lng, f.count]);
      }
    }
    return out;
  },

  createTile(coords, done) {
    const canvas = document.createElement('canvas');
    const dpr = window.devicePixelRatio || 1;
    canvas.width = canvas.height = Math.round(TILE_SIZE * dpr);
    canvas.dataset.tile = `${coords.z}/${coords.x}/${coords.y}`;
    canvas._im = { coords: { x: coords.x, y: coords.y, z: coords.z }, items: [], raw: [], clusters: false, loaded: false, seq: 0, abort: null };
    this._load(canvas, done);
    return canvas;
  },

  _refreshAll() {
    if (!this._map) return;
    for (const key in this._tiles) {
      if (this._tiles[key].current) this._load(this._tiles[key].el);
    }
  },

  _refreshKeys() {
    const keys = this._dirty;
    this._dirty = new Set();
    if (!this._map) return;
    for (const key in this._tiles) {
      const tile = this._tiles[key];
      if (tile.current && keys.has(wrappedKey(tile.el._im.coords))) this._load(tile.el, null, { fresh: true });
    }
  },

  /**
   * _load fetches a tile's data and draws it; a newer load of the same
   * tile supersedes it. fresh skips the browser's cache (a live change
   * may be newer than a tile cached a second ago).
   */
  async _load(canvas, done = null, { fresh = false } = {}) {
    const im = canvas._im;
    im.abort?.abort();
    const abort = (im.abort = new AbortController());
    const seq = ++im.seq;
    const { x, y, z } = im.coords;
    this._pending++;
    let error = null;
    try {
      const res = await fetch(tilePath(z, x, y, this._params), {
        signal: abort.signal,
        headers: { Accept: MVT },
        cache: fresh ? 'no-store' : 'default',
      });
      if (!res.ok) throw new Error(`tile ${z}/${y}/${x}: HTTP ${res.status}`);
      const data = res.status === 204 ? null : new Uint8Array(await res.arrayBuffer());
      if (seq !== im.seq) return;
      const features = data && data.length ? decode(data) : [];
      Object.assign(im, prepare(features), { loaded: true });
      im.reach = im.clusters ? 0 : circleReach(im.items, y, z);
      this._draw(canvas);
      // Its clusters or precision circles may reach over the edges onto its neighbours, and theirs onto it.
      const reach = im.clusters ? 1 : im.reach;
      if (reach) for (const n of this._neighbours(canvas, reach)) if (n.tile.el !== canvas) this._draw(n.tile.el, false);
    } catch (err) {
      if (err?.name !== 'AbortError' && seq === im.seq) error = err;
    } finally {
      this._pending--;
      if (done) done(error, canvas);
      else if (error) this.fire('tileerror', { error, tile: canvas, coords: im.coords });
      if (this._pending === 0) this.fire('idle');
    }
  },

  _draw(canvas, announce = true) {
    const im = canvas._im;
    if (!im?.loaded) return;
    const ctx = canvas.getContext('2d');
    const dpr = canvas.width / TILE_SIZE;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (im.clusters) {
      // A cluster is drawn where its incidents are, which may be near a
      // tile's edge: the parts of the neighbours' circles that reach over
      // it are drawn here too (smallest first, as on one canvas).
      const all = [];
      for (const { tile, dx, dy } of this._neighbours(canvas)) {
        for (const it of tile.el._im.items) {
          const x = it.x + dx * TILE_SIZE;
          const y = it.y + dy * TILE_SIZE;
          const reach = it.r + CLUSTER_HALO;
          if (x + reach > 0 && x - reach < TILE_SIZE && y + reach > 0 && y - reach < TILE_SIZE) all.push({ it, x, y });
        }
      }
      all.sort((a, b) => a.it.count - b.it.count);
      for (const { it, x, y } of all) this._painter.cluster(ctx, x, y, it.count, it.type);
    } else {
      // Precision circles under every point, this tile's and the parts of
      // its neighbours' that reach over onto it.
      for (const { tile, dx, dy } of this._neighbours(canvas, MAX_CIRCLE_REACH)) {
        const other = tile.el._im;
        if (other.clusters || Math.max(Math.abs(dx), Math.abs(dy)) > (other.reach || 0)) continue;
        for (const it of other.items) {
          if (!it.r) continue;
          const x = it.x + dx * TILE_SIZE;
          const y = it.y + dy * TILE_SIZE;
          if (x + it.r > 0 && x - it.r < TILE_SIZE && y + it.r > 0 && y - it.r < TILE_SIZE) {
            this._painter.area(ctx, x, y, it.r, it.props.event_type);
          }
        }
      }
      for (const it of im.items) this._painter.point(ctx, it.x, it.y, it.props.event_type, it.props.status, it.r > 0);
    }
    if (announce && im.items.length) this.fire('tiledrawn', { count: im.items.length });
  },

  /**
   * _neighbours lists the loaded tiles of the same zoom up to reach tiles
   * around a tile's canvas, itself included: [{ tile, dx, dy }] (dx, dy in
   * tiles).
   */
  _neighbours(canvas, reach = 1) {
    let self = null;
    for (const key in this._tiles) {
      if (this._tiles[key].el === canvas) {
        self = this._tiles[key];
        break;
      }
    }
    if (!self) return [];
    const { x, y, z } = self.coords;
    const out = [];
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        const tile = this._tiles[`${x + dx}:${y + dy}:${z}`];
        if (tile?.el._im?.loaded && tile.el._im.coords.z === z) out.push({ tile, dx, dy });
      }
    }
    return out;
  },

  // _hit finds what is drawn under a map position: { item, coords } or null.
  _hit(latlng) {
    const z = this._tileZoom;
    if (!this._map || z === undefined) return null;
    const p = this._map.project(latlng, z);
    const tx = Math.floor(p.x / TILE_SIZE);
    const ty = Math.floor(p.y / TILE_SIZE);
    const tile = this._tiles[`${tx}:${ty}:${z}`];
    if (!tile || !tile.current || !tile.el._im?.loaded) return null;
    // A cluster of a neighbouring tile may reach over onto this one.
    const candidates = tile.el._im.clusters ? this._neighbours(tile.el) : [{ tile, dx: 0, dy: 0 }];
    let best = null;
    for (const { tile: t, dx, dy } of candidates) {
      const lx = p.x - (tx + dx) * TILE_SIZE;
      const ly = p.y - (ty + dy) * TILE_SIZE;
      const items = t.el._im.items;
      for (let i = items.length - 1; i >= 0; i--) {
        // The last drawn is on top.
        const it = items[i];
        const r = it.cluster ? it.r + CLUSTER_HALO : POINT_HIT;
        if ((it.x - lx) ** 2 + (it.y - ly) ** 2 <= r * r) {
          if (!best || (it.count || 0) > (best.item.count || 0)) best = { item: it, coords: t.coords };
          break;
        }
      }
    }
    return best;
  },

  _onClick(e) {
    if (this.options.ignoreClick?.()) return;
    const hit = this._hit(e.latlng);
    if (hit) this._activate(hit);
  },

  // _activate does what a click on a drawn item does: a cluster zooms in
  // on its incidents, a point is selected (its popup opens).
  _activate({ item, coords }) {
    const map = this._map;
    if (item.cluster) {
      const at = map.unproject([coords.x * TILE_SIZE + item.cx, coords.y * TILE_SIZE + item.cy], coords.z);
      map.setView(at, Math.min(map.getZoom() + CLUSTER_ZOOM_STEP, map.getMaxZoom()));
      return;
    }
    const at = map.unproject([coords.x * TILE_SIZE + item.x, coords.y * TILE_SIZE + item.y], coords.z);
    this.options.onSelect?.({
      type: 'Feature',
      id: item.id,
      geometry: { type: 'Point', coordinates: [wrapLng(at.lng), at.lat] },
      properties: { ...item.props },
    });
  },

  // _nearCentre finds the item drawn nearest the map's centre, in view:
  // { item, coords } as _hit, or null.
  _nearCentre() {
    const map = this._map;
    const z = this._tileZoom;
    if (!map || z === undefined) return null;
    const tiles = [];
    for (const key in this._tiles) {
      const tile = this._tiles[key];
      const im = tile.el._im;
      if (tile.current && im?.loaded && tile.coords.z === z && im.items.length) {
        tiles.push({ x: tile.coords.x, y: tile.coords.y, items: im.items, coords: tile.coords });
      }
    }
    const b = map.getBounds();
    const nw = map.project(b.getNorthWest(), z);
    const se = map.project(b.getSouthEast(), z);
    const found = nearest(tiles, map.project(map.getCenter(), z), { minX: nw.x, minY: nw.y, maxX: se.x, maxY: se.y });
    return found && { item: found.item, coords: found.tile.coords };
  },

  _addKeyboard(map) {
    const container = map.getContainer();
    this._hint = el('p', { class: 'tile-keyhint', role: 'status', 'aria-live': 'polite' });
    container.append(this._hint);
    container.setAttribute('aria-keyshortcuts', 'Enter');
    container.addEventListener('keydown', this._onKeyDown);
    container.addEventListener('focus', this._updateHint);
    container.addEventListener('blur', this._updateHint);
    map.on('moveend', this._updateHint, this);
    this.on('idle', this._updateHint, this);
  },

  _removeKeyboard(map) {
    const container = map.getContainer();
    container.removeEventListener('keydown', this._onKeyDown);
    container.removeEventListener('focus', this._updateHint);
    container.removeEventListener('blur', this._updateHint);
    container.removeAttribute('aria-keyshortcuts');
    map.off('moveend', this._updateHint, this);
    this.off('idle', this._updateHint, this);
    this._hint?.remove();
    this._hint = null;
  },

  // Enter on the map container itself (not on a control or popup in it).
  _onKeyDown(e) {
    if (e.key !== 'Enter' || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (!this._map || e.target !== this._map.getContainer()) return;
    const hit = this._nearCentre();
    if (!hit) return;
    e.preventDefault();
    this._activate(hit);
  },

  // _updateHint says what Enter would do, while the map has focus (it
  // says nothing otherwise); while tiles load it waits for 'idle'.
  _updateHint() {
    if (!this._map || !this._hint) return;
    const focused = document.activeElement === this._map.getContainer();
    if (!focused) {
      this._hint.textContent = '';
      return;
    }
    if (this.isBusy()) return;
    const text = keyHint(this._nearCentre()?.item ?? null);
    if (this._hint.textContent !== text) this._hint.textContent = text;
  },

  _onMouseMove(e) {
    this._hoverAt = e.latlng;
    if (this._hoverFrame) return;
    this._hoverFrame = requestAnimationFrame(() => {
      this._hoverFrame = 0;
      if (!this._map) return;
      const over = !this.options.ignoreClick?.() && this._hit(this._hoverAt) !== null;
      this._map.getContainer().classList.toggle('incident-tile-hover', over);
    });
  },

  _clearHover() {
    cancelAnimationFrame(this._hoverFrame);
    this._hoverFrame = 0;
    this._map?.getContainer().classList.remove('incident-tile-hover');
  },
});

function wrappedKey({ x, y, z }) {
  return `${z}/${x}/${y}`;
}
