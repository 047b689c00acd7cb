// The report form: anyone may report an incident. The point is placed on
// the map (click, or drag the marker), from a place search, from the
// browser's location or at the map's centre; the rest are form fields.
// Reports go to POST /api/reports as multipart/form-data with an
// Idempotency-Key made once per filling of the form, so a retry after a
// lost connection can never store a report twice. The API's field errors
// are shown by the fields they are about.

import L from 'leaflet';
import { ApiError, getJSON, isAbort, request } from './api.js';
import { debounce, el, safeHref } from './dom.js';
import {
  errorKey,
  formatLocalDateTime,
  formatLonLat,
  humanMessage,
  localInputValue,
  MIN_DESCRIPTION,
  newIdempotencyKey,
  toRFC3339,
  zoneLabel,
} from './fields.js';
import { errorSlot, field, setOptions, showError, taxonomySelects } from './form.js';
import { formatBytes, formatCount, formatDateTime, formatDistance } from './format.js';
import { wrapLng } from './geo.js';
import { createStatusCheck } from './receipt.js';
import { createSheet, showPoint } from './sheet.js';
import { GEO_PRECISIONS } from './taxonomy.js';

const MAX_PHOTOS = 5;
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const MAX_SOURCES = 10;
const SEARCH_DEBOUNCE_MS = 300;
const PLACE_ZOOM = 12;

/** pinIcon is a draggable point's marker, drawn by CSS (no image, so no CSP exception). */
export function pinIcon(className) {
  return L.divIcon({ className: `pin-marker ${className}`, iconSize: [26, 34], iconAnchor: [13, 34], html: false });
}

/**
 * createReportForm builds the report sheet inside sheetEl and wires the
 * button that opens it. Returns the sheet ({ open, close, isOpen, ... }).
 */
