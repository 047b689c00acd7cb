// The review's verify form: the report becomes a public incident, with the
// moderator's corrections (title, type, time, deaths, notes, the point as
// dragged on the map, published as verified or disputed).

import L from 'leaflet';
import { el } from '../dom.js';
import { formatLonLat, localInputValue, suggestedTitle, titleProblem, toRFC3339, zoneLabel } from '../fields.js';
import { errorSlot, field, setOptions, showError, taxonomySelects } from '../form.js';
import { formatDistance } from '../format.js';
import { distanceMetres, wrapLng } from '../geo.js';
import { STATUSES } from '../taxonomy.js';
import { act, clearErrors } from './act.js';

/**
 * verifyForm builds the open "Verify" section for report. showOnMap()
 * redraws the report on the map. Returns { element, claim, moved, moveTo }:
 * claim is the draggable marker (set by the review), moved the point as
 * dragged (null: as reported), moveTo(latlng, final) follows a drag.
 */
export function verifyForm(ctx, report, showOnMap) {
  const { map } = ctx;
  const id = report.id;
  const p = report.properties || {};
  const [lon, lat] = report.geometry.coordinates;

  const { fields, taxonomy, initial } = correctionFields(p);
  const { fieldset: pointSet, pointOut, locationError, resetPoint, toCentre, usePhoto } = pointControls(p, lon, lat);
  fields.location = { error: locationError, control: null };
  const submit = el('button', { id: 'm-verify', type: 'submit', class: 'button' }, 'Verify and publish');
  const formError = el('p', { class: 'error', role: 'alert', hidden: true });
  const form = el(
    'form',
    { id: 'm-verify-form', class: 'sheet-form', novalidate: true },
    fields.title.wrap,
    fields.event_type.wrap,
    fields.sub_event_type.wrap,
    fields.occurred_at.wrap,
    fields.fatalities.wrap,
    fields.notes.wrap,
    pointSet,
    fields.status.wrap,
    fields.note.wrap,
    formError,
    el('div', { class: 'actions' }, submit),
  );
  const api = {
    element: el('details', { class: 'action', open: true }, el('summary', {}, 'Verify'), form),
    claim: null,
    moved: null, // the point as the moderator dragged it
    moveTo(ll, final) {
      const back = Math.abs(ll.lat - lat) < 1e-7 && Math.abs(wrapLng(ll.lng) - lon) < 1e-7;
      api.moved = back ? null : L.latLng(ll.lat, ll.lng);
      const d = distanceMetres([lon, lat], [wrapLng(ll.lng), ll.lat]);
      pointOut.textContent = api.moved
        ? `Point: ${formatLonLat(wrapLng(ll.lng), ll.lat)} (moved ${formatDistance(d)} from the reported point)`
        : `Point: ${formatLonLat(lon, lat)} (as reported)`;
      if (final && api.claim && api.claim.getLatLng() !== ll) api.claim.setLatLng(ll);
    },
  };
  resetPoint.addEventListener('click', () => {
    api.moveTo(L.latLng(lat, lon), true);
    showOnMap();
  });
  toCentre.addEventListener('click', () => {
    api.moveTo(map.getCenter(), true);
    api.claim?.setLatLng(api.moved || L.latLng(lat, lon));
  });
  usePhoto?.addEventListener('click', () => {
    api.moveTo(L.latLng(p.photo_hint.lat, p.photo_hint.lon), true);
    showOnMap();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form, formError);
    const body = corrections(p, fields, taxonomy, initial, api.moved);
    if (!body) return;
    act(ctx, id, 'verify', body, { fields, formError, submit }, (res) => `Report #${id} verified: it is now incident #${res.incident_id}.`);
  });
  return api;
}

/** PUBLISH_AS are the statuses a verified report may be published with: all but retracted. */
const PUBLISH_AS = STATUSES.filter((s) => s.name !== 'retracted').map((s) => [s.name, s.label]);

/**
 * correctionFields builds the fields a moderator may correct, filled from
 * report properties p, keyed by the API's field names (so that errors find
 * them); initial holds the time and deaths as first shown.
 */
