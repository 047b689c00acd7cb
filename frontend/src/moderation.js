// The moderation view: moderators sign in with their token (kept in this
// tab's sessionStorage only), work through the queue of pending reports —
// each shown on the main map with its photos, its reporter's private
// contact and where its photos say they were taken — and verify (with
// corrections, moving the point by dragging it), merge into a nearby
// incident, or reject them. It also shows an incident's audit history,
// linked from the incident's popup while signed in.
//
// Photos need the bearer token, so they are fetched as blobs and shown
// through blob: URLs (allowed by the page's img-src), revoked when the
// report is left.

import L from 'leaflet';
import { ApiError, fetchBlob, fetchFeatures, itemsPath, request, sameOrigin } from './api.js';
import { mountClaimsEditor } from './claims.js';
import { el, safeHref } from './dom.js';
import { auditChanges, errorKey, formatLonLat, localInputValue, suggestedTitle, titleProblem, toRFC3339, zoneLabel } from './fields.js';
import { errorSlot, field, setOptions, showError, taxonomySelects } from './form.js';
import { formatDateTime, formatDistance } from './format.js';
import { bboxAround, distanceMetres, wrapLng } from './geo.js';
import { pinIcon } from './report.js';
import { createSheet, overlaysMap, showPoint } from './sheet.js';
import { GEO_PRECISIONS } from './taxonomy.js';

const TOKEN_KEY = 'incidentmap.moderatorToken';
const MERGE_KM = 5;
const DAY_MS = 86400000;
const QUEUE_PAGE = 50;
const REVIEW_ZOOM = 12;

/**
 * createModeration builds the moderation sheet inside sheetEl and wires the
 * button that opens it. openIncident(id) shows an incident on the map;
 * onChange() is called when the sheet opens or closes or the moderator
 * signs in or out. Returns { open, close, isOpen, signedIn, decoratePopup }.
 */
