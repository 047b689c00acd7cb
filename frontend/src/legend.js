// The map legend: marker symbols by event type and status, and clusters.
// A <details> element, closed at first (the filter panel shows the same
// symbols), that opens and closes without script, and closes when the map
// is clicked or dragged.

import L from 'leaflet';
import { el } from './dom.js';
import { EVENT_TYPES, STATUSES } from './taxonomy.js';

export const LegendControl = L.Control.extend({
  options: { position: 'bottomleft' },
  onAdd(map) {
    const item = (symbolClass, text) =>
      el('li', {}, el('span', { class: symbolClass, 'aria-hidden': 'true' }), text);
    const details = el(
      'details',
      { class: 'leaflet-control legend' },
      el('summary', {}, 'Legend'),
      el('ul', {}, EVENT_TYPES.map((t) => item(`symbol ${t.cls}`, t.name))),
      el('ul', {}, STATUSES.map((s) => item(`symbol type-other status-${s.name}`, s.label))),
      el('ul', {}, item('symbol type-other is-contested', 'Contested: the parties’ claims conflict')),
      el(
        'ul',
        {},
        item('symbol-cluster', 'Group of incidents: select to zoom in'),
        item('symbol-cluster symbol-cluster-typed', 'Dense view: a group sits where its incidents are; its ring has the colour of their most frequent type'),
        item('symbol-area', 'Circle: place known only near a place (2 km) or to the district (25 km)'),
      ),
    );
    // Clicks and scrolls in the legend are not map gestures.
    L.DomEvent.disableClickPropagation(details);
    L.DomEvent.disableScrollPropagation(details);
    // It covers part of the map: using the map puts it away.
    const close = () => (details.open = false);
    map.on('click dragstart', close);
    this._close = close;
    return details;
  },
  onRemove(map) {
    map.off('click dragstart', this._close);
  },
});