function correctionFields(p) {
  const titleField = field('m-title', 'Title (public)', el('input', { type: 'text', maxlength: '300', required: true }), {
    hint: 'What happened and where, e.g. “Shelling of the bridge in Jabrayil”.',
  });
  titleField.control.value = suggestedTitle(p);
  const taxonomy = taxonomySelects({ firstType: null });
  taxonomy.set(p.event_type, p.sub_event_type);
  const typeField = field('m-type', 'Type of event', taxonomy.type);
  const subField = field('m-sub', 'Sub-type', taxonomy.sub);
  const whenField = field('m-when', 'When', el('input', { type: 'datetime-local', step: '60' }), {
    hint: `Your local time (${zoneLabel()}).`,
  });
  const initialWhen = localInputValue(new Date(p.occurred_at));
  whenField.control.value = initialWhen;
  const fatalField = field('m-fatalities', 'Deaths', el('input', { type: 'number', min: '0', max: '1000000', step: '1' }));
  const initialFatal = Number.isFinite(p.fatalities) ? String(p.fatalities) : '';
  fatalField.control.value = initialFatal;
  const notesField = field('m-notes', 'Notes (public)', el('textarea', { rows: '4', maxlength: '20000' }), {
    hint: 'Starts as the reporter’s description: edit out anything private.',
  });
  notesField.control.value = p.description || '';
  const statusField = field('m-publish-as', 'Publish as', el('select', {}));
  setOptions(statusField.control, PUBLISH_AS, 'verified');
  const noteField = field('m-note', 'Note for the audit log (not public)', el('input', { type: 'text', maxlength: '2000' }));
  const fields = {
    title: titleField,
    event_type: typeField,
    sub_event_type: subField,
    occurred_at: whenField,
    fatalities: fatalField,
    notes: notesField,
    status: statusField,
    note: noteField,
  };
  return { fields, taxonomy, initial: { when: initialWhen, fatalities: initialFatal } };
}

/**
 * pointControls builds the form's point section: where the point is now,
 * its error, and buttons back to the reported point, to the map's centre
 * and (when the photo had one) to the photo's location.
 */
function pointControls(p, lon, lat) {
  const pointOut = el('p', { id: 'm-point', class: 'point-readout' }, `Point: ${formatLonLat(lon, lat)} (as reported)`);
  const locationError = errorSlot('m-location-error');
  const resetPoint = el('button', { type: 'button', class: 'button secondary' }, 'Back to the reported point');
  const toCentre = el('button', { type: 'button', class: 'button secondary' }, 'Move to the map centre');
  const hint = p.photo_hint;
  const usePhoto =
    hint && Number.isFinite(hint.lon) && Number.isFinite(hint.lat)
      ? el('button', { type: 'button', class: 'button secondary' }, 'Use the photo’s location')
      : null;
  const fieldset = el(
    'fieldset',
    { class: 'group location', 'aria-describedby': 'm-point m-location-error' },
    el('legend', {}, 'Point'),
    el('p', { class: 'hint' }, 'Drag the marker on the map to move it, or pan the map and move it to the centre.'),
    pointOut,
    locationError,
    el('div', { class: 'actions' }, resetPoint, toCentre, usePhoto),
  );
  return { fieldset, pointOut, locationError, resetPoint, toCentre, usePhoto };
}

/**
 * corrections reads the verify form into the request body: the title
 * always, every other field only where the moderator changed it from the
 * report (initial: the form's first time and deaths; moved: the point as
 * dragged, or null). On a bad value it marks the field, focuses it and
 * returns null.
 */
function corrections(p, fields, taxonomy, initial, moved) {
  const { title: titleField, occurred_at: whenField, fatalities: fatalField, notes: notesField } = fields;
  const body = { title: titleField.control.value.trim() };
  const bad = titleProblem(body.title, p);
  if (bad) {
    showError(titleField.error, titleField.control, bad);
    titleField.control.focus();
    return null;
  }
  if (taxonomy.type.value !== p.event_type || taxonomy.sub.value !== (p.sub_event_type || '')) {
    body.event_type = taxonomy.type.value;
    body.sub_event_type = taxonomy.sub.value;
  }
  if (whenField.control.value !== initial.when) {
    const t = toRFC3339(whenField.control.value);
    if (!t) {
      showError(whenField.error, whenField.control, 'Enter a date and time.');
      whenField.control.focus();
      return null;
    }
    body.occurred_at = t;
  }
  if (fatalField.control.value !== initial.fatalities) {
    if (fatalField.control.value === '' || fatalField.control.validity.badInput) {
      showError(fatalField.error, fatalField.control, 'Enter a whole number.');
      fatalField.control.focus();
      return null;
    }
    body.fatalities = Number(fatalField.control.value);
  }
  if (notesField.control.value !== (p.description || '')) body.notes = notesField.control.value;
  if (moved) body.location = [round6(wrapLng(moved.lng)), round6(moved.lat)];
  if (fields.status.control.value !== 'verified') body.status = fields.status.control.value;
  if (fields.note.control.value.trim()) body.note = fields.note.control.value.trim();
  return body;
}

function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}
