// Sending a report: POST /api/reports as multipart/form-data with an
// Idempotency-Key made once per filling of the form, so a retry after a
// lost connection can never store a report twice; what each failure means
// for the reporter (retry the same body, send as new, wait, fix fields).

import { ApiError, request } from '../api.js';
import { newIdempotencyKey, toRFC3339 } from '../fields.js';
import { showError } from '../form.js';
import { wrapLng } from '../geo.js';
import { sentence } from './validation.js';

/**
 * createSender wires the submit, retry and resend buttons of form. f holds
 * the fields, check the validation; onDone(result) is called once the
 * report is received. Returns { renewKey, reset }.
 */
export function createSender({ form, sheetEl, f, check, buttons: { submit, retry, resend }, status, onDone }) {
  let key = newIdempotencyKey();
  let unsure = null; // the body of a send whose fate is unknown, to retry as it was
  let sending = false;
  let retryTimer = 0;

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
      check.clearErrors();
      if (!check.checkLocally()) return;
      body = formBody();
    }
    sending = true;
    sheetEl.dataset.state = 'sending';
    submit.disabled = true;
    retry.hidden = resend.hidden = true;
    clearTimeout(retryTimer);
    check.setFormError('');
    status.textContent = f.photos.files().length ? 'Sending the report and its photos…' : 'Sending the report…';
    try {
      const res = await request('/api/reports', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      unsure = null;
      status.textContent = '';
      onDone(res);
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
    const setFormError = check.setFormError;
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
        if (check.showFieldErrors(err.errors)) return;
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
          showError(f.photos.field.error, f.photos.field.control, sentence(err.message));
          f.photos.field.control.focus();
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

  function formBody() {
    const point = f.location.point;
    const fd = new FormData();
    fd.set('lon', wrapLng(point.lng).toFixed(6));
    fd.set('lat', point.lat.toFixed(6));
    fd.set('occurred_at', toRFC3339(f.when.control.value));
    fd.set('event_type', f.taxonomy.type.value);
    if (f.taxonomy.sub.value) fd.set('sub_event_type', f.taxonomy.sub.value);
    fd.set('description', f.description.control.value.trim());
    if (f.locationName.control.value.trim()) fd.set('location_name', f.locationName.control.value.trim());
    fd.set('geo_precision', f.precision.control.value);
    if (f.fatalities.control.value !== '') fd.set('fatalities', f.fatalities.control.value);
    for (const u of f.sources.markSent()) fd.append('source_url', u);
    if (f.contact.control.value.trim()) fd.set('contact', f.contact.control.value.trim());
    for (const file of f.photos.files()) fd.append('photo', file, file.name);
    return fd;
  }

  return {
    /** renewKey starts a new report: whatever comes next is not a retry of the last. */
    renewKey() {
      key = newIdempotencyKey();
    },
    /** reset forgets an unsure send and hides its buttons. */
    reset() {
      unsure = null;
      retry.hidden = resend.hidden = true;
      key = newIdempotencyKey();
    },
  };
}
