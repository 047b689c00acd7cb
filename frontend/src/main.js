// incidentmap's map application: wires the map, the filter panel, the
// timeline, the layers and the permalink together, and loads the incidents
// in view. Each concern lives in its own module; this one only connects them.
//
// Live updates (live.js) merge created and changed incidents into `view.loaded`
// and drop retracted ones, then render as a load would.
//
// A view (with its filters) holding more than TILE_THRESHOLD incidents is
// not loaded: the map asks for the count first (a one-feature page) and
// shows the server's vector tiles instead (tiles.js), clusters drawn on
// canvas, until a view holds few enough again. The filters and the timeline
// window then go to the server with each tile; live events redraw the
// tiles they touch. The report form
// (report.js) and the moderation view (moderation.js) are sheets beside the
// map; moderation's open state is part of the permalink (#moderate).

import { reportPolicyViolations } from './diagnostics.js';
import L from 'leaflet';
import {
  absolute,
  countIncidents,
  fetchCollections,
  fetchConfig,
  fetchFeatures,
  fetchIncident,
  isAbort,
  itemsPath,
  PAGE_LIMIT,
} from './api.js';
import { createBasemap } from './basemap.js';
import { byId, debounce } from './dom.js';
import { coreBounds, FIT_MAX_ZOOM, FitControl, fitOptions } from './fitcontrol.js';
import { createFilterPanel, incidentParams, sameFilters, selectsNothing } from './filters.js';
import { formatCount, formatDayNumber, isoToDay, plural } from './format.js';
import { bboxContains, bboxWithin, lngNear, setBBox, viewBBox } from './geo.js';
import { createIncidentLayers } from './incidents.js';
import { fetchHistogram } from './histogram.js';
import { createLayerPanel, DEFAULT_LAYERS } from './layers.js';
import { LegendControl } from './legend.js';
import { connectEvents, createLiveNotice, matchesFilters } from './live.js';
import { createModeration } from './moderation.js';
import { decodeHash, encodeHash } from './permalink.js';
import { PlaceSearchControl } from './placecontrol.js';
import { MAP_PROPERTIES, MATCH_PROPERTIES } from './properties.js';
import { incidentContent } from './popup.js';
import { popupActions, zoomFor } from './popupactions.js';
import { createReportForm } from './report.js';
import { createSharePanel } from './share.js';
import { IncidentTileLayer } from './tiles.js';
import { createTimeline } from './timeline.js';
import { createViewState } from './viewstate.js';

reportPolicyViolations();

/** At most this many incidents are loaded for one view (5 pages). */
const MAX_FEATURES = 50000;
/**
 * Views (with their filters) holding more incidents than this are shown as
 * vector tiles rather than loaded: two pages of markers stay quick to load
 * and to cluster, a million do not. `?tile-threshold=N` in the page's URL
 * overrides it (tests use small numbers).
 */
const TILE_THRESHOLD = 20000;
/** In tile mode, markers come back at this share of the threshold. */
const TILE_HYSTERESIS = 0.8;
/** The largest numberMatched the server gives (api numberMatchedLimit); beyond it, none. */
const COUNT_LIMIT = 100000;
/** After live events in tile mode, the count in view is asked again this much later. */
const LIVE_COUNT_MS = 1000;
const MOVE_DEBOUNCE_MS = 250;
const WORLD_VIEW = { lat: 20, lng: 0, zoom: 2 };
/** Narrower than this between the filter panel and a sheet, the map is not worth keeping the panel open. */
const MIN_MAP_WIDTH = 720;

const mapEl = byId('map');
const countEl = byId('incident-count');
const errorEl = byId('load-error');
const tileThreshold = thresholdFromURL();

const map = L.map(mapEl, {
  worldCopyJump: true, // panning round the world comes back to the same copy of it
  attributionControl: false, // basemap.js adds one that writes text, not HTML
  minZoom: 1,
  maxZoom: 19,
  zoomSnap: 1,
});

