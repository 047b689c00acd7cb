// The actions at the foot of an incident's popup: zoom to the incident
// (as close as its point is precise) and copy a link that opens the map on
// it. The link is also shown, selected, for browsers that refuse the
// clipboard (an insecure context, a denied permission).

import { el } from './dom.js';

/** ZOOM_FOR_PRECISION: how close "Zoom to" goes, by geo_precision (1 a point, 2 near a place, 3 an area). */
const ZOOM_FOR_PRECISION = { 1: 15, 2: 13, 3: 10 };

/** zoomFor is the zoom "Zoom to" goes to for an incident's properties. */
export function zoomFor(p) {
  return ZOOM_FOR_PRECISION[Number(p?.geo_precision)] || ZOOM_FOR_PRECISION[1];
}

/**
 * popupActions makes the actions row. onZoom() moves the map; link() gives
 * the permalink of the incident.
 */
export function popupActions({ onZoom, link }) {
  const zoom = el('button', { type: 'button', class: 'link-button popup-zoom' }, 'Zoom to');
  const copy = el('button', { type: 'button', class: 'link-button popup-copy' }, 'Copy link');
  const status = el('span', { class: 'popup-copied', role: 'status' });
  const row = el('p', { class: 'popup-actions' }, zoom, ' · ', copy, ' ', status);
  zoom.addEventListener('click', onZoom);
  copy.addEventListener('click', async () => {
    const url = link();
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = 'Link copied.';
    } catch {
      status.textContent = 'Copy this link:';
    }
    let field = row.querySelector('input');
    if (!field) {
      field = el('input', { type: 'url', readonly: true, class: 'popup-link', 'aria-label': 'Link to this incident' });
      row.append(field);
    }
    field.value = url;
    field.select();
  });
  return row;
}