export function createModeration({ map, sheetEl, button, openIncident, onChange = () => {} }) {
  let token = readToken();
  let queue = [];
  let nextPage = null;
  let current = null; // the report under review
  let blobs = [];
  const review = L.layerGroup();

  const heading = el('h2', { id: 'moderation-heading', class: 'sheet-heading' }, 'Moderation');
  const signOutButton = el('button', { id: 'm-sign-out', type: 'button', class: 'button secondary' }, 'Sign out');
  const closeButton = el('button', { type: 'button', class: 'button secondary sheet-close' }, 'Close');
  const status = el('p', { id: 'm-status', class: 'hint', role: 'status' });
  const main = el('div', { class: 'moderation-body' });
  sheetEl.append(el('div', { class: 'sheet-header' }, heading, signOutButton, closeButton), status, main);

  const sheet = createSheet(sheetEl, {
    map,
    heading,
    button,
    onOpen() {
      if (token) showQueue({ reload: true });
      else showSignIn();
      onChange();
    },
    onClose() {
      leaveReview();
      onChange();
    },
  });
  closeButton.addEventListener('click', () => sheet.close());
  signOutButton.addEventListener('click', () => signOut('You are signed out.'));

  // --- signing in and out ---
  function showSignIn(message = '') {
    leaveReview();
    setView('sign-in');
    signOutButton.hidden = true;
    const input = el('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', maxlength: '199' });
    const tokenField = field('m-token', 'Moderator token', input, {
      hint: 'Kept in this browser tab only, until you sign out or close the tab.',
    });
    const submit = el('button', { type: 'submit', class: 'button' }, 'Sign in');
    const form = el(
      'form',
      { id: 'm-sign-in', class: 'sheet-form', novalidate: true },
      message && el('p', { class: 'notice', role: 'alert' }, message),
      el('p', { class: 'hint' }, 'Moderators check reports before they become public.'),
      tokenField.wrap,
      el('div', { class: 'actions' }, submit),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const t = input.value.trim();
      if (!t) {
        showError(tokenField.error, input, 'Enter your token.');
        input.focus();
        return;
      }
      submit.disabled = true;
      status.textContent = 'Signing in…';
      try {
        await loadQueue(t);
        token = t;
        saveToken(t);
        status.textContent = 'Signed in.';
        onChange();
        showQueue();
      } catch (err) {
        status.textContent = '';
        const text =
          err instanceof ApiError && err.status === 401
            ? 'This token was not accepted. Check it and try again.'
            : err instanceof ApiError && err.status === 403
              ? 'This token may not moderate.'
              : `Cannot sign in: ${err.message}`;
        showError(tokenField.error, input, text);
        input.focus();
      } finally {
        submit.disabled = false;
      }
    });
    main.replaceChildren(form);
  }

  function signOut(message, alert = '') {
    token = null;
    queue = [];
    nextPage = null;
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: the token only lived in memory
    }
    status.textContent = message;
    onChange();
    showSignIn(alert);
  }

  /** expired signs out after the server refused the token (revoked, or a new database). */
  function expired() {
    signOut('', 'Your session has ended: the token is no longer accepted. Sign in again.');
  }

  /** call makes an API request as the moderator; a refused token signs out. */
  async function call(url, opts = {}) {
    try {
      return await request(url, { ...opts, token });
    } catch (err) {
      if (isSignedOut(err)) expired();
      throw err;
    }
  }

  // --- the queue ---
  async function loadQueue(t = token, { more = false } = {}) {
    const url = more && nextPage ? nextPage : `/api/reports?status=pending&limit=${QUEUE_PAGE}`;
    const fc = await request(url, { token: t });
    const features = Array.isArray(fc?.features) ? fc.features : [];
    queue = more ? [...queue, ...features.filter((f) => !queue.some((q) => q.id === f.id))] : features;
    const next = (fc?.links || []).find((l) => l.rel === 'next');
    nextPage = next ? sameOrigin(next.href) : null;
  }

  async function showQueue({ reload = false, notice = null } = {}) {
    leaveReview();
    setView('queue');
    signOutButton.hidden = false;
    const list = el('ul', { id: 'm-queue', class: 'report-queue' });
    const count = el('p', { class: 'hint', id: 'm-queue-count' });
    const refresh = el('button', { type: 'button', class: 'button secondary' }, 'Refresh');
    const more = el('button', { type: 'button', class: 'button secondary', hidden: true }, 'Load more');
    const title = el('h3', { id: 'm-queue-heading', tabindex: '-1' }, 'Pending reports');
    main.replaceChildren(notice || '', title, el('div', { class: 'actions' }, refresh), count, list, more);
    refresh.addEventListener('click', () => showQueue({ reload: true }));
    more.addEventListener('click', async () => {
      more.disabled = true;
      try {
        await loadQueue(token, { more: true });
        render();
      } catch (err) {
        if (isSignedOut(err)) expired();
        else status.textContent = `Cannot load more reports: ${err.message}`;
      } finally {
        more.disabled = false;
      }
    });

    function render() {
      list.replaceChildren(...queue.map(queueItem));
      count.textContent = queue.length
        ? `${queue.length} ${queue.length === 1 ? 'report waits' : 'reports wait'} for review${nextPage ? ' (more below)' : ''}.`
        : 'No report is waiting for review.';
      more.hidden = !nextPage;
    }

    if (reload) {
      count.textContent = 'Loading the queue…';
      try {
        await loadQueue();
      } catch (err) {
        if (isSignedOut(err)) expired();
        else count.textContent = `Cannot load the queue: ${err.message}`;
        return;
      }
      if (sheetEl.dataset.view !== 'queue' || !main.contains(list)) return; // left meanwhile
    }
    render();
  }

  function queueItem(report) {
    const p = report.properties || {};
    const where = p.location_name || formatLonLat(...report.geometry.coordinates);
    const flags = [
      p.photo_hint && 'with photos',
      p.photo_hint?.point_agrees === false && 'a photo was taken elsewhere',
      p.contact && 'contact given',
    ].filter(Boolean);
    const open = el('button', { type: 'button', class: 'button secondary', 'aria-label': `Review report #${report.id}` }, 'Review');
    open.addEventListener('click', () => showReview(report));
    return el(
      'li',
      {},
      el(
        'article',
        { class: 'report-card', 'data-report-id': report.id },
        el('h4', {}, `#${report.id} · ${p.sub_event_type || p.event_type || 'Report'}`),
        el('p', { class: 'report-meta' }, `${formatDateTime(p.occurred_at)} · ${where}`),
        el('p', { class: 'report-text' }, clip(p.description, 180)),
        flags.length > 0 && el('p', { class: 'report-flags' }, flags.join(' · ')),
        open,
      ),
    );
  }

  // --- one report ---
  /** showReview opens a report from the queue; the list lacks its photos, so it is read whole first. */
  async function showReview(summary) {
    leaveReview();
    setView('review');
    current = summary;
    const back = el('button', { type: 'button', class: 'link-button' }, '← Back to the queue');
    back.addEventListener('click', () => showQueue());
    const info = el('p', { class: 'hint', role: 'status' }, `Loading report #${summary.id}…`);
    main.replaceChildren(back, info);
    try {
      const report = await call(`/api/reports/${encodeURIComponent(summary.id)}`);
      if (current !== summary) return; // left meanwhile
      renderReview(report);
    } catch (err) {
      if (!isSignedOut(err) && current === summary) info.textContent = `Cannot load report #${summary.id}: ${err.message}`;
    }
  }

  function renderReview(report) {
    current = report;
    const id = report.id;
    const p = report.properties || {};
    const [lon, lat] = report.geometry.coordinates;
    let moved = null; // the point as the moderator dragged it

    const back = el('button', { type: 'button', class: 'link-button' }, '← Back to the queue');
    back.addEventListener('click', () => showQueue());
    const title = el('h3', { id: 'm-review-heading', tabindex: '-1' }, `Report #${id}`);

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

    const showButton = el('button', { type: 'button', class: 'button secondary' }, 'Show on the map');
    showButton.addEventListener('click', () => showOnMap());

    const verify = verifyForm();
    const merge = mergeForm();
    const reject = rejectForm();
    main.replaceChildren(
      back,
      title,
      el('dl', { class: 'props report-props' }, rows),
      el('p', { class: 'report-description' }, p.description || ''),
      // DOM replaceChildren writes null as the text "null": skip what is absent.
      ...[photoHint(p.photo_hint, [lon, lat]), photoGallery(p.photos || [], id)].filter(Boolean),
      el('div', { class: 'actions' }, showButton),
      verify.element,
      merge,
      reject,
    );
    title.focus();
    showOnMap();

    function showOnMap() {
      review.clearLayers();
      const claim = L.marker(moved || [lat, lon], {
        draggable: true,
        icon: pinIcon('review-pin'),
        title: `Report #${id}: drag to move the point`,
        zIndexOffset: 1000,
      });
      claim.on('drag', () => verify.moveTo(claim.getLatLng(), false));
      claim.on('dragend', () => verify.moveTo(claim.getLatLng(), true));
      claim.addTo(review);
      const points = [claim.getLatLng()];
      for (const [n, at] of photoPoints(p)) {
        const ll = L.latLng(at[1], at[0]);
        points.push(ll);
        L.polyline([claim.getLatLng(), ll], { color: '#7a2f00', weight: 2, dashArray: '4 6', interactive: false }).addTo(review);
        L.circleMarker(ll, { radius: 7, weight: 2, color: '#7a2f00', fillColor: '#ff9f43', fillOpacity: 0.9 })
          .bindTooltip(el('span', {}, `Photo ${n} was taken here`))
          .addTo(review);
      }
      review.addTo(map);
      verify.claim = claim;
      if (points.length === 1) {
        showPoint(map, sheetEl, points[0], Math.max(map.getZoom(), REVIEW_ZOOM));
      } else {
        const covered = overlaysMap(sheetEl) ? sheetEl.getBoundingClientRect().height : 0;
        map.fitBounds(L.latLngBounds(points), { paddingTopLeft: [40, 40], paddingBottomRight: [40, 40 + covered], maxZoom: 14, animate: false });
      }
    }

    function verifyForm() {
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
      const pointOut = el('p', { id: 'm-point', class: 'point-readout' }, `Point: ${formatLonLat(lon, lat)} (as reported)`);
      const locationError = errorSlot('m-location-error');
      const resetPoint = el('button', { type: 'button', class: 'button secondary' }, 'Back to the reported point');
      const toCentre = el('button', { type: 'button', class: 'button secondary' }, 'Move to the map centre');
      const hint = p.photo_hint;
      const usePhoto =
        hint && Number.isFinite(hint.lon) && Number.isFinite(hint.lat)
          ? el('button', { type: 'button', class: 'button secondary' }, 'Use the photo’s location')
          : null;
      const statusField = field('m-publish-as', 'Publish as', el('select', {}));
      setOptions(statusField.control, [['verified', 'Verified'], ['disputed', 'Disputed'], ['reported', 'Reported (unverified)']], 'verified');
      const noteField = field('m-note', 'Note for the audit log (not public)', el('input', { type: 'text', maxlength: '2000' }));
      const submit = el('button', { id: 'm-verify', type: 'submit', class: 'button' }, 'Verify and publish');
      const formError = el('p', { class: 'error', role: 'alert', hidden: true });
      const form = el(
        'form',
        { id: 'm-verify-form', class: 'sheet-form', novalidate: true },
        titleField.wrap,
        typeField.wrap,
        subField.wrap,
        whenField.wrap,
        fatalField.wrap,
        notesField.wrap,
        el(
          'fieldset',
          { class: 'group location', 'aria-describedby': 'm-point m-location-error' },
          el('legend', {}, 'Point'),
          el('p', { class: 'hint' }, 'Drag the marker on the map to move it, or pan the map and move it to the centre.'),
          pointOut,
          locationError,
          el('div', { class: 'actions' }, resetPoint, toCentre, usePhoto),
        ),
        statusField.wrap,
        noteField.wrap,
        formError,
        el('div', { class: 'actions' }, submit),
      );
      const fields = {
        title: titleField,
        event_type: typeField,
        sub_event_type: subField,
        occurred_at: whenField,
        fatalities: fatalField,
        notes: notesField,
        status: statusField,
        note: noteField,
        location: { error: locationError, control: null },
      };
      const api = {
        element: el('details', { class: 'action', open: true }, el('summary', {}, 'Verify'), form),
        claim: null,
        moveTo(ll, final) {
          const back = Math.abs(ll.lat - lat) < 1e-7 && Math.abs(wrapLng(ll.lng) - lon) < 1e-7;
          moved = back ? null : L.latLng(ll.lat, ll.lng);
          const d = distanceMetres([lon, lat], [wrapLng(ll.lng), ll.lat]);
          pointOut.textContent = moved
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
        api.claim?.setLatLng(moved || L.latLng(lat, lon));
      });
      usePhoto?.addEventListener('click', () => {
        api.moveTo(L.latLng(hint.lat, hint.lon), true);
        showOnMap();
      });
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        clearErrors(form, formError);
        const body = { title: titleField.control.value.trim() };
        const bad = titleProblem(body.title, p);
        if (bad) {
          showError(titleField.error, titleField.control, bad);
          titleField.control.focus();
          return;
        }
        if (taxonomy.type.value !== p.event_type || taxonomy.sub.value !== (p.sub_event_type || '')) {
          body.event_type = taxonomy.type.value;
          body.sub_event_type = taxonomy.sub.value;
        }
        if (whenField.control.value !== initialWhen) {
          const t = toRFC3339(whenField.control.value);
          if (!t) {
            showError(whenField.error, whenField.control, 'Enter a date and time.');
            whenField.control.focus();
            return;
          }
          body.occurred_at = t;
        }
        if (fatalField.control.value !== initialFatal) {
          if (fatalField.control.value === '' || fatalField.control.validity.badInput) {
            showError(fatalField.error, fatalField.control, 'Enter a whole number.');
            fatalField.control.focus();
            return;
          }
          body.fatalities = Number(fatalField.control.value);
        }
        if (notesField.control.value !== (p.description || '')) body.notes = notesField.control.value;
        if (moved) body.location = [round6(wrapLng(moved.lng)), round6(moved.lat)];
        if (statusField.control.value !== 'verified') body.status = statusField.control.value;
        if (noteField.control.value.trim()) body.note = noteField.control.value.trim();
        act(id, 'verify', body, { fields, formError, submit }, (res) => `Report #${id} verified: it is now incident #${res.incident_id}.`);
      });
      return api;
    }

    function mergeForm() {
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
          layer = L.layerGroup().addTo(review);
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
        act(id, 'verify', body, { fields, formError, submit }, () => `Report #${id} merged into incident #${chosen.value}.`);
      });
      return el('details', { class: 'action' }, el('summary', {}, 'Merge into an existing incident'), form);
    }

    function rejectForm() {
      const reasonField = field('m-reason', 'Reason (kept in the audit log, not public)', el('textarea', { rows: '3', maxlength: '2000' }));
      const submit = el('button', { id: 'm-reject', type: 'submit', class: 'button danger' }, 'Reject report');
      const formError = el('p', { class: 'error', role: 'alert', hidden: true });
      const form = el(
        'form',
        { id: 'm-reject-form', class: 'sheet-form', novalidate: true },
        reasonField.wrap,
        formError,
        el('div', { class: 'actions' }, submit),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        clearErrors(form, formError);
        const reason = reasonField.control.value.trim();
        if (!reason) {
          showError(reasonField.error, reasonField.control, 'Give a reason.');
          reasonField.control.focus();
          return;
        }
        act(id, 'reject', { reason }, { fields: { reason: reasonField }, formError, submit }, () => `Report #${id} rejected.`);
      });
      return el('details', { class: 'action' }, el('summary', {}, 'Reject'), form);
    }
  }

  /**
   * act posts a moderation action on report id. On success the report
   * leaves the queue and the queue comes back with message(result); field
   * errors go by their fields.
   */
  async function act(id, action, body, { fields, formError, submit }, message) {
    submit.disabled = true;
    status.textContent = 'Saving…';
    try {
      const res = await call(`/api/reports/${encodeURIComponent(id)}/${action}`, { method: 'POST', body });
      queue = queue.filter((r) => r.id !== id);
      status.textContent = '';
      const incident = res?.incident_id;
      const show = incident && el('button', { type: 'button', class: 'link-button' }, `Show incident #${incident}`);
      show?.addEventListener('click', () => openIncident(String(incident)));
      showQueue({ notice: el('p', { id: 'm-done', class: 'notice', role: 'status' }, message(res), show ? ' ' : '', show) });
      main.querySelector('#m-queue-heading')?.focus();
    } catch (err) {
      status.textContent = '';
      if (isSignedOut(err)) return;
      submit.disabled = false;
      if (err instanceof ApiError && err.status === 409) {
        queue = queue.filter((r) => r.id !== id);
        showQueue({ reload: true, notice: el('p', { class: 'notice', role: 'status' }, `Report #${id} was already moderated (by someone else?).`) });
        return;
      }
      let placed = 0;
      const general = [];
      for (const { field: name, message: text } of err.errors || []) {
        const target = fields[errorKey(name)];
        if (target) {
          showError(target.error, target.control, text);
          placed++;
        } else {
          general.push(`${name}: ${text}`);
        }
      }
      formError.textContent = placed && !general.length ? 'Please correct the fields marked above.' : [err.message, ...general].join(' ');
      formError.hidden = false;
      const bad = formError.closest('form').querySelector('[aria-invalid="true"]');
      bad?.focus();
    }
  }

  function photoHint(hint, claim) {
    if (!hint) return null;
    const parts = [];
    if (Number.isFinite(hint.lon) && Number.isFinite(hint.lat)) {
      const d = Number.isFinite(hint.distance_m) ? hint.distance_m : distanceMetres(claim, [hint.lon, hint.lat]);
      parts.push(
        el(
          'p',
          {},
          `Photo ${hint.photo || 1} was taken at ${formatLonLat(hint.lon, hint.lat)}, `,
          el('strong', { id: 'm-photo-distance' }, `${formatDistance(d)} from the reported point`),
          hint.point_agrees === false ? ': it does not agree with the report.' : ': it agrees with the report.',
        ),
      );
    }
    if (hint.taken_at) parts.push(el('p', {}, `Taken ${formatDateTime(hint.taken_at)} (by the photo’s own clock).`));
    if (!parts.length) return null;
    return el(
      'section',
      { class: `photo-hint ${hint.point_agrees === false ? 'disagrees' : ''}`, 'aria-labelledby': 'm-hint-heading' },
      el('h4', { id: 'm-hint-heading' }, 'What the photo says'),
      ...parts,
    );
  }

  function photoGallery(photos, reportId) {
    if (!photos.length) return el('p', { class: 'hint' }, 'No photos.');
    return el(
      'section',
      { class: 'photos', 'aria-label': 'Photos' },
      photos.map((ph) => {
        const n = ph.position;
        const img = el('img', { class: 'report-photo', alt: `Photo ${n} of report #${reportId}`, width: ph.width, height: ph.height });
        const caption = el(
          'figcaption',
          {},
          `Photo ${n} · ${ph.width}×${ph.height}`,
          Array.isArray(ph.gps) ? ` · taken at ${formatLonLat(ph.gps[0], ph.gps[1])}` : '',
        );
        const original = el('button', { type: 'button', class: 'link-button' }, 'Download the original (with its metadata)');
        original.addEventListener('click', () => downloadOriginal(ph, reportId));
        loadPhoto(ph.href, img, caption);
        return el('figure', { class: 'report-figure' }, img, caption, original);
      }),
    );
  }

  async function loadPhoto(href, img, caption) {
    const forReport = current;
    try {
      const blob = await fetchBlob(href, token);
      if (current !== forReport) return; // left meanwhile
      const url = URL.createObjectURL(blob);
      blobs.push(url);
      img.src = url;
    } catch (err) {
      if (isSignedOut(err)) {
        if (token) expired();
        return;
      }
      caption.append(el('span', { class: 'field-error' }, ` Cannot load the photo: ${err.message}`));
    }
  }

  async function downloadOriginal(ph, reportId) {
    try {
      const blob = await fetchBlob(ph.original_href, token);
      const url = URL.createObjectURL(blob);
      const a = el('a', { href: url, download: `report-${reportId}-photo-${ph.position}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      if (isSignedOut(err)) expired();
      else status.textContent = `Cannot download the original: ${err.message}`;
    }
  }

  function leaveReview() {
    current = null;
    review.clearLayers();
    review.remove();
    for (const url of blobs) URL.revokeObjectURL(url);
    blobs = [];
  }

  // --- history ---
  async function showAudit(incidentId) {
    leaveReview();
    setView('audit');
    const back = el('button', { type: 'button', class: 'link-button' }, '← Back to the queue');
    back.addEventListener('click', () => showQueue({ reload: true }));
    const title = el('h3', { id: 'm-audit-heading', tabindex: '-1' }, `History of incident #${incidentId}`);
    const info = el('p', { class: 'hint', role: 'status' }, 'Loading the history…');
    const list = el('ol', { id: 'm-audit', class: 'audit-list' });
    main.replaceChildren(back, title, info, list);
    title.focus();
    try {
      const doc = await call(`/api/incidents/${encodeURIComponent(incidentId)}/audit`);
      const entries = Array.isArray(doc?.entries) ? doc.entries : [];
      list.replaceChildren(...entries.map(auditEntry));
      info.textContent = entries.length ? `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, newest first.` : 'No history recorded.';
    } catch (err) {
      if (!isSignedOut(err)) info.textContent = `Cannot load the history: ${err.message}`;
    }
  }

  function auditEntry(e) {
    const changes = auditChanges(e.before, e.after);
    return el(
      'li',
      { class: 'audit-entry' },
      el('p', { class: 'audit-head' }, el('time', { datetime: e.at }, formatDateTime(e.at)), ` · ${e.user || 'unknown'} · ${e.action}`),
      e.note && el('p', { class: 'audit-note' }, e.note),
      changes.length > 0 && el('ul', { class: 'audit-changes' }, changes.map((c) => el('li', {}, c))),
    );
  }

  // --- shared ---
  function setView(view) {
    sheetEl.dataset.view = view;
  }

  function isSignedOut(err) {
    return err instanceof ApiError && err.status === 401;
  }

  function decoratePopup(content, feature) {
    if (!token || !content) return content;
    const history = el('button', { type: 'button', class: 'link-button popup-history' }, 'History (moderators)');
    history.addEventListener('click', () => {
      sheet.open();
      showAudit(String(feature.id));
    });
    content.append(el('p', { class: 'popup-moderation' }, history));
    mountClaimsEditor(content, feature, { call, reopen: () => openIncident(String(feature.id)) });
    return content;
  }

  signOutButton.hidden = !token;
  return {
    open: sheet.open,
    close: sheet.close,
    isOpen: sheet.isOpen,
    signedIn: () => Boolean(token),
    decoratePopup,
    showAudit(id) {
      sheet.open();
      if (token) showAudit(id);
    },
  };
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

/** photoPoints lists [position, [lon, lat]] of the photos that know where they were taken. */
function photoPoints(p) {
  const out = [];
  for (const ph of p.photos || []) {
    if (Array.isArray(ph.gps) && ph.gps.length === 2 && ph.gps.every(Number.isFinite)) out.push([ph.position, ph.gps]);
  }
  if (!out.length && Number.isFinite(p.photo_hint?.lon) && Number.isFinite(p.photo_hint?.lat)) {
    out.push([p.photo_hint.photo || 1, [p.photo_hint.lon, p.photo_hint.lat]]);
  }
  return out;
}

function clearErrors(form, formError) {
  for (const e of form.querySelectorAll('.field-error')) e.hidden = true;
  for (const c of form.querySelectorAll('[aria-invalid="true"]')) c.setAttribute('aria-invalid', 'false');
  formError.hidden = true;
}

function clip(s, n) {
  const text = String(s ?? '');
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}

function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || null;
  } catch {
    return null;
  }
}

function saveToken(t) {
  try {
    sessionStorage.setItem(TOKEN_KEY, t);
  } catch {
    // storage disabled: the token lives in memory for this page only
  }
}
