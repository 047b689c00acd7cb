// The offline basemap drawn from the server's own data: country outlines
// and land borders from the vector tiles of the countries and borders
// collections (a tile at a time, so the 1:10m countries are never
// downloaded whole), and labels: country names placed in the largest
// piece of each country in view, and the most populous places in view
// from /api/places/labels, sized by population and kept from overlapping.

import L from 'leaflet';
import { getJSON, isAbort } from './api.js';
import { debounce, el } from './dom.js';
import { viewBBox } from './geo.js';
import {
  decodeOutlines,
  labelAnchors,
  minPopulation,
  OUTLINE_TILE_SIZE,
  placeLabels,
  placeSize,
} from './outlinedata.js';

const MVT = 'application/vnd.mapbox-vector-tile';
/** Font sizes (px) of the label classes, for the overlap estimate (style.css sets them). */
const LABEL_FONT = { country: 13, l: 14, m: 13, s: 12, xs: 11 };
/** One place label per this many square pixels of map, at most. */
const PX_PER_PLACE = 9000;
const LABELS_DEBOUNCE_MS = 250;

/**
 * OutlineTileLayer draws the ids collections (countries, borders) from
 * their vector tiles on canvases, in the basemap pane. Its tiles keep the
 * label anchors of the countries they hold (labelAnchors()).
 */
export const OutlineTileLayer = L.GridLayer.extend({
  options: { tileSize: OUTLINE_TILE_SIZE, pane: 'basemap', updateWhenZooming: false, ids: [] },

  createTile(coords, done) {
    const canvas = document.createElement('canvas');
    const dpr = window.devicePixelRatio || 1;
    canvas.width = canvas.height = OUTLINE_TILE_SIZE * dpr;
    const abort = new AbortController();
    canvas._abort = abort;
    canvas._anchors = [];
    this._load(canvas, coords, abort.signal, dpr)
      .then(() => done(null, canvas))
      .catch((err) => {
        if (!isAbort(err)) console.warn('incidentmap: cannot draw an outline tile', err);
        done(isAbort(err) ? null : err, canvas);
      });
    return canvas;
  },

  initialize(options) {
    L.GridLayer.prototype.initialize.call(this, options);
    this.on('tileunload', (e) => e.tile._abort?.abort());
  },

  async _load(canvas, { x, y, z }, signal, dpr) {
    const layers = await Promise.all(
      this.options.ids.map(async (id) => {
        const res = await fetch(`/api/collections/${id}/tiles/WebMercatorQuad/${z}/${y}/${x}`, {
          signal,
          headers: { Accept: MVT },
        });
        if (!res.ok) throw new Error(`${id} tile ${z}/${y}/${x}: HTTP ${res.status}`);
        const data = res.status === 204 ? null : new Uint8Array(await res.arrayBuffer());
        return [id, data && data.length ? decodeOutlines(data, id) : []];
      }),
    );
    const ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    for (const [id, features] of layers) {
      if (id === 'countries') {
        drawCountries(ctx, features);
        canvas._anchors = labelAnchors(features);
      } else {
        drawLines(ctx, features);
      }
    }
  },

  /** anchors: the country label anchors of the tiles in view, in container pixels. */
  anchors() {
    const map = this._map;
    const out = [];
    if (!map) return out;
    const zoom = Math.round(map.getZoom());
    for (const key in this._tiles) {
      const t = this._tiles[key];
      if (!t.current || !t.loaded || t.coords.z !== zoom) continue;
      for (const a of t.el._anchors || []) {
        const global = L.point(t.coords.x * OUTLINE_TILE_SIZE + a.x, t.coords.y * OUTLINE_TILE_SIZE + a.y);
        const latlng = map.unproject(global, zoom);
        out.push({ ...a, latlng, point: map.latLngToContainerPoint(latlng) });
      }
    }
    return out;
  },
});

function drawCountries(ctx, features) {
  ctx.fillStyle = '#f4f1ea';
  ctx.strokeStyle = '#8a8a8a';
  ctx.lineWidth = 0.6;
  for (const f of features) {
    if (f.type !== 3) continue;
    ctx.beginPath();
    for (const ring of f.rings) tracePath(ctx, ring, true);
    ctx.fill(); // nonzero: outer rings turn one way, holes the other (MVT spec)
    ctx.stroke();
  }
}

function drawLines(ctx, features) {
  ctx.strokeStyle = '#6b6b6b';
  ctx.lineWidth = 1.2;
  ctx.beginPath();
  for (const f of features) for (const ring of f.rings) tracePath(ctx, ring, f.type === 3);
  ctx.stroke();
}

