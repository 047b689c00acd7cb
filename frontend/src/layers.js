// The layers panel: incidents as clusters and as a heatmap, and every other
// collection the server lists (countries, borders, places, lines of
// contact...) as an overlay read as GeoJSON for the area in view.

import L from 'leaflet';
import { fetchFeatures, isAbort, itemsPath, PAGE_LIMIT } from './api.js';
import { byId, debounce, el } from './dom.js';
import { viewBBox } from './geo.js';
import { propertiesContent } from './popup.js';

/** Overlays on when the URL says nothing. */
export const DEFAULT_LAYERS = ['incidents'];

/**
 * createLayerPanel fills the #layers fieldset. builtIn maps overlay ids to
 * { title, layer }; collections are the non-incident collections from
 * /api/collections. onChange() is called after the user toggles one.
 * Returns { active(), set(ids) }.
 */
export function createLayerPanel(map, builtIn, collections, onChange) {
  const fieldset = byId('layers');
  const overlays = new Map(Object.entries(builtIn));
  for (const c of collections) {
    overlays.set(c.id, { title: c.title || c.id, layer: new CollectionOverlay(c) });
  }

  const boxes = new Map();
  for (const [id, { title }] of overlays) {
    const input = el('input', { type: 'checkbox', id: `layer-${id}`, value: id });
    input.addEventListener('change', () => {
      toggle(id, input.checked);
      onChange();
    });
    boxes.set(id, input);
    fieldset.append(el('div', { class: 'check' }, input, el('label', { for: input.id }, title)));
  }

  function toggle(id, on) {
    const { layer } = overlays.get(id);
    if (on) map.addLayer(layer);
    else map.removeLayer(layer);
  }

  function set(ids) {
    for (const [id, input] of boxes) {
      input.checked = ids.includes(id);
      toggle(id, input.checked);
    }
  }

  return {
    active: () => [...boxes].filter(([, input]) => input.checked).map(([id]) => id),
    set,
  };
}

/**
 * A CollectionOverlay shows a collection's features in view, reloading
 * after each move while it is on the map. Features come as GeoJSON and are
 * drawn on a canvas; their popups list their properties as text.
 */
const CollectionOverlay = L.FeatureGroup.extend({
  initialize(collection) {
    L.FeatureGroup.prototype.initialize.call(this);
    this._collection = collection;
    this._reloadSoon = debounce(() => this._reload(), 250);
  },

  onAdd(map) {
    L.FeatureGroup.prototype.onAdd.call(this, map);
    this._renderer = this._renderer || L.canvas({ padding: 0.2 });
    map.on('moveend', this._reloadSoon, this);
    this._reload();
  },

  onRemove(map) {
    map.off('moveend', this._reloadSoon, this);
    this._reloadSoon.cancel();
    this._abort?.abort();
    this.clearLayers();
    L.FeatureGroup.prototype.onRemove.call(this, map);
  },

  async _reload() {
    if (!this._map) return;
    this._abort?.abort();
    const abort = (this._abort = new AbortController());
    const params = new URLSearchParams({ bbox: viewBBox(this._map).join(','), limit: String(PAGE_LIMIT) });
    const { id, title } = this._collection;
    try {
      // One page: an overlay is context, and 10,000 features are plenty of it.
      const { features } = await fetchFeatures(itemsPath(id, params), { signal: abort.signal, cap: PAGE_LIMIT });
      if (abort.signal.aborted || !this._map) return;
      this.clearLayers();
      this.addLayer(
        L.geoJSON(features, {
          style: { color: '#2b5f8a', weight: 1.5, fillOpacity: 0.08 },
          pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 5, weight: 1, color: '#1d3f5c', fillColor: '#5b9bd5', fillOpacity: 0.9 }),
          renderer: this._renderer,
          onEachFeature: (f, layer) => {
            layer.bindPopup(() => propertiesContent(title || id, f));
            // Named features (places, countries) say their name on hover; a node, not HTML.
            const name = f.properties?.name;
            if (typeof name === 'string' && name) {
              layer.bindTooltip(el('span', {}, name), { direction: 'top', sticky: true, className: 'incident-tooltip' });
            }
          },
        }),
      );
    } catch (err) {
      if (!isAbort(err)) console.warn(`incidentmap: cannot load the ${id} layer`, err);
    }
  },
});
