// The incident layers: clustered markers (one divIcon per event type and
// status, drawn by CSS, so 10,000 markers cost no images and little DOM:
// markercluster only puts the unclustered markers in view on the page) and
// an optional heatmap of the same features.

import L from 'leaflet';
import 'leaflet.markercluster';
import 'leaflet.heat';
import { el } from './dom.js';
import { formatCount, formatIncidentTime } from './format.js';
import { lngNear } from './geo.js';
import { precisionLabel, precisionRadius } from './precision.js';
import { typeClass } from './taxonomy.js';

// A DivIcon whose element carries an accessible name: Leaflet makes
// keyboard-focusable markers role=button, and a button needs a name.
const LabelledIcon = L.DivIcon.extend({
  createIcon(oldIcon) {
    const div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
    if (this.options.label) div.setAttribute('aria-label', this.options.label);
    return div;
  },
});

// leaflet.heat 0.2.0 reads this._map._animating in redraw(), and its
// pending animation frame reads this._map, both after the layer has left the
// map (this._map is then null): new data for a hidden heatmap threw, and
// every later load failed. Hidden, it only keeps the points; onAdd draws them.
//
// Its intensity is normalised to the view: the points in view are summed
// per cell of half the heat radius (a point's weight is its third value,
// a tile cluster's count, or 1), and the heaviest cell in view is full
// intensity. leaflet.heat's own scale (a fixed max of 1) made every cell
// with a point or two as hot as the busiest one: a saturated blanket.
const HeatLayer = L.HeatLayer.extend({
  redraw() {
    return this._map ? L.HeatLayer.prototype.redraw.call(this) : this;
  },
  onRemove(map) {
    if (this._frame) L.Util.cancelAnimFrame(this._frame);
    this._frame = null;
    L.HeatLayer.prototype.onRemove.call(this, map);
  },
  _redraw() {
    this._frame = null;
    const map = this._map;
    if (!map) return;
    const size = map.getSize();
    const r = this._heat._r;
    const cell = Math.max(1, r / 2);
    const cells = new Map();
    for (const ll of this._latlngs) {
      const lat = ll.lat ?? ll[0];
      const lng = ll.lng ?? ll[1];
      const w = Number(ll.alt ?? ll[2] ?? 1) || 0;
      const p = map.latLngToContainerPoint([lat, lng]);
      if (p.x < -r || p.y < -r || p.x > size.x + r || p.y > size.y + r || w <= 0) continue;
      const key = `${Math.floor(p.x / cell)},${Math.floor(p.y / cell)}`;
      const c = cells.get(key);
      if (c) {
        c[0] += p.x * w;
        c[1] += p.y * w;
        c[2] += w;
      } else {
        cells.set(key, [p.x * w, p.y * w, w]);
      }
    }
    let max = 0;
    const data = [];
    for (const [sx, sy, w] of cells.values()) {
      data.push([Math.round(sx / w), Math.round(sy / w), w]);
      max = Math.max(max, w);
    }
    map.getContainer().dataset.heatMax = String(max); // what full intensity stands for now (tests read it)
    this._heat.max(max || 1).data(data).draw(this.options.minOpacity);
  },
});

// A marker whose text is its accessible name (aria-label) rather than a
// title attribute: the browser's own tooltip would repeat the map's.
const NamedMarker = L.Marker.extend({
  _initIcon() {
    L.Marker.prototype._initIcon.call(this);
    if (this.options.title && this._icon) {
      this._icon.setAttribute('aria-label', this.options.title);
      this._icon.removeAttribute('title');
    }
  },
});

/**
 * createIncidentLayers makes the cluster and heat layers. onSelect(feature)
 * is called when a marker is clicked or pressed with Enter or Space.
 * render(features, west) replaces what is shown; west is the western edge
 * of the view, used to place each point on the copy of the world in view.
 */