export function createReportForm({ map, sheetEl, button }) {
  // State of one filling of the form.
  let point = null; // L.LatLng as shown on the map (longitude may be off [-180, 180])
  let key = newIdempotencyKey();
  let unsure = null; // the body of a send whose fate is unknown, to retry as it was
  let sentSources = []; // the source link fields in the order they were sent
  let photos = [];
  let sending = false;
  let submitted = false;
  let searchAbort = null;
  let retryTimer = 0;

  const marker = L.marker([0, 0], {
    draggable: true,
    icon: pinIcon('report-pin'),
    title: 'Reported place: drag to move it',
    keyboard: true,
    zIndexOffset: 1000,
    autoPan: true,
  });
  marker.on('drag', () => showReadout(marker.getLatLng()));
  marker.on('dragend', () => setPoint(marker.getLatLng()));

  // --- the form ---
  const heading = el('h2', { id: 'report-heading', class: 'sheet-heading' }, 'Report an incident');
  const closeButton = el('button', { type: 'button', class: 'button secondary sheet-close' }, 'Close');

  const readout = el('p', { id: 'r-point', class: 'point-readout', tabindex: '-1' }, 'No point placed yet.');
  const locationError = errorSlot('r-location-error');
  const geolocate = el('button', { id: 'r-geolocate', type: 'button', class: 'button secondary' }, 'Use my location');
  const centre = el('button', { id: 'r-centre', type: 'button', class: 'button secondary' }, 'Use the map centre');
  const placeQuery = field(
    'r-place-q',
    'Search for a place',
    el('input', { type: 'search', autocomplete: 'off', spellcheck: 'false', maxlength: '100' }),
    { hint: 'Type at least 2 letters, then choose a result.' },
  );
  const locationStatus = el('p', { id: 'r-location-status', class: 'hint', role: 'status' });
  const placeResults = el('ul', { id: 'r-place-results', class: 'place-results' });
  const where = el(
    'fieldset',
    { id: 'r-location', class: 'group location', 'aria-describedby': 'r-point r-location-error' },
    el('legend', {}, 'Where (required)'),
    el('p', { class: 'hint' }, 'Click the map or drag the marker, search for a place, or use your location.'),
    readout,
    locationError,
    el('div', { class: 'actions' }, geolocate, centre),
    placeQuery.wrap,
    locationStatus,
    placeResults,
  );

  const when = field('r-when', 'When did it happen? (required)', el('input', { type: 'datetime-local', step: '60' }), {
    hint: `Your local time (${zoneLabel()}).`,
  });
  const taxonomy = taxonomySelects();
  const type = field('r-type', 'Type of event (required)', taxonomy.type);
  const sub = field('r-sub', 'Sub-type', taxonomy.sub);
  const description = field(
    'r-description',
    'What happened? (required)',
    el('textarea', { rows: '5', maxlength: '5000' }),
    { hint: 'What you saw or know, and how you know it.' },
  );
  const locationName = field('r-location-name', 'Place name', el('input', { type: 'text', maxlength: '300', autocomplete: 'off' }), {
    hint: 'A village, town or landmark, if you know it.',
  });
  const precision = field('r-precision', 'How exact is the point?', el('select', {}));
  setOptions(precision.control, GEO_PRECISIONS.map((p) => [String(p.value), p.label]), '1');
  const fatalities = field(
    'r-fatalities',
    'Deaths, if known',
    el('input', { type: 'number', min: '0', max: '1000000', step: '1', inputmode: 'numeric' }),
  );

  const sources = [];
  const sourceList = el('div', { class: 'source-list' });
  const sourcesError = errorSlot('r-sources-error');
  const addSourceButton = el('button', { type: 'button', class: 'button secondary' }, 'Add another link');
  const sourceSet = el(
    'fieldset',
    { class: 'group sources-group' },
    el('legend', {}, 'Links to sources'),
    el('p', { class: 'hint' }, 'News reports, posts or videos about it (http or https).'),
    sourceList,
    sourcesError,
    el('div', { class: 'actions' }, addSourceButton),
  );

  const contact = field('r-contact', 'Contact (private)', el('input', { type: 'text', maxlength: '300', autocomplete: 'email' }), {
    hint: 'Private: only moderators see this, never the public. Optional: an email address or phone number, so that a moderator can ask you about the report.',
    className: 'field private',
  });
  const photoInput = field(
    'r-photos',
    `Photos (up to ${MAX_PHOTOS})`,
    el('input', { type: 'file', multiple: true, accept: PHOTO_TYPES.join(',') }),
    { hint: 'JPEG, PNG or WebP, at most 10 MB each. Only moderators see them.' },
  );
  const photoList = el('ul', { id: 'r-photo-list', class: 'photo-list' });
  photoInput.wrap.append(photoList);

  const correction = el('p', { id: 'r-correction', class: 'notice', hidden: true });
  const formError = el('p', { id: 'r-form-error', class: 'error', role: 'alert', hidden: true });
  const submit = el('button', { id: 'r-submit', type: 'submit', class: 'button' }, 'Send report');
  const retry = el('button', { id: 'r-retry', type: 'button', class: 'button', hidden: true }, 'Retry sending');
  const resend = el('button', { id: 'r-resend', type: 'button', class: 'button secondary', hidden: true }, 'Send as a new report');
  const status = el('p', { id: 'r-status', class: 'hint', role: 'status' });

  const form = el(
    'form',
    { id: 'report-form', class: 'sheet-form', novalidate: true },
    el('p', { class: 'hint' }, 'A moderator checks every report before it appears on the map.'),
    correction,
    where,
    when.wrap,
    type.wrap,
    sub.wrap,
    description.wrap,
    locationName.wrap,
    precision.wrap,
    fatalities.wrap,
    sourceSet,
    contact.wrap,
    photoInput.wrap,
    formError,
    el('div', { class: 'actions' }, submit, retry, resend),
    status,
  );

  // --- the confirmation ---
  const doneHeading = el('h3', { id: 'r-done-heading', tabindex: '-1' });
  const doneMessage = el('p', { id: 'r-done-message' });
  // The receipt: the report's number and what was sent, to keep.
  const receiptList = el('dl', { id: 'r-receipt', class: 'props receipt' });
  const copyReceipt = el('button', { type: 'button', class: 'button secondary', id: 'r-copy-receipt' }, 'Copy the receipt');
  const receiptCopied = el('span', { class: 'hint', role: 'status' });
  let receiptText = '';
  copyReceipt.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(receiptText);
      receiptCopied.textContent = ' Copied.';
    } catch {
      receiptCopied.textContent = ' Select the receipt above to copy it.';
    }
  });
  const statusCheck = createStatusCheck(); // the receipt's "check status" link (receipt.js)
  const hintBox = el('div', { id: 'r-photo-hint', class: 'photo-hint' });
  const another = el('button', { type: 'button', class: 'button' }, 'Report another incident');
  const doneClose = el('button', { type: 'button', class: 'button secondary' }, 'Close');
  const done = el(
    'section',
    { id: 'r-done', class: 'report-done', hidden: true, 'aria-labelledby': 'r-done-heading' },
    doneHeading,
    doneMessage,
    receiptList,
    statusCheck.element,
    el('p', {}, copyReceipt, receiptCopied),
    hintBox,
    el('div', { class: 'actions' }, another, doneClose),
  );

  sheetEl.append(el('div', { class: 'sheet-header' }, heading, closeButton), form, done);

  const sheet = createSheet(sheetEl, {
    map,
    heading,
    button,
    onOpen() {
      if (submitted) reset();
      if (!when.control.value) when.control.value = localInputValue(new Date());
      if (point) marker.setLatLng(point).addTo(map);
    },
    onClose() {
      marker.remove();
      searchAbort?.abort();
    },
  });
  closeButton.addEventListener('click', () => sheet.close());
  doneClose.addEventListener('click', () => sheet.close());
  another.addEventListener('click', () => {
    reset();
    heading.focus();
  });

  // --- placing the point ---
  map.on('click', (e) => {
    if (sheet.isOpen() && !form.hidden) setPoint(e.latlng);
  });
  centre.addEventListener('click', () => {
    setPoint(map.getCenter());
    locationStatus.textContent = 'Point placed at the centre of the map.';
  });
  geolocate.addEventListener('click', () => {
    if (!navigator.geolocation) {
      locationStatus.textContent = 'This browser cannot tell your location.';
      return;
    }
    locationStatus.textContent = 'Finding your location…';
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const { latitude, longitude, accuracy } = pos.coords;
        setPoint(L.latLng(latitude, longitude), { show: true });
        // A rough fix makes a rough point: say so unless the reporter already did.
        if (precision.control.value === '1' && accuracy > 2000) precision.control.value = accuracy > 25000 ? '3' : '2';
        locationStatus.textContent = `Point placed at your location (to about ${formatDistance(accuracy)}).`;
      },
      (err) => {
        locationStatus.textContent =
          err.code === 1 ? 'Your location was not shared: the browser or you refused it.' : 'Your location could not be found.';
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });

  function setPoint(latlng, { show = false } = {}) {
    point = L.latLng(Math.max(-90, Math.min(90, latlng.lat)), latlng.lng);
    marker.setLatLng(point);
    if (sheet.isOpen()) marker.addTo(map);
    showReadout(point);
    showError(locationError, [], '');
    if (show) showPoint(map, sheetEl, point, Math.max(map.getZoom(), PLACE_ZOOM));
  }

  function showReadout(ll) {
    const lon = wrapLng(ll.lng);
    readout.textContent = `Point: ${formatLonLat(lon, ll.lat)}`;
    readout.dataset.lon = lon.toFixed(6);
    readout.dataset.lat = ll.lat.toFixed(6);
  }

  // --- place search ---
  const searchSoon = debounce(searchPlaces, SEARCH_DEBOUNCE_MS);
  placeQuery.control.addEventListener('input', searchSoon);
  placeQuery.control.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault(); // not a submit of the whole report
      searchSoon.cancel();
      searchPlaces();
    } else if (e.key === 'ArrowDown' && placeResults.firstElementChild) {
      e.preventDefault();
      placeResults.querySelector('button').focus();
    } else if (e.key === 'Escape' && (placeResults.firstElementChild || placeQuery.control.value)) {
      e.preventDefault(); // clears the search; a second Escape closes the sheet
      placeQuery.control.value = '';
      clearResults();
    }
  });
  placeResults.addEventListener('keydown', (e) => {
    const buttons = [...placeResults.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = i + (e.key === 'ArrowDown' ? 1 : -1);
      (buttons[next] || placeQuery.control).focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      clearResults();
      placeQuery.control.focus();
    }
  });

  async function searchPlaces() {
    searchAbort?.abort();
    const q = placeQuery.control.value.trim();
    if (q.length < 2) {
      clearResults();
      return;
    }
    const abort = (searchAbort = new AbortController());
    const c = map.getCenter();
    const params = new URLSearchParams({ q, near: `${wrapLng(c.lng).toFixed(4)},${c.lat.toFixed(4)}`, limit: '8' });
    locationStatus.textContent = 'Searching…';
    try {
      const fc = await getJSON(`/api/places?${params}`, { signal: abort.signal });
      if (abort.signal.aborted) return;
      showResults(Array.isArray(fc?.features) ? fc.features : [], q);
    } catch (err) {
      if (isAbort(err)) return;
      clearResults();
      locationStatus.textContent =
        err.status === 404
          ? 'Place search is not available on this server.'
          : err.status === 503
            ? 'Place search is not available right now; try again later.'
            : `Place search failed: ${err.message}`;
    }
  }

  function showResults(features, q) {
    const usable = features.filter((f) => f?.geometry?.type === 'Point' && f.properties?.name);
    placeResults.replaceChildren(
      ...usable.map((f) => {
        const p = f.properties;
        const [lon, lat] = f.geometry.coordinates;
        const details = [p.country_code, p.population > 0 ? `${formatCount(p.population)} people` : null].filter(Boolean).join(' · ');
        const also = p.matched && p.matched !== p.name ? ` (${p.matched})` : '';
        const choose = el(
          'button',
          { type: 'button', class: 'place-result', 'data-lon': lon, 'data-lat': lat },
          el('span', { class: 'place-name' }, p.name + also),
          details && el('span', { class: 'place-details' }, details),
        );
        choose.addEventListener('click', () => {
          setPoint(L.latLng(lat, lon), { show: true });
          if (!locationName.control.value.trim()) locationName.control.value = p.name;
          clearResults();
          locationStatus.textContent = `Point placed at ${p.name}.`;
          placeQuery.control.focus();
        });
        return el('li', {}, choose);
      }),
    );
    locationStatus.textContent = usable.length
      ? `${usable.length} ${usable.length === 1 ? 'place' : 'places'} found: choose one below.`
      : `No place found for “${q}”.`;
  }

  function clearResults() {
    searchAbort?.abort();
    placeResults.replaceChildren();
    locationStatus.textContent = '';
  }

  // --- sources and photos ---
  function addSource(value = '') {
    if (sources.length >= MAX_SOURCES) return null;
    const n = sources.length;
    const f = field(
      `r-source-${n}`,
      `Link ${n + 1}`,
      el('input', { type: 'url', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', maxlength: '2000', placeholder: 'https://' }),
    );
    f.control.value = value;
    sources.push(f);
    sourceList.append(f.wrap);
    addSourceButton.disabled = sources.length >= MAX_SOURCES;
    return f;
  }
  addSourceButton.addEventListener('click', () => addSource()?.control.focus());
  addSource();

  photoInput.control.addEventListener('change', () => {
    photos = [...photoInput.control.files];
    showPhotos();
  });

  function showPhotos() {
    photoList.replaceChildren(
      ...photos.map((file, i) => {
        const remove = el('button', { type: 'button', class: 'link-button' }, 'Remove');
        remove.setAttribute('aria-label', `Remove ${file.name}`);
        remove.addEventListener('click', () => {
          photos.splice(i, 1);
          syncPhotoInput();
          showPhotos();
          photoInput.control.focus();
        });
        return el('li', {}, `${file.name} (${formatBytes(file.size)}) `, remove);
      }),
    );
    showError(photoInput.error, photoInput.control, photoProblem());
  }

  function syncPhotoInput() {
    // A file input's list can only be replaced whole, through a DataTransfer.
    try {
      const dt = new DataTransfer();
      for (const f of photos) dt.items.add(f);
      photoInput.control.files = dt.files;
    } catch {
      // old browsers: the list sent is `photos`; the input just shows more
    }
  }

  function photoProblem() {
    if (photos.length > MAX_PHOTOS) return `At most ${MAX_PHOTOS} photos: remove ${photos.length - MAX_PHOTOS}.`;
    const big = photos.find((f) => f.size > MAX_PHOTO_BYTES);
    if (big) return `${big.name} is over 10 MB.`;
    const odd = photos.find((f) => f.type && !PHOTO_TYPES.includes(f.type));
    if (odd) return `${odd.name} is not a JPEG, PNG or WebP image.`;
    return '';
  }

  // --- sending ---
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  retry.addEventListener('click', () => unsure && send(unsure));
  resend.addEventListener('click', () => {
    key = newIdempotencyKey(); // the earlier key belongs to the report already received
    send();
  });

  /** send posts the form (or, to retry, exactly the body sent before). */
  async function send(again = null) {
    if (sending) return;
    let body = again;
    if (!body) {
      clearErrors();
      if (!checkLocally()) return;
      body = formBody();
    }
    sending = true;
    sheetEl.dataset.state = 'sending';
    submit.disabled = true;
    retry.hidden = resend.hidden = true;
    clearTimeout(retryTimer);
    setFormError('');
    status.textContent = photos.length ? 'Sending the report and its photos…' : 'Sending the report…';
    try {
      const res = await request('/api/reports', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      unsure = null;
      status.textContent = '';
      showDone(res);
    } catch (err) {
      status.textContent = '';
      sheetEl.dataset.state = 'form';
      failed(err, body);
    } finally {
      sending = false;
      submit.disabled = false;
    }
  }

  function failed(err, body) {
    if (!(err instanceof ApiError)) {
      // No answer: the report may or may not have been stored. The same
      // body with the same key is safe to send again.
      unsure = body;
      setFormError(
        'The report could not be sent: the connection failed. It may have arrived or not; ' +
          '“Retry sending” sends it again, and it is never stored twice.',
      );
      retry.hidden = false;
      retry.focus();
      return;
    }
    switch (err.status) {
      case 422:
      case 400:
        if (showFieldErrors(err.errors)) return;
        setFormError(`The report was not accepted: ${err.message}`);
        return;
      case 409:
        setFormError(
          'This form was already sent once with different content, and that report was received. ' +
            'Send this version as a new report, or close the form.',
        );
        resend.hidden = false;
        resend.focus();
        return;
      case 413:
      case 415:
        if (/photo/i.test(err.message)) {
          showError(photoInput.error, photoInput.control, sentence(err.message));
          photoInput.control.focus();
        } else {
          setFormError(`The report was not accepted: ${err.message}`);
        }
        return;
      case 429:
        unsure = body;
        setFormError(`Too many reports from your connection: ${err.message}`);
        waitToRetry(err.retryAfter ?? 60);
        return;
    }
    if (err.status >= 500) {
      unsure = body;
      setFormError(`The server could not store the report (${err.message}). Try again in a moment.`);
      retry.hidden = false;
      retry.focus();
      return;
    }
    setFormError(`The report was not accepted: ${err.message}`);
  }

  function waitToRetry(seconds) {
    retry.hidden = false;
    retry.disabled = true;
    let left = Math.max(1, Math.ceil(seconds));
    const tick = () => {
      if (left <= 0) {
        retry.disabled = false;
        retry.textContent = 'Retry sending';
        return;
      }
      retry.textContent = `Retry in ${left} s`;
      left--;
      retryTimer = setTimeout(tick, 1000);
    };
    tick();
  }

  /** checkLocally marks every field that cannot be sent as it is, all at once. */
  function checkLocally() {
    let ok = true;
    const bad = (f, text) => {
      showError(f.error, f.control, text);
      ok = false;
    };
    if (!point) bad({ error: locationError, control: [] }, 'Place the point: click the map, search for a place, or use your location.');
    const t = toRFC3339(when.control.value);
    if (!t) bad(when, 'Enter the date and time it happened.');
    else if (new Date(t).getTime() > Date.now() + 5 * 60 * 1000) {
      bad(when, `${formatLocalDateTime(new Date(t))} is in the future: it is now ${formatLocalDateTime(new Date())}.`);
    }
    if (!taxonomy.type.value) bad(type, 'Choose the type of event.');
    const text = description.control.value.trim();
    if (!text) bad(description, 'Describe what happened.');
    else if ([...text].length < MIN_DESCRIPTION) {
      bad(description, `Say a little more: what happened, and how you know (at least ${MIN_DESCRIPTION} characters).`);
    }
    for (const f of sources) {
      const u = f.control.value.trim();
      if (u && !safeHref(u)) bad(f, 'Enter a web link that starts with http:// or https://, or leave it empty.');
    }
    const v = fatalities.control.validity;
    if (v.badInput || v.rangeUnderflow || v.rangeOverflow || v.stepMismatch) {
      bad(fatalities, 'Enter a whole number of deaths from 0 to 1,000,000, or leave it empty.');
    }
    const photo = photoProblem();
    if (photo) {
      showError(photoInput.error, photoInput.control, photo);
      ok = false;
    }
    if (!ok) {
      setFormError('Please correct the fields marked below.');
      focusFirstError();
    }
    return ok;
  }

  function formBody() {
    const fd = new FormData();
    fd.set('lon', wrapLng(point.lng).toFixed(6));
    fd.set('lat', point.lat.toFixed(6));
    fd.set('occurred_at', toRFC3339(when.control.value));
    fd.set('event_type', taxonomy.type.value);
    if (taxonomy.sub.value) fd.set('sub_event_type', taxonomy.sub.value);
    fd.set('description', description.control.value.trim());
    if (locationName.control.value.trim()) fd.set('location_name', locationName.control.value.trim());
    fd.set('geo_precision', precision.control.value);
    if (fatalities.control.value !== '') fd.set('fatalities', fatalities.control.value);
    // The server drops empty links before numbering them: so does this.
    sentSources = sources.filter((f) => f.control.value.trim() !== '');
    for (const f of sentSources) fd.append('source_url', f.control.value.trim());
    if (contact.control.value.trim()) fd.set('contact', contact.control.value.trim());
    for (const file of photos) fd.append('photo', file, file.name);
    return fd;
  }

  /** showFieldErrors puts each API error by its field; false when none has a place. */
  function showFieldErrors(errors) {
    const byField = {
      occurred_at: when,
      event_type: type,
      sub_event_type: sub,
      description,
      location_name: locationName,
      geo_precision: precision,
      fatalities,
      contact,
      photo: photoInput,
    };
    const general = [];
    let placed = 0;
    for (const { field: name, message } of errors) {
      const k = errorKey(name);
      const m = /^source_urls\[(\d+)\]$/.exec(k);
      const target =
        k === 'location'
          ? { error: locationError, control: null }
          : m
            ? sentSources[Number(m[1])]
            : k === 'source_urls'
              ? { error: sourcesError, control: null }
              : byField[k];
      if (!target) {
        general.push(`${name}: ${humanMessage(k, message)}`);
        continue;
      }
      // Several errors for one field: keep them all.
      const before = target.error.hidden ? '' : `${target.error.textContent} `;
      showError(target.error, target.control, before + humanMessage(k, message));
      placed++;
    }
    if (!placed && general.length === 0) return false;
    setFormError(
      [placed ? 'The report was not accepted: please correct the fields marked below.' : 'The report was not accepted.', ...general].join(' '),
    );
    focusFirstError();
    return true;
  }

  function focusFirstError() {
    const first = [...form.querySelectorAll('.field-error')].find((e) => !e.hidden);
    if (!first) return;
    if (first === locationError) {
      readout.focus();
      return;
    }
    const control = form.querySelector(`[aria-describedby~="${first.id}"]`);
    (control || first).focus();
  }

  function clearErrors() {
    for (const e of form.querySelectorAll('.field-error')) e.hidden = true;
    for (const c of form.querySelectorAll('[aria-invalid="true"]')) c.setAttribute('aria-invalid', 'false');
    setFormError('');
  }

  function setFormError(text) {
    formError.textContent = text;
    formError.hidden = !text;
  }

  // --- the confirmation, and corrections from a photo ---
  function showDone(res) {
    submitted = true;
    key = newIdempotencyKey(); // whatever comes next is another report
    marker.remove();
    form.hidden = true;
    done.hidden = false;
    sheetEl.dataset.state = 'done';
    sheetEl.dataset.reportId = String(res?.id ?? '');
    doneHeading.textContent = `Report #${res?.id} received`;
    doneMessage.textContent = `Your report #${res?.id} is pending review; it is not public until a moderator verifies it.`;
    showReceipt(res);
    const hint = photoHint(res);
    hintBox.replaceChildren(...hint);
    hintBox.hidden = hint.length === 0;
    doneHeading.focus();
  }

  /** showReceipt lists what the reporter may keep: the report's number, when it arrived and what was sent. */
  function showReceipt(res) {
    const lines = [
      ['Report', `#${res?.id}`],
      ['Received', formatLocalDateTime(new Date())],
      ['Status', 'pending review (not public yet)'],
      ['Type', [taxonomy.type.value, taxonomy.sub.value].filter(Boolean).join(' — ')],
      ['When', formatLocalDateTime(new Date(toRFC3339(when.control.value)))],
      ['Where', point ? formatLonLat(wrapLng(point.lng), point.lat) : ''],
    ];
    statusCheck.set(res?.status_url);
    if (statusCheck.link()) lines.push(['Check the status at', statusCheck.link()]);
    receiptList.replaceChildren(...lines.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    receiptText = lines.map(([k, v]) => `${k}: ${v}`).join('\n');
    receiptCopied.textContent = '';
  }

  function photoHint(res) {
    const h = res?.photo_hint;
    if (!h || !Number.isFinite(h.lon) || !Number.isFinite(h.lat)) return [];
    const far = Number.isFinite(h.distance_m) ? `, ${formatDistance(h.distance_m)} from the point you placed` : '';
    const taken = h.taken_at ? `, on ${formatDateTime(h.taken_at)}` : '';
    const use = el(
      'button',
      { type: 'button', class: 'button secondary', id: 'r-use-photo' },
      h.taken_at ? 'Use the photo’s location and time' : 'Use the photo’s location',
    );
    use.addEventListener('click', () => correctFromPhoto(res.id, h));
    return [
      el('h4', {}, 'Your photo has a location'),
      el('p', {}, `Photo ${h.photo || 1} was taken at ${formatLonLat(h.lon, h.lat)}${far}${taken}.`),
      el(
        'p',
        { class: 'hint' },
        h.point_agrees === false
          ? 'If the photo shows where it happened, send a corrected report with its location; a moderator sees both.'
          : 'That agrees with your point. To use the photo’s exact location instead, send a corrected report.',
      ),
      el('div', { class: 'actions' }, use),
    ];
  }

  /**
   * correctFromPhoto reopens the form as it was sent, with the photo's
   * location (and time), as a new report that says which one it corrects.
   */
  function correctFromPhoto(id, h) {
    submitted = false;
    done.hidden = true;
    form.hidden = false;
    sheetEl.dataset.state = 'form';
    setPoint(L.latLng(h.lat, h.lon), { show: true });
    if (h.taken_at) when.control.value = localInputValue(new Date(h.taken_at));
    const prefix = `Correction of report #${id}: `;
    if (!description.control.value.startsWith(prefix)) description.control.value = prefix + description.control.value;
    correction.textContent = `This sends a new report correcting #${id} with the photo’s location${h.taken_at ? ' and time' : ''}. Check it, then send it.`;
    correction.hidden = false;
    heading.focus();
  }

  function reset() {
    submitted = false;
    form.reset();
    when.control.value = localInputValue(new Date());
    taxonomy.set('', '');
    precision.control.value = '1';
    for (const f of sources.splice(1)) f.wrap.remove();
    addSourceButton.disabled = false;
    photos = [];
    showPhotos();
    point = null;
    marker.remove();
    readout.textContent = 'No point placed yet.';
    delete readout.dataset.lon;
    delete readout.dataset.lat;
    clearResults();
    clearErrors();
    correction.hidden = true;
    unsure = null;
    retry.hidden = resend.hidden = true;
    key = newIdempotencyKey();
    done.hidden = true;
    form.hidden = false;
    sheetEl.dataset.state = 'form';
  }

  sheetEl.dataset.state = 'form';
  return sheet;
}

/** sentence gives an API message a capital and a full stop: "required" → "Required." */
function sentence(message) {
  const m = String(message || '').trim();
  if (!m) return '';
  const s = m[0].toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