// Everything main.js knows about the view, the popup and the load in
// flight (viewstate.js documents each field). The layer panel stands in
// until the collections are known.
const view = createViewState({ active: () => DEFAULT_LAYERS, set() {} });
mapEl.dataset.mode = view.mode;

const filters = createFilterPanel(() => {
  reload();
  writeHash();
});
const timeline = createTimeline(() => {
  render();
  writeHash();
});
const incidents = createIncidentLayers({ onSelect: (f) => select(f, { focus: true }) });
const tiles = new IncidentTileLayer({
  onSelect: (f) => select(f, { focus: true }),
  ignoreClick: () => reportSheet.isOpen(), // a click places the report's point
});
// The "incidents" layer of the layer panel: the clusters or the tiles.
const incidentLayer = L.layerGroup([incidents.areas, incidents.clusters]);
tiles.on('tiledrawn', () => {
  if (!view.tilesDrawn) performance.mark('incidentmap:first-tile');
  mapEl.dataset.tilesDrawn = String(++view.tilesDrawn);
});
tiles.on('idle', () => {
  if (view.mode !== 'tiles' || view.generation !== view.loadedFor) return;
  countEl.textContent = tileCountText();
  incidents.heat.setLatLngs(tiles.heatPoints());
});
tiles.on('tileerror', (e) => {
  if (view.tileErrorShown === view.generation) return; // one message for a view's tiles
  view.tileErrorShown = view.generation;
  showError('Cannot load the incident tiles', e.error);
});
const collectionsLoaded = fetchCollections().catch((err) => {
  showError('Cannot list the collections', err);
  return [];
});

const reloadSoon = debounce(() => reload(), MOVE_DEBOUNCE_MS);
map.on('moveend', () => {
  setLoading(); // at once, so nobody reads the old count as this view's
  reloadSoon();
  writeHash();
});
map.on('popupclose', (e) => {
  if (e.popup !== view.popup) return; // replaced by another incident's popup
  // Focus was in the popup (or fell to the body as it was removed).
  const active = document.activeElement;
  const hadFocus = view.returnFocus && (active === document.body || e.popup.getElement()?.contains(active));
  const closed = view.selected;
  view.popup = null;
  view.popupFeature = null;
  view.selected = null;
  writeHash();
  if (hadFocus) {
    // The marker may have been redrawn since (its successor then), or be in
    // a cluster or a tile: the map is the next best place.
    const back = view.returnFocus?.isConnected ? view.returnFocus : incidents.markerElement(closed) || mapEl;
    back.focus({ preventScroll: true });
  }
  view.returnFocus = null;
});
// A hash typed or pasted into the address bar of an open map.
window.addEventListener('hashchange', () => view.started && applyState(decodeHash(location.hash)));
const panel = setUpPanelToggle();
createSharePanel({ permalink: () => location.href, apiLink });

const reportSheet = createReportForm({ map, sheetEl: byId('report-sheet'), button: byId('report-open') });
const moderation = createModeration({
  map,
  sheetEl: byId('moderation-sheet'),
  button: byId('moderate-open'),
  openIncident: (id) => openIncident(id, { focus: true, pan: true }),
  onChange: () => {
    writeHash();
    refreshPopup();
  },
});
for (const sheet of [reportSheet.element, byId('moderation-sheet')]) {
  // On narrow screens the filter panel and a sheet would cover each other.
  new MutationObserver(() => !sheet.hidden && panel.closeIfCramped()).observe(sheet, { attributeFilter: ['hidden'] });
}

const liveNotice = createLiveNotice(mapEl);
connectEvents({
  onEvent: liveEvent,
  onState: (state) => {
    mapEl.dataset.live = state;
    liveNotice.setState(state);
  },
});

start().catch((err) => showError('The map could not start', err));

