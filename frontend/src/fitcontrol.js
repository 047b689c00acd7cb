// "Fit to data": frames the incidents the filters and the timeline window
// select, outliers left out (/api/collections/incidents/core: a lone far
// incident does not shrink the rest to a corner). The first view of a map
// opened without a view in its link uses the same box.

import L from 'leaflet';
import { getJSON } from './api.js';
import { el } from './dom.js';

/** The closest a fitted view zooms (a single incident is not framed at street level). */
export const FIT_MAX_ZOOM = 10;

/** coreBounds asks the core box of the incidents params select: Leaflet bounds, or null when none match. */
export async function coreBounds(params, { signal } = {}) {
  const { bbox } = await getJSON(`/api/collections/incidents/core?${params}`, { signal });
  if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(Number.isFinite)) return null;
  const [w, s, e, n] = bbox;
  // A box with no extent (one incident) still needs some room round it.
  const pad = 0.05;
  return L.latLngBounds([s - pad, w - pad], [n + pad, e + pad]);
}

/** fitOptions: padding that keeps the framed incidents clear of the controls. */
export function fitOptions() {
  return { padding: [30, 30], maxZoom: FIT_MAX_ZOOM };
}

/**
 * FitControl is the "fit to data" button, under the zoom buttons.
 * options.params() gives the items parameters of what is selected now.
 */
export const FitControl = L.Control.extend({
  options: { position: 'topleft', params: null },
  onAdd(map) {
    const button = el(
      'button',
      { type: 'button', id: 'fit-data', class: 'fit-data', title: 'Fit to data', 'aria-label': 'Fit the map to the incidents shown' },
      el('span', { 'aria-hidden': 'true' }, '⤢'),
    );
    const status = el('span', { class: 'visually-hidden', role: 'status' });
    const box = el('div', { class: 'leaflet-control leaflet-bar fit-control' }, button, status);
    L.DomEvent.disableClickPropagation(box);
    button.addEventListener('click', async () => {
      status.textContent = '';
      try {
        const bounds = await coreBounds(this.options.params());
        if (bounds) map.fitBounds(bounds, fitOptions());
        else status.textContent = 'No incident matches the filters.';
      } catch (err) {
        console.warn('incidentmap: cannot fit the map to the incidents', err);
        status.textContent = 'Cannot fit the map to the incidents now.';
      }
    });
    return box;
  },
});