export function createIncidentLayers({ onSelect }) {
  const clusters = L.markerClusterGroup({
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    maxClusterRadius: 50,
    // Synchronous on purpose: markercluster's chunked loading cannot be
    // cancelled, so a quick second load would mix in the first one's markers.
    chunkedLoading: false,
    iconCreateFunction: clusterIcon,
  });
  const heat = new HeatLayer([], { radius: 18, blur: 15, maxZoom: 12, minOpacity: 0.35 });
  // Points known only near a place or to a district: a translucent circle
  // of the precision's radius (precision.js) under their marker, which is
  // drawn smaller and hollow. Not interactive: the marker stays the one
  // thing to click or focus.
  const areas = L.layerGroup();
  // One listener on the group rather than two on each of 10,000 markers.
  // Clusters' own events arrive as clusterclick and clusterkeydown.
  clusters.on('click', (e) => onSelect(e.layer.feature));
  clusters.on('keydown', (e) => {
    // Markers are role=button: Enter and Space press them.
    const key = e.originalEvent.key;
    if (key !== 'Enter' && key !== ' ') return;
    L.DomEvent.preventDefault(e.originalEvent);
    onSelect(e.layer.feature);
  });

  // One tooltip for every marker, moved to the one under the pointer or
  // with focus, rather than one bound to each of 10,000 markers.
  const tooltip = L.tooltip({ direction: 'top', offset: [0, -10], className: 'incident-tooltip' });
  const showTooltip = (e) => {
    const p = e.layer.feature?.properties;
    if (!p || !clusters._map) return;
    tooltip.setLatLng(e.layer.getLatLng()).setContent(el('span', {}, p.title || 'Incident'));
    clusters._map.openTooltip(tooltip);
  };
  const hideTooltip = () => clusters._map?.closeTooltip(tooltip);
  clusters.on('mouseover', showTooltip);
  clusters.on('mouseout click', hideTooltip);
  clusters.on('clusterclick animationend', hideTooltip);

  const icons = new Map();
  function iconFor(p, fresh) {
    const approx = precisionRadius(p) > 0;
    const key = `${typeClass(p.event_type)} status-${p.status || 'verified'}${p.contested ? ' is-contested' : ''}${fresh ? ' is-new' : ''}${approx ? ' is-approx' : ''}`;
    let icon = icons.get(key);
    if (!icon) {
      const size = approx ? 14 : 18;
      icon = L.divIcon({ className: `incident-marker ${key}`, iconSize: [size, size], html: false });
      icons.set(key, icon);
    }
    return icon;
  }

  let byId = new Map(); // incident id -> its marker, as rendered last

  /** markerElement is the marker of incident id on the page, if it is not in a cluster. */
  function markerElement(id) {
    const icon = byId.get(String(id))?._icon;
    return icon?.isConnected ? icon : null;
  }

  /**
   * render shows features; west is the western edge of the view. fresh
   * holds the ids (strings) of incidents that arrived live: they are marked.
   */
  function render(features, west, fresh = null) {
    hideTooltip();
    // A marker with keyboard focus is replaced below: its successor takes the focus.
    const active = document.activeElement;
    let focusedId = null;
    if (active?.classList.contains('incident-marker')) {
      for (const [id, m] of byId) {
        if (m._icon === active) {
          focusedId = id;
          break;
        }
      }
    }
    const next = new Map();
    const circles = [];
    const markers = new Array(features.length);
    const points = new Array(features.length);
    for (let i = 0; i < features.length; i++) {
      const f = features[i];
      const [lng, lat] = f.geometry.coordinates;
      const ll = L.latLng(lat, lngNear(lng, west));
      const p = f.properties;
      const radius = precisionRadius(p);
      if (radius) {
        circles.push(
          L.circle(ll, {
            radius,
            interactive: false,
            className: `precision-area precision-${Number(p.geo_precision)} ${typeClass(p.event_type)}`,
            weight: 1,
          }),
        );
      }
      const approx = radius ? ` — ${precisionLabel(p.geo_precision)}` : '';
      const marker = new NamedMarker(ll, {
        icon: iconFor(p, fresh?.has(String(f.id))),
        title: `${p.title || 'Incident'} — ${formatIncidentTime(p.occurred_at, p.time_precision)}${approx}`,
        riseOnHover: true,
      });
      marker.feature = f;
      next.set(String(f.id), marker);
      markers[i] = marker;
      points[i] = ll;
    }
    clusters.clearLayers();
    clusters.addLayers(markers);
    areas.clearLayers();
    for (const c of circles) areas.addLayer(c);
    heat.setLatLngs(points);
    byId = next;
    if (focusedId !== null && !active.isConnected) {
      (markerElement(focusedId) || clusters._map?.getContainer())?.focus({ preventScroll: true });
    }
  }

  return { clusters, areas, heat, render, markerElement };
}

function clusterIcon(cluster) {
  const n = cluster.getChildCount();
  const [size, px] = n < 10 ? ['small', 30] : n < 100 ? ['medium', 36] : n < 1000 ? ['large', 42] : ['huge', 48];
  const count = document.createElement('span');
  count.textContent = n < 10000 ? String(n) : `${Math.round(n / 1000)}k`;
  return new LabelledIcon({
    html: count,
    className: `incident-cluster cluster-${size}`,
    iconSize: [px, px],
    label: `${formatCount(n)} incidents: zoom in`,
  });
}