async function start() {
  const initial = decodeHash(location.hash);
  filters.set(initial.filters);
  timeline.setWindow(initial.window || null);
  const settings = Promise.all([fetchConfig(), collectionsLoaded]);
  // Without a view in the link, the map frames where the incidents are: asked at once.
  const core = initial.view
    ? null
    : coreBounds(incidentParams(filters.get(), timeline.window())).catch((err) => {
        console.warn('incidentmap: cannot read where the incidents are', err);
        return null;
      });
  // Incident layers go on at once: they need nothing from the server's settings.
  const wanted = initial.layers || DEFAULT_LAYERS;
  if (wanted.includes('incidents')) map.addLayer(incidentLayer);
  if (wanted.includes('heat')) map.addLayer(incidents.heat);
  // A link names its view: load its incidents while the rest is fetched.
  if (initial.view) {
    map.setView([initial.view.lat, initial.view.lng], initial.view.zoom);
    reload();
  }
  const [config, collections] = await settings;
  if (!initial.view) {
    // The central part of the incidents selected (a far outlier does not
    // frame the map); the collection's whole extent if that cannot be had.
    const bounds = await core;
    if (bounds) {
      map.fitBounds(bounds, fitOptions());
    } else {
      const fallback = extentView(collections.find((c) => c.id === 'incidents'));
      if (fallback.bounds) map.fitBounds(fallback.bounds, { maxZoom: FIT_MAX_ZOOM });
      else map.setView([fallback.lat, fallback.lng], fallback.zoom);
    }
    reload();
  }

  createBasemap(map, config, collections.map((c) => c.id));
  new LegendControl().addTo(map);
  new FitControl({ params: () => incidentParams(filters.get(), timeline.window()) }).addTo(map);
  new PlaceSearchControl().addTo(map);
  view.layers = createLayerPanel(
    map,
    {
      incidents: { title: 'Incidents (clusters)', layer: incidentLayer },
      heat: { title: 'Incidents (heatmap)', layer: incidents.heat },
    },
    collections.filter((c) => c.id !== 'incidents'),
    writeHash,
  );
  view.layers.set(wanted);
  view.started = true;
  if (initial.moderate) moderation.open();
  if (initial.selected) openIncident(initial.selected);
  writeHash();
}

/** applyState restores what a permalink pasted into an open map describes. */
function applyState(state) {
  filters.set(state.filters);
  timeline.setWindow(state.window || null);
  view.layers.set(state.layers || DEFAULT_LAYERS);
  if (state.view) map.setView([state.view.lat, state.view.lng], state.view.zoom);
  if (state.selected && state.selected !== view.selected) openIncident(state.selected);
  if (!state.selected && view.popup) map.closePopup(view.popup);
  if (state.moderate && !moderation.isOpen()) moderation.open();
  if (!state.moderate && moderation.isOpen()) moderation.close();
  reload();
  writeHash();
}

/**
 * reload fetches the incidents in view with the current filters, or, when
 * they are more than the threshold, shows them as tiles.
 */
async function reload() {
  reloadSoon.cancel();
  view.loadAbort?.abort();
  const abort = (view.loadAbort = new AbortController());
  const f = filters.get();
  setLoading();
  view.loading = true;
  view.newInView.clear();
  liveNotice.clear();
  const mine = view.generation;
  try {
    if (selectsNothing(f)) {
      view.loaded = { features: [], matched: 0, capped: false };
    } else {
      const bbox = viewBBox(map);
      const choice = await chooseMode(f, bbox, abort.signal);
      if (abort.signal.aborted) return;
      if (choice.tiles) {
        const collections = await collectionsLoaded;
        if (abort.signal.aborted) return;
        errorEl.hidden = true;
        view.loadedFor = mine;
        view.loaded = { features: [], matched: choice.matched, capped: false };
        showTiles(f, collections);
        loadHistogram(f, bbox, abort.signal, mine);
        finishLoad();
        return;
      }
      const params = incidentParams(f);
      setBBox(params, bbox);
      params.set('limit', String(PAGE_LIMIT));
      params.set('properties', MAP_PROPERTIES.join(','));
      performance.mark('incidentmap:fetch');
      view.loaded = await fetchFeatures(itemsPath('incidents', params), { signal: abort.signal, cap: MAX_FEATURES });
      if (abort.signal.aborted) return;
      performance.mark('incidentmap:fetched');
    }
    errorEl.hidden = true;
    view.loadedFor = mine;
    showFeatures();
    timeline.setData(view.loaded.features, f);
    renderLoaded();
  } catch (err) {
    if (isAbort(err)) return;
    showError('Cannot load the incidents', err);
    if (view.generation === mine) setState('error');
  }
  finishLoad();
}

