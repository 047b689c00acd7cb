// The basemap: raster tiles from the configured server when they load, and
// otherwise (no tile URL configured, or a network that cannot reach the tile
// server) a vector basemap drawn from the server's own `countries` and
// `borders` collections, so the map still makes sense offline.

import L from 'leaflet';
import { el } from './dom.js';
import { createBasemapLabels, OutlineTileLayer } from './outlines.js';

/** Tile errors before any tile has loaded that count as "tiles unavailable". */
const MAX_TILE_ERRORS = 3;
/** Tiles that neither load nor fail in this long (a silent network) count too. */
const TILE_TIMEOUT_MS = 8000;
/** Collections drawn by the offline basemap, bottom first, when the server has them. */
const OUTLINE_COLLECTIONS = ['countries', 'borders'];

/** The offline outlines come from Natural Earth (public domain; credit asked, not required). */
const OUTLINE_CREDIT = 'Outlines: Natural Earth';

export const OFFLINE_NOTICE = 'Map tiles unavailable — showing country outlines';

/**
 * createBasemap adds the basemap to map. config is /config.json,
 * collectionIds the ids listed by /api/collections. Returns
 * { isOffline() }.
 */
export function createBasemap(map, config, collectionIds) {
  const attribution = new AttributionControl().addTo(map);
  const container = map.getContainer();
  let offline = false;

  function goOffline(reason) {
    if (offline) return;
    offline = true;
    console.info(`incidentmap: offline basemap (${reason})`);
    if (tiles) map.removeLayer(tiles); // no more requests that cannot succeed
    container.classList.add('offline-basemap');
    container.append(el('p', { class: 'map-notice', role: 'status' }, OFFLINE_NOTICE));
    drawOutlines(map, collectionIds, attribution);
  }

  let tiles = null;
  if (!config.tileURL) {
    goOffline('no tile URL configured');
  } else {
    tiles = L.tileLayer(config.tileURL, { maxZoom: 19, crossOrigin: false });
    attribution.set(config.tileAttribution);
    let loaded = 0;
    let errors = 0;
    let timer = 0;
    tiles.on('tileloadstart', () => {
      if (!timer && !loaded) timer = setTimeout(() => loaded || goOffline('tiles time out'), TILE_TIMEOUT_MS);
    });
    tiles.on('tileload', () => {
      loaded++;
      clearTimeout(timer);
    });
    tiles.on('tileerror', () => {
      errors++;
      if (!loaded && errors >= MAX_TILE_ERRORS) goOffline('tiles fail to load');
    });
    tiles.addTo(map);
  }
  return { isOffline: () => offline };
}

/**
 * drawOutlines draws the outline collections from their vector tiles, a
 * graticule and the labels, below everything else.
 */
function drawOutlines(map, collectionIds, attribution) {
  // Their own panes, below the overlay pane (style.css sets the z-index).
  map.createPane('basemap');
  const renderer = L.canvas({ pane: 'basemap', padding: 0.5 });
  graticule(renderer).addTo(map);
  const ids = OUTLINE_COLLECTIONS.filter((id) => collectionIds.includes(id));
  // The tile server's credit no longer applies; the outlines' source does.
  attribution.set(ids.length ? OUTLINE_CREDIT : '');
  const container = map.getContainer();
  const drawn = () => {
    if (container.dataset.basemap === 'drawn') return;
    performance.mark('incidentmap:basemap');
    container.dataset.basemap = 'drawn';
  };
  let outlines = null;
  if (ids.length) {
    outlines = new OutlineTileLayer({ ids }).addTo(map);
    outlines.once('load', drawn);
  } else {
    drawn();
  }
  createBasemapLabels(map, { outlines, places: collectionIds.includes('places') });
}

/** graticule: lines every 10 degrees, so an empty offline map still shows where it is. */
function graticule(renderer) {
  const lines = [];
  for (let lng = -180; lng <= 180; lng += 10) lines.push([[-85, lng], [85, lng]]);
  for (let lat = -80; lat <= 80; lat += 10) lines.push([[lat, -540], [lat, 540]]);
  return L.polyline(lines, { renderer, pane: 'basemap', interactive: false, color: '#b9c9d6', weight: 0.6 });
}

// Leaflet's attribution control writes its text as HTML; this one writes
// text nodes, so a configured attribution cannot inject markup.
const AttributionControl = L.Control.extend({
  options: { position: 'bottomright' },
  onAdd() {
    this._text = document.createTextNode('');
    return el(
      'div',
      { class: 'leaflet-control leaflet-control-attribution' },
      el('a', { href: 'https://leafletjs.com', target: '_blank', rel: 'noopener noreferrer' }, 'Leaflet'),
      ' | Places: ',
      // The gazetteer's licence (CC BY 4.0) asks for this credit.
      el('a', { href: 'https://www.geonames.org/', target: '_blank', rel: 'noopener noreferrer' }, 'GeoNames'),
      ' (',
      el('a', { href: 'https://creativecommons.org/licenses/by/4.0/', target: '_blank', rel: 'noopener noreferrer' }, 'CC BY 4.0'),
      ')',
      this._text,
    );
  },
  set(text) {
    this._text.data = text ? ` | ${text}` : '';
  },
});
