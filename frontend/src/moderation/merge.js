// The review's merge form: the report's sources go to a published incident
// nearby (within MERGE_KM and a day) instead of making a new one.

import L from 'leaflet';
import { fetchFeatures, itemsPath } from '../api.js';
import { el } from '../dom.js';
import { field } from '../form.js';
import { formatDateTime, formatDistance } from '../format.js';
import { bboxAround, distanceMetres } from '../geo.js';
import { act, clearErrors } from './act.js';
import { isSignedOut } from './session.js';

const MERGE_KM = 5;
const DAY_MS = 86400000;

/** mergeForm builds the collapsed "Merge into an existing incident" section for report; candidates are drawn into layers. */
export function mergeForm(ctx, report, layers) {
  const id = report.id;
  const p = report.properties || {};
  const [lon, lat] = report.geometry.coordinates;
  const find = el('button', { type: 'button', class: 'button secondary' }, 'Find incidents nearby');
  const found = el('p', { class: 'hint', role: 'status' });
  const choices = el('div', { class: 'merge-choices' });
  const candidates = el(
    'fieldset',
    { id: 'm-candidates', class: 'group checks', hidden: true },
    el('legend', {}, `Incidents within ${MERGE_KM} km and a day`),
    choices,
  );
  const noteField = field('m-merge-note', 'Note for the audit log (not public)', el('input', { type: 'text', maxlength: '2000' }));
  const submit = el('button', { id: 'm-merge', type: 'submit', class: 'button', disabled: true }, 'Merge into the chosen incident');
  const formError = el('p', { class: 'error', role: 'alert', hidden: true });
  const form = el(
    'form',
    { id: 'm-merge-form', class: 'sheet-form', novalidate: true },
    el('p', { class: 'hint' }, 'Adds this report’s sources to an incident already on the map instead of making a new one.'),
    el('div', { class: 'actions' }, find),
    found,
    candidates,
    noteField.wrap,
    formError,
    el('div', { class: 'actions' }, submit),
  );
  const fields = { note: noteField, merge_into: { error: formError, control: null } };
  let layer = null;
  find.addEventListener('click', async () => {
    find.disabled = true;
    found.textContent = 'Looking…';
    try {
      const near = await nearbyIncidents(lon, lat, p.occurred_at);
      layer?.remove();
      layer = L.layerGroup().addTo(layers);
      choices.replaceChildren(
        ...near.map(({ feature, distance }) => {
          const fp = feature.properties || {};
          const radio = el('input', { type: 'radio', name: 'm-merge-into', id: `m-merge-${feature.id}`, value: feature.id });
          radio.addEventListener('change', () => (submit.disabled = false));
          const [flon, flat] = feature.geometry.coordinates;
          L.circleMarker([flat, flon], { radius: 8, weight: 2, color: '#1f5482', fillColor: '#ffffff', fillOpacity: 0.9 })
            // A node, not a string: Leaflet writes string content as HTML.
            .bindTooltip(el('span', {}, `#${feature.id} ${fp.title || ''}`))
            .on('click', () => {
              radio.checked = true;
              submit.disabled = false;
            })
            .addTo(layer);
          return el(
            'div',
            { class: 'check candidate' },
            radio,
            el(
              'label',
              { for: radio.id },
              `#${feature.id} ${fp.title || 'Incident'} — ${formatDateTime(fp.occurred_at)}, ${formatDistance(distance)} away`,
            ),
          );
        }),
      );
      candidates.hidden = near.length === 0;
      found.textContent = near.length
        ? `${near.length} ${near.length === 1 ? 'incident' : 'incidents'} nearby: choose one.`
        : `No incident within ${MERGE_KM} km and a day of this report.`;
      submit.disabled = true;
    } catch (err) {
      if (!isSignedOut(err)) found.textContent = `Cannot look for incidents: ${err.message}`;
    } finally {
      find.disabled = false;
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form, formError);
    const chosen = choices.querySelector('input:checked');
    if (!chosen) {
      formError.textContent = 'Choose an incident to merge into.';
      formError.hidden = false;
      return;
    }
    const body = { merge_into: Number(chosen.value) };
    if (noteField.control.value.trim()) body.note = noteField.control.value.trim();
    act(ctx, id, 'verify', body, { fields, formError, submit }, () => `Report #${id} merged into incident #${chosen.value}.`);
  });
  return el('details', { class: 'action' }, el('summary', {}, 'Merge into an existing incident'), form);
}

/**
 * nearbyIncidents lists the published incidents within MERGE_KM and a day
 * of a report, nearest first: [{ feature, distance }].
 */
async function nearbyIncidents(lon, lat, occurredAt) {
  const t = Date.parse(occurredAt);
  const instant = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const params = new URLSearchParams({
    bbox: bboxAround(lon, lat, MERGE_KM).join(','),
    datetime: `${instant(t - DAY_MS)}/${instant(t + DAY_MS)}`,
    status: 'verified,disputed,reported',
    limit: '100',
    properties: 'title,occurred_at,event_type,sub_event_type,status',
  });
  const { features } = await fetchFeatures(itemsPath('incidents', params), { cap: 100 });
  return features
    .filter((f) => f?.geometry?.type === 'Point')
    .map((feature) => ({ feature, distance: distanceMetres([lon, lat], feature.geometry.coordinates) }))
    .filter((c) => c.distance <= MERGE_KM * 1000)
    .sort((a, b) => a.distance - b.distance);
}