/**
 * finishLoad ends a load that was not aborted: it was the latest. Events
 * that came meanwhile may be newer than what it read; applying them again
 * is harmless.
 */
function finishLoad() {
  view.loading = false;
  const waiting = view.liveQueue;
  view.liveQueue = [];
  for (const [type, feature] of waiting) applyLive(type, feature);
}

/**
 * chooseMode decides whether the view is shown as tiles: { tiles,
 * matched }, matched being the count in view (null: more than the server
 * counts, or not asked). A view inside one that was loaded with the same
 * filters holds no more incidents, so it is loaded without asking.
 */
async function chooseMode(f, bbox, signal) {
  const last = view.lastChoice;
  if (last && !last.tiles && sameFilters(last.filters, f) && bboxWithin(bbox, last.bbox)) {
    return { tiles: false, matched: null };
  }
  const params = incidentParams(f);
  setBBox(params, bbox);
  performance.mark('incidentmap:count');
  const matched = await countIncidents(params, { signal });
  // Leaving tile mode takes a count well below the threshold, so a view
  // that holds about the threshold does not flip modes on every pan.
  const limit = view.mode === 'tiles' ? Math.floor(tileThreshold * TILE_HYSTERESIS) : tileThreshold;
  const tiles = matched === null || matched > limit;
  view.lastChoice = { filters: f, bbox, tiles };
  return { tiles, matched };
}

/** showTiles switches to (or updates) tile mode for filters f. */
function showTiles(f, collections) {
  const extent = collections.find((c) => c.id === 'incidents')?.extent?.temporal?.interval?.[0];
  timeline.setData([], f, { extent: Array.isArray(extent) ? extent : [null, null] });
  // The window first: a link's window is only applied once the timeline has a domain.
  tiles.setParams(incidentParams(f, timeline.window()));
  if (view.mode !== 'tiles') {
    view.mode = 'tiles';
    mapEl.dataset.mode = view.mode;
    incidentLayer.removeLayer(incidents.clusters);
    incidents.render([], -180); // frees the markers
    incidentLayer.addLayer(tiles);
  }
  renderTiles();
}

/** loadHistogram gives the timeline the server's per-day counts of the view (tile mode). */
async function loadHistogram(f, bbox, signal, mine) {
  const params = incidentParams(f);
  setBBox(params, bbox);
  try {
    const h = await fetchHistogram(params, { signal });
    if (view.generation === mine && view.mode === 'tiles') timeline.setHistogram(h);
  } catch (err) {
    if (!isAbort(err)) console.warn('incidentmap: cannot read the histogram of the view', err);
  }
}

/** showFeatures switches back to the loaded incidents (clusters and markers). */
function showFeatures() {
  if (view.mode === 'features') return;
  view.mode = 'features';
  mapEl.dataset.mode = view.mode;
  incidentLayer.removeLayer(tiles);
  incidentLayer.addLayer(incidents.clusters);
}

/** render shows what the timeline window selects, in either mode. */
function render() {
  if (view.mode === 'tiles') {
    tiles.setParams(incidentParams(filters.get(), timeline.window()));
    renderTiles();
  } else {
    renderLoaded();
  }
}

/** renderTiles updates the count for the tiles, and says they are drawn once they are. */
function renderTiles() {
  const mine = view.generation;
  countEl.textContent = tileCountText();
  const done = () => {
    if (view.generation !== mine || view.mode !== 'tiles') return;
    countEl.textContent = tileCountText();
    incidents.heat.setLatLngs(tiles.heatPoints());
    markRendered(tiles.stats(viewBBox(map)).count);
  };
  if (map.hasLayer(tiles) && tiles.isBusy()) tiles.once('idle', done);
  else done();
}

