// One report under review: what was reported (with the reporter's private
// contact and the photos), the report drawn on the main map with where its
// photos say they were taken, the actions verify and reject, and the nearby
// reports and incidents it may be merged with (candidates.js).

import L from 'leaflet';
import { el, safeHref } from '../dom.js';
import { formatLonLat } from '../fields.js';
import { formatDateTime } from '../format.js';
import { pinIcon } from '../pin.js';
import { overlaysMap, showPoint } from '../sheet.js';
import { GEO_PRECISIONS } from '../taxonomy.js';
import { photoGallery, photoHint, photoPoints } from './photos.js';
import { rejectForm } from './reject.js';
import { isSignedOut } from './session.js';
import { verifyForm } from './verify.js';

const REVIEW_ZOOM = 12;

/**
 * createReview returns { show(summary), leave(), extend(fn) }. extend(fn)
 * adds a section to every review: fn(report, ctx) returns a node or null,
 * placed after the photos.
 */
export function createReview(ctx) {
  let current = null; // the report under review
  let blobs = [];
  const sections = [];
  const layers = L.layerGroup();

  /** show opens a report from the queue; the list lacks its photos, so it is read whole first. */
  async function show(summary) {
    const { main } = ctx;
    leave();
    ctx.setView('review');
    current = summary;
    const back = el('button', { type: 'button', class: 'link-button' }, '← Back to the queue');
    back.addEventListener('click', () => ctx.queue.show());
    const info = el('p', { class: 'hint', role: 'status' }, `Loading report #${summary.id}…`);
    main.replaceChildren(back, info);
    try {
      const report = await ctx.session.call(`/api/reports/${encodeURIComponent(summary.id)}`);
      if (current !== summary) return; // left meanwhile
      render(report);
    } catch (err) {
      if (!isSignedOut(err) && current === summary) info.textContent = `Cannot load report #${summary.id}: ${err.message}`;
    }
  }

  function render(report) {
    const { map, sheetEl, main } = ctx;
    current = report;
    const id = report.id;
    const p = report.properties || {};
    const [lon, lat] = report.geometry.coordinates;

    const back = el('button', { type: 'button', class: 'link-button' }, '← Back to the queue');
    back.addEventListener('click', () => ctx.queue.show());
    const title = el('h3', { id: 'm-review-heading', tabindex: '-1' }, `Report #${id}`);

    const showButton = el('button', { type: 'button', class: 'button secondary' }, 'Show on the map');
    showButton.addEventListener('click', () => showOnMap());

    const verify = verifyForm(ctx, report, showOnMap);
    const reject = rejectForm(ctx, id);
    const owner = { stillShowing: () => current === report, keep: (url) => blobs.push(url) };
    main.replaceChildren(
      back,
      title,
      el('dl', { class: 'props report-props' }, details(p, lon, lat)),
      el('p', { class: 'report-description' }, p.description || ''),
      // DOM replaceChildren writes null as the text "null": skip what is absent.
      ...[photoHint(p.photo_hint, [lon, lat]), photoGallery(ctx, p.photos || [], id, owner), ...sections.map((fn) => fn(report, ctx))].filter(
        Boolean,
      ),
      el('div', { class: 'actions' }, showButton),
      verify.element,
      reject,
    );
    title.focus();
    showOnMap();

    function showOnMap() {
      layers.clearLayers();
      const claim = L.marker(verify.moved || [lat, lon], {
        draggable: true,
        icon: pinIcon('review-pin'),
        title: `Report #${id}: drag to move the point`,
        zIndexOffset: 1000,
      });
      claim.on('drag', () => verify.moveTo(claim.getLatLng(), false));
      claim.on('dragend', () => verify.moveTo(claim.getLatLng(), true));
      claim.addTo(layers);
      const points = [claim.getLatLng()];
      for (const [n, at] of photoPoints(p)) {
        const ll = L.latLng(at[1], at[0]);
        points.push(ll);
        L.polyline([claim.getLatLng(), ll], { color: '#7a2f00', weight: 2, dashArray: '4 6', interactive: false }).addTo(layers);
        L.circleMarker(ll, { radius: 7, weight: 2, color: '#7a2f00', fillColor: '#ff9f43', fillOpacity: 0.9 })
          .bindTooltip(el('span', {}, `Photo ${n} was taken here`))
          .addTo(layers);
      }
      layers.addTo(map);
      verify.claim = claim;
      if (points.length === 1) {
        showPoint(map, sheetEl, points[0], Math.max(map.getZoom(), REVIEW_ZOOM));
      } else {
        const covered = overlaysMap(sheetEl) ? sheetEl.getBoundingClientRect().height : 0;
        map.fitBounds(L.latLngBounds(points), { paddingTopLeft: [40, 40], paddingBottomRight: [40, 40 + covered], maxZoom: 14, animate: false });
      }
    }
  }

  /** leave forgets the report under review, its drawing on the map and its photos' blob: URLs. */
  function leave() {
    current = null;
    layers.clearLayers();
    layers.remove();
    for (const url of blobs) URL.revokeObjectURL(url);
    blobs = [];
  }

  return {
    show,
    leave,
    extend(fn) {
      sections.push(fn);
    },
    /** layers is the map layer the review draws into (cleared when the report is left). */
    layers,
  };
}

/** details lists what was reported as <dt>/<dd> pairs. */
function details(p, lon, lat) {
  const rows = [];
  const row = (label, ...value) => rows.push(el('dt', {}, label), el('dd', {}, ...value));
  row('Type', [p.event_type, p.sub_event_type].filter(Boolean).join(' — '));
  row('When', formatDateTime(p.occurred_at));
  const precision = GEO_PRECISIONS.find((g) => g.value === p.geo_precision);
  row(
    'Where',
    el('span', { class: 'line' }, p.location_name || 'no place name given'),
    el('span', { class: 'line' }, formatLonLat(lon, lat)),
    precision && el('span', { class: 'line' }, precision.label),
  );
  row('Deaths', Number.isFinite(p.fatalities) ? String(p.fatalities) : 'not given');
  const links = (p.source_urls || []).map((u) => {
    const href = safeHref(u);
    return el('li', {}, href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, u) : u);
  });
  row('Sources', links.length ? el('ul', { class: 'sources' }, links) : 'none');
  row(
    'Contact',
    el('span', { class: 'private-badge' }, 'Private'),
    ' ',
    el('span', { class: 'report-contact' }, p.contact || 'none given'),
  );
  row('Received', formatDateTime(p.created_at));
  return rows;
}
