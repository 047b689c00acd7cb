// The URL hash holds the whole view, so that a copied address reopens the
// map as it was: #map=7/39.40/47.03&from=2020-10-01&to=2020-10-31
// &types=Battles,Protests&status=verified&q=shelling&border=5
// &win=2020-10-12/2020-10-18&sel=12&layers=incidents,heat&moderate
// Parameters at their default are left out. The hash is never sent to the
// server, and it is replaced rather than pushed so that panning does not
// fill the browser's history.

import { isoToDay } from './format.js';

/**
 * encodeHash turns app state into a hash string (with the leading '#').
 * state: { view: {lat, lng, zoom}, filters, window, selected, layers,
 * defaultLayers, moderate }; moderate (the moderation view is open) is a
 * bare flag, so that "#moderate" alone opens it.
 */
export function encodeHash({ view, filters, window: win, selected, layers, defaultLayers, moderate }) {
  const parts = [];
  const put = (key, value) => parts.push(`${key}=${encodeValue(value)}`);
  if (view) {
    const d = decimalsForZoom(view.zoom);
    put('map', `${view.zoom}/${view.lat.toFixed(d)}/${view.lng.toFixed(d)}`);
  }
  if (filters.from) put('from', filters.from);
  if (filters.to) put('to', filters.to);
  if (filters.types) put('types', filters.types.join(','));
  if (filters.statuses) put('status', filters.statuses.join(','));
  if (filters.q) put('q', filters.q);
  if (filters.border) put('border', filters.border);
  if (win) put('win', `${win.from}/${win.to}`);
  if (selected) put('sel', selected);
  if (layers && !sameSet(layers, defaultLayers)) put('layers', layers.join(','));
  if (moderate) parts.push('moderate');
  return '#' + parts.join('&');
}

/**
 * decodeHash parses a hash (with or without '#') into partial state: only
 * what is present and valid is set, so a damaged link still opens the map.
 */
export function decodeHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const out = { filters: {} };
  const map = (params.get('map') || '').split('/').map(Number);
  if (map.length === 3 && map.every(Number.isFinite) && Math.abs(map[1]) <= 90) {
    out.view = { zoom: Math.round(Math.min(Math.max(map[0], 0), 19)), lat: map[1], lng: map[2] };
  }
  for (const key of ['from', 'to']) {
    const v = params.get(key);
    if (isoToDay(v) !== null) out.filters[key] = v;
  }
  if (params.has('types')) out.filters.types = list(params.get('types'));
  if (params.has('status')) out.filters.statuses = list(params.get('status'));
  if (params.get('q')) out.filters.q = params.get('q').slice(0, 200);
  const border = Number(params.get('border'));
  if (params.get('border') && border > 0 && border <= 1000) out.filters.border = String(border);
  const [winFrom, winTo] = (params.get('win') || '').split('/');
  if (isoToDay(winFrom) !== null && isoToDay(winTo) !== null && winFrom <= winTo) {
    out.window = { from: winFrom, to: winTo };
  }
  const sel = params.get('sel');
  if (sel && /^[1-9][0-9]{0,18}$/.test(sel)) out.selected = sel;
  if (params.has('layers')) out.layers = list(params.get('layers'));
  out.moderate = params.has('moderate');
  return out;
}

// Keep '/' and ',' readable: both are allowed in a fragment.
function encodeValue(v) {
  return encodeURIComponent(v).replace(/%2F/gi, '/').replace(/%2C/gi, ',');
}

function list(s) {
  return s ? s.split(',').filter(Boolean) : [];
}

function sameSet(a, b) {
  return !!b && a.length === b.length && a.every((x) => b.includes(x));
}

/** decimalsForZoom: enough decimals for about a pixel at that zoom. */
function decimalsForZoom(zoom) {
  return Math.max(2, Math.ceil((zoom * Math.LN2 + Math.log(256 / 360)) / Math.LN10));
}