/**
 * tileCountText says how many incidents the tiles show: the server's
 * count while it applies (no timeline window), else the sum of what the
 * tiles in view hold (about: clusters are placed at their centre).
 */
function tileCountText() {
  const win = timeline.window();
  const range = win ? `, ${formatDayNumber(isoToDay(win.from))} – ${formatDayNumber(isoToDay(win.to))},` : '';
  const stats = map.hasLayer(tiles) ? tiles.stats(viewBBox(map)) : { complete: false, clusters: true };
  const as = stats.clusters ? 'as density tiles' : 'as tiles';
  let n;
  if (!win && Number.isFinite(view.loaded.matched)) {
    n = view.loaded.matched;
  } else if (stats.complete) {
    n = stats.count;
  } else {
    const many = !win && view.loaded.matched === null ? `more than ${formatCount(COUNT_LIMIT)}` : 'the';
    return `Showing ${many} incidents in view${range} ${as} — zoom in for details`;
  }
  const about = n === view.loaded.matched || !stats.clusters ? '' : 'about ';
  return `Showing ${about}${formatCount(n)} ${plural(n, 'incident', 'incidents')} in view${range} ${as} — zoom in for details`;
}

/** refreshCountSoon asks the count in view again after live events (tile mode, no window). */
const refreshCountSoon = debounce(async () => {
  if (view.mode !== 'tiles' || timeline.window() || view.loading) return;
  const mine = view.generation;
  const params = incidentParams(filters.get());
  setBBox(params, viewBBox(map));
  try {
    const matched = await countIncidents(params, { fresh: true });
    if (view.generation !== mine || view.mode !== 'tiles') return;
    view.loaded.matched = matched;
    countEl.textContent = tileCountText();
  } catch (err) {
    console.warn('incidentmap: cannot count the incidents in view', err);
  }
}, LIVE_COUNT_MS);

/** liveEvent takes an incident event from the stream. */
function liveEvent(type, feature) {
  if (view.loading) view.liveQueue.push([type, feature]);
  else applyLive(type, feature);
}

/**
 * applyLive shows, changes or removes one incident as an event describes
 * it: it stays or appears when it passes the filters and lies in view, and
 * leaves otherwise (retracted, moved away, changed type...).
 */
async function applyLive(type, feature) {
  if (view.mode === 'tiles') return applyLiveTiles(type, feature);
  const f = filters.get();
  const mine = view.generation;
  let keep = !selectsNothing(f) && inView(feature) ? matchesFilters(feature, f) : false;
  if (keep === null) {
    // Full-text search or border distance: ask the server about this incident.
    keep = await serverMatches(feature, f);
    if (view.generation !== mine) {
      liveEvent(type, feature); // the view changed meanwhile: judge it again against the new one
      return;
    }
  }
  const id = String(feature.id);
  const index = view.loaded.features.findIndex((x) => String(x.id) === id);
  if (keep && index >= 0) {
    view.loaded.features[index] = feature;
  } else if (keep) {
    view.loaded.features.push(feature);
    if (Number.isFinite(view.loaded.matched)) view.loaded.matched++;
    if (timeline.filter([feature]).length) {
      view.newInView.add(id);
      liveNotice.count(view.newInView.size);
    }
  } else if (index >= 0) {
    view.loaded.features.splice(index, 1);
    if (Number.isFinite(view.loaded.matched)) view.loaded.matched = Math.max(0, view.loaded.matched - 1);
    if (view.newInView.delete(id)) liveNotice.count(view.newInView.size);
  } else {
    // Neither shown before nor now. A reload that read the change before
    // this event was applied has already dropped it, but its popup may
    // still be open, showing it as it was.
    showLiveInPopup(id, feature);
    return;
  }
  mapEl.dataset.liveApplied = String(Number(mapEl.dataset.liveApplied || 0) + 1);
  timeline.setData(view.loaded.features, f);
  renderLoaded();
  showLiveInPopup(id, feature);
}