function tracePath(ctx, ring, close) {
  if (!ring.length) return;
  ctx.moveTo(ring[0][0], ring[0][1]);
  for (let i = 1; i < ring.length; i++) ctx.lineTo(ring[i][0], ring[i][1]);
  if (close) ctx.closePath();
}

/**
 * createBasemapLabels names countries (from outlines, when given) and the
 * most populous places in view, on a pane above the outlines and below the
 * incidents. Labels are redrawn after each move.
 */
export function createBasemapLabels(map, { outlines = null, places = true }) {
  map.createPane('basemapLabels');
  const group = L.layerGroup().addTo(map);
  let abort = null;
  let placesInView = [];

  const redraw = () => {
    const zoom = map.getZoom();
    const size = map.getSize();
    const candidates = [];
    const countries = [];
    // A country is named once, in its largest piece in view, if the name fits there.
    const byName = new Map();
    for (const a of outlines?.anchors() || []) {
      const prev = byName.get(a.name);
      if (!prev || a.area > prev.area) byName.set(a.name, a);
    }
    for (const a of byName.values()) {
      const w = textWidth(a.name, LABEL_FONT.country) * 1.3; // capitals, spaced
      if (a.width < w * 0.8 || a.area < w * LABEL_FONT.country * 3) continue;
      if (a.point.x < 0 || a.point.y < 0 || a.point.x > size.x || a.point.y > size.y) continue;
      countries.push({ key: `c:${a.name}`, kind: 'country', text: a.name, latlng: a.latlng, x: a.point.x, y: a.point.y, w, h: LABEL_FONT.country + 4, area: a.area });
    }
    countries.sort((a, b) => b.area - a.area);
    const towns = placesInView.map((p) => {
      const cls = placeSize(p.population, p.capital);
      const pt = map.latLngToContainerPoint(p.latlng);
      return { key: `p:${p.name}:${p.latlng.lat}`, kind: cls, text: p.name, latlng: p.latlng, x: pt.x + textWidth(p.name, LABEL_FONT[cls]) / 2 + 6, y: pt.y, w: textWidth(p.name, LABEL_FONT[cls]) + 10, h: LABEL_FONT[cls] + 4, capital: p.capital };
    });
    // Zoomed out, countries orient first; zoomed in, towns do.
    if (zoom <= 5) candidates.push(...countries, ...towns);
    else candidates.push(...towns, ...countries);
    group.clearLayers();
    for (const c of placeLabels(candidates)) group.addLayer(labelMarker(c));
    map.getContainer().dataset.labels = String(group.getLayers().length);
  };

  const loadPlaces = debounce(async () => {
    if (!places) return redraw();
    abort?.abort();
    const mine = (abort = new AbortController());
    const size = map.getSize();
    const limit = Math.max(10, Math.min(200, Math.round((size.x * size.y) / PX_PER_PLACE)));
    const params = new URLSearchParams({ bbox: viewBBox(map).join(','), limit: String(limit) });
    try {
      const { labels } = await getJSON(`/api/places/labels?${params}`, { signal: mine.signal });
      if (mine.signal.aborted) return;
      const min = minPopulation(map.getZoom());
      placesInView = labels
        .filter(([, , name, population, capital]) => typeof name === 'string' && (capital || population >= min))
        .map(([lon, lat, name, population, capital]) => ({ latlng: L.latLng(lat, nearLng(map, lon)), name, population, capital }));
    } catch (err) {
      if (isAbort(err)) return;
      console.warn('incidentmap: cannot load the place labels', err);
      placesInView = [];
    }
    redraw();
  }, LABELS_DEBOUNCE_MS);

  map.on('moveend', loadPlaces);
  outlines?.on('load', redraw);
  loadPlaces();
  return { redraw };
}

/** nearLng puts a longitude on the copy of the world in view. */
function nearLng(map, lng) {
  const c = map.getCenter().lng;
  return lng + 360 * Math.round((c - lng) / 360);
}

function labelMarker(c) {
  const node = el(
    'div',
    { class: `basemap-label label-${c.kind}${c.capital ? ' label-capital' : ''}`, 'aria-hidden': 'true' },
    c.kind === 'country' ? null : el('span', { class: 'label-dot' }),
    el('span', { class: 'label-text' }, c.text),
  );
  const icon = L.divIcon({ className: 'basemap-label-icon', html: node, iconSize: null });
  return L.marker(c.latlng, { icon, interactive: false, keyboard: false, pane: 'basemapLabels' });
}

/** textWidth estimates a label's width: about 0.58 em a character in a sans-serif font. */
function textWidth(text, fontPx) {
  return [...text].length * fontPx * 0.58;
}