/** showLiveInPopup shows an incident's open popup as it is now (a retraction included). */
function showLiveInPopup(id, feature) {
  if (view.selected === id && view.popup) {
    view.popupFeature = feature;
    view.popup.setContent(decorate(incidentContent(feature), feature));
  }
}

/**
 * applyLiveTiles takes an incident event in tile mode: the tiles it touches
 * are redrawn and the count asked again (both a little later, so that a
 * burst of events costs one redraw); a new incident that passes the
 * filters in view is announced.
 */
async function applyLiveTiles(type, feature) {
  const id = String(feature.id);
  const [lon, lat] = Array.isArray(feature?.geometry?.coordinates) ? feature.geometry.coordinates : [];
  tiles.touch(lon, lat, id);
  refreshCountSoon();
  mapEl.dataset.liveApplied = String(Number(mapEl.dataset.liveApplied || 0) + 1);
  showLiveInPopup(id, feature);
  const f = filters.get();
  if (type !== 'incident.created' || selectsNothing(f) || !inView(feature) || !timeline.filter([feature]).length) return;
  const mine = view.generation;
  let keep = matchesFilters(feature, f);
  if (keep === null) keep = await serverMatches(feature, f);
  if (keep && view.generation === mine) {
    view.newInView.add(id);
    liveNotice.count(view.newInView.size);
  }
}

function inView(feature) {
  const c = feature?.geometry?.coordinates;
  return Array.isArray(c) && bboxContains(viewBBox(map), c[0], c[1]);
}

/** serverMatches asks the API whether an incident passes filters only it can apply. */
async function serverMatches(feature, f) {
  const [lon, lat] = feature.geometry.coordinates;
  const params = incidentParams(f);
  const d = 1e-5; // about a metre: the incident's own point
  const box = [Math.max(lon - d, -180), Math.max(lat - d, -90), Math.min(lon + d, 180), Math.min(lat + d, 90)];
  setBBox(params, box, 6);
  params.set('limit', '100');
  params.set('properties', MATCH_PROPERTIES.join(','));
  try {
    const { features } = await fetchFeatures(itemsPath('incidents', params), { cap: 100 });
    return features.some((x) => String(x.id) === String(feature.id));
  } catch (err) {
    console.warn('incidentmap: cannot check a live incident against the filters', err);
    return false;
  }
}

/** renderLoaded shows the loaded incidents that fall in the timeline window. */
function renderLoaded() {
  const shown = timeline.filter(view.loaded.features);
  const b = map.getBounds();
  // Points go on the copy of the world in view (the map can be panned past ±180°).
  incidents.render(shown, b.getEast() - b.getWest() >= 360 ? -180 : b.getWest(), view.newInView);
  countEl.textContent = countText(shown.length);
  markRendered(shown.length);
}

/**
 * markRendered says that n incidents are shown. It lets the browser paint
 * them first, and says nothing if they are stale: the map moved or the
 * filters changed since they loaded.
 */
function markRendered(n) {
  requestAnimationFrame(() => {
    if (view.generation !== view.loadedFor) return;
    performance.mark('incidentmap:rendered');
    mapEl.dataset.rendered = String(n);
    mapEl.dataset.renders = String(++view.renders);
    setState('ready');
  });
}

function countText(shown) {
  const total = view.loaded.matched ?? view.loaded.features.length;
  const noun = (n) => plural(n, 'incident', 'incidents');
  const win = timeline.window();
  if (win) {
    const range = `${formatDayNumber(isoToDay(win.from))} – ${formatDayNumber(isoToDay(win.to))}`;
    return `${formatCount(shown)} ${noun(shown)} in view, ${range}${view.loaded.capped ? ' (of those loaded)' : ''}`;
  }
  if (view.loaded.capped) {
    const of = view.loaded.matched === null ? 'more than 100,000' : formatCount(view.loaded.matched);
    return `showing ${formatCount(shown)} of ${of} incidents in view`;
  }
  return `${formatCount(total)} ${noun(total)} in view`;
}

/**
 * select opens an incident's popup: at once with what the marker knows,
 * then with the whole incident once it has been fetched.
 */
function select(feature, { pan = true, focus = false } = {}) {
  const [lng, lat] = feature.geometry.coordinates;
  const west = map.getBounds().getWest();
  view.selected = String(feature.id);
  const content = decorate(incidentContent(feature), feature);
  const room = mapEl.clientWidth - 60; // a popup wider than the map cannot be read
  const p = L.popup({
    maxWidth: Math.min(360, room),
    minWidth: Math.min(220, room),
    // Claims, sources and the moderators' tools can make a popup taller than
    // the map: its content scrolls instead, so every part stays reachable.
    maxHeight: Math.max(160, mapEl.clientHeight - topOverlaysBottom() - 56),
    autoPan: pan,
    // Clear of the controls and notices along the top (on a phone they span it).
    autoPanPaddingTopLeft: L.point(8, topOverlaysBottom() + 8),
    className: 'incident-popup',
  })
    .setLatLng([lat, map.getBounds().getEast() - west >= 360 ? lng : lngNear(lng, west)])
    .setContent(content);
  view.popup = p;
  view.popupFeature = feature;
  p.openOn(map);
  // Leaflet handles Escape only while the map itself has focus, not a popup.
  p.getElement().addEventListener('keydown', (e) => {
    if (e.key === 'Escape') map.closePopup(p);
  });
  if (focus) {
    // Keyboard users land in the popup they opened, and go back when it closes.
    view.returnFocus = document.activeElement;
    focusTitle(content);
  }
  writeHash();
  if (!('sources' in feature.properties)) completePopup(p, feature.id);
}

/**
 * topOverlaysBottom is how far down from the map's top edge its top
 * controls (zoom, place search) and notices reach, in pixels.
 */
function topOverlaysBottom() {
  const top = mapEl.getBoundingClientRect().top;
  let bottom = 0;
  for (const e of mapEl.querySelectorAll('.leaflet-top .leaflet-control, .map-notice, .live-box > :not(:empty)')) {
    const r = e.getBoundingClientRect();
    if (r.height && r.top - top < mapEl.clientHeight / 2) bottom = Math.max(bottom, r.bottom - top);
  }
  return bottom;
}

/** completePopup replaces a popup's partial incident with the whole one. */
async function completePopup(p, id) {
  try {
    const full = await fetchIncident(id);
    if (view.popup !== p) return; // closed or replaced meanwhile
    const hadFocus = p.getElement()?.contains(document.activeElement);
    const content = decorate(incidentContent(full), full);
    view.popupFeature = full;
    p.setContent(content);
    if (hadFocus) focusTitle(content);
  } catch (err) {
    if (view.popup === p) showError(`Cannot load incident ${id}`, err);
  }
}

/** decorate adds the popup's actions, and what a signed-in moderator may do, to an incident's popup. */
function decorate(content, feature) {
  content.append(
    popupActions({
      onZoom: () => {
        const [lng, lat] = feature.geometry.coordinates;
        const west = map.getBounds().getWest();
        // The point goes below the centre, so that its popup (above it) fits
        // under the top controls.
        const zoom = Math.max(map.getZoom(), zoomFor(feature.properties));
        const ll = L.latLng(lat, map.getBounds().getEast() - west >= 360 ? lng : lngNear(lng, west));
        const lift = Math.min(((view.popup?.getElement()?.offsetHeight || 0) + topOverlaysBottom()) / 2, map.getSize().y / 2 - 80);
        map.setView(map.unproject(map.project(ll, zoom).subtract([0, lift]), zoom), zoom);
      },
      link: () => incidentLink(feature.id),
    }),
  );
  return moderation.decoratePopup(content, feature);
}

/** incidentLink is the permalink of the view with incident id selected. */
function incidentLink(id) {
  const c = map.getCenter();
  const hash = encodeHash({
    view: { lat: c.lat, lng: c.lng, zoom: map.getZoom() },
    filters: filters.get(),
    window: timeline.window(),
    selected: String(id),
    layers: view.layers.active(),
    defaultLayers: DEFAULT_LAYERS,
  });
  return location.href.replace(/#.*$/, '') + hash;
}

/** refreshPopup redraws the open popup (after signing in or out). */
function refreshPopup() {
  if (view.popup && view.popupFeature) view.popup.setContent(decorate(incidentContent(view.popupFeature), view.popupFeature));
}

function focusTitle(content) {
  const title = content.querySelector('h2');
  title.tabIndex = -1;
  title.focus({ preventScroll: true });
}

/** openIncident opens the popup of an incident by id (from a link). */
async function openIncident(id, { focus = false, pan = null } = {}) {
  view.selected = id;
  try {
    const feature = await fetchIncident(id);
    // Keep the linked view as it is, unless the incident is out of it.
    const [lng, lat] = feature.geometry.coordinates;
    const inView = map.getBounds().contains([lat, lngNear(lng, map.getBounds().getWest())]);
    if (view.selected === id) select(feature, { pan: pan ?? !inView, focus });
  } catch (err) {
    if (view.selected === id) view.selected = null;
    showError(`Cannot open incident ${id}`, err);
    writeHash();
  }
}

/** apiLink is the GeoJSON URL of the incidents in view, as filtered now. */
function apiLink() {
  const params = incidentParams(filters.get(), timeline.window());
  setBBox(params, viewBBox(map));
  params.set('limit', String(PAGE_LIMIT));
  return absolute(itemsPath('incidents', params));
}

function writeHash() {
  if (!view.started) return;
  const c = map.getCenter();
  const hash = encodeHash({
    view: { lat: c.lat, lng: c.lng, zoom: map.getZoom() },
    filters: filters.get(),
    window: timeline.window(),
    selected: view.selected,
    layers: view.layers.active(),
    defaultLayers: DEFAULT_LAYERS,
    moderate: moderation?.isOpen(),
  });
  if (hash !== location.hash) history.replaceState(null, '', hash);
}

/** thresholdFromURL reads ?tile-threshold=N, or gives TILE_THRESHOLD. */
function thresholdFromURL() {
  const v = new URLSearchParams(location.search).get('tile-threshold');
  return v !== null && /^[0-9]{1,7}$/.test(v) ? Number(v) : TILE_THRESHOLD;
}

function extentView(collection) {
  const bbox = collection?.extent?.spatial?.bbox?.[0];
  if (!Array.isArray(bbox) || bbox.length < 4 || !bbox.every(Number.isFinite)) return WORLD_VIEW;
  const [w, s, e, n] = bbox;
  return { bounds: [[s, w], [n, e < w ? e + 360 : e]] };
}

function setLoading() {
  view.generation++;
  setState('loading');
}

/** setState exposes the loading state on the map element (for styling and tests). */
function setState(state) {
  mapEl.dataset.incidents = state;
  mapEl.setAttribute('aria-busy', String(state === 'loading'));
  countEl.classList.toggle('is-loading', state === 'loading');
}

function showError(what, err) {
  console.error(`incidentmap: ${what}`, err);
  errorEl.textContent = `${what}: ${err?.message || err}`;
  errorEl.hidden = false;
}

function setUpPanelToggle() {
  const button = byId('panel-toggle');
  const panel = byId('panel');
  // Open by default where there is room next to the map.
  const wide = window.matchMedia('(min-width: 48rem)').matches;
  const setOpen = (open) => {
    button.setAttribute('aria-expanded', String(open));
    panel.hidden = !open;
    map.invalidateSize();
  };
  setOpen(wide);
  button.addEventListener('click', () => {
    setOpen(panel.hidden);
    if (!panel.hidden && !window.matchMedia('(min-width: 48rem)').matches) {
      reportSheet.close();
      moderation.close();
    }
  });
  return {
    /**
     * closeIfCramped closes the panel when a sheet opens beside it and the
     * map between them would be too narrow to use (on phones, always).
     */
    closeIfCramped() {
      if (panel.hidden) return;
      if (!window.matchMedia('(min-width: 48rem)').matches || mapEl.clientWidth < MIN_MAP_WIDTH) setOpen(false);
    },
  };
}
