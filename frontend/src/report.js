// The report form: anyone may report an incident. The point is placed on
// the map (click, or drag the marker), from a place search, from the
// browser's location or at the map's centre; the rest are form fields.
// Reports go to POST /api/reports as multipart/form-data with an
// Idempotency-Key made once per filling of the form, so a retry after a
// lost connection can never store a report twice. The API's field errors
// are shown by the fields they are about.
//
// This file lays out the sheet and ties the parts together; each part is a
// module under report/: location (with places, the search), details (the
// other fields), sources, photos, validation (messages), send
// (submission and idempotency), receipt (the confirmation).

import L from 'leaflet';
import { el } from './dom.js';
import { localInputValue } from './fields.js';
import { createSheet } from './sheet.js';
import { createDetails } from './report/details.js';
import { createLocation } from './report/location.js';
import { createPhotos } from './report/photos.js';
import { createReceipt } from './report/receipt.js';
import { createSender } from './report/send.js';
import { createSources } from './report/sources.js';
import { createValidation } from './report/validation.js';

export { pinIcon } from './pin.js';

/**
 * createReportForm builds the report sheet inside sheetEl and wires the
 * button that opens it. Returns the sheet ({ open, close, isOpen, ... }).
 */
export function createReportForm({ map, sheetEl, button }) {
  let submitted = false;

  const heading = el('h2', { id: 'report-heading', class: 'sheet-heading' }, 'Report an incident');
  const closeButton = el('button', { type: 'button', class: 'button secondary sheet-close' }, 'Close');

  const details = createDetails();
  const f = {
    ...details,
    location: createLocation({
      map,
      sheetEl,
      isOpen: () => sheet.isOpen(),
      accepting: () => sheet.isOpen() && !form.hidden,
      precision: details.precision,
      locationName: details.locationName,
    }),
    sources: createSources(),
    photos: createPhotos(),
  };

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
    f.location.element,
    f.when.wrap,
    f.type.wrap,
    f.sub.wrap,
    f.description.wrap,
    f.locationName.wrap,
    f.precision.wrap,
    f.fatalities.wrap,
    f.sources.element,
    f.contact.wrap,
    f.photos.field.wrap,
    formError,
    el('div', { class: 'actions' }, submit, retry, resend),
    status,
  );

  const receipt = createReceipt({
    onAnother() {
      reset();
      heading.focus();
    },
    onClose: () => sheet.close(),
    onCorrect: correctFromPhoto,
  });

  sheetEl.append(el('div', { class: 'sheet-header' }, heading, closeButton), form, receipt.element);

  const sheet = createSheet(sheetEl, {
    map,
    heading,
    button,
    onOpen() {
      if (submitted) reset();
      if (!f.when.control.value) f.when.control.value = localInputValue(new Date());
      f.location.show();
    },
    onClose() {
      f.location.hide();
    },
  });
  closeButton.addEventListener('click', () => sheet.close());

  const check = createValidation({ form, formError, f });
  const sender = createSender({ form, sheetEl, f, check, buttons: { submit, retry, resend }, status, onDone: showDone });

  function showDone(res) {
    submitted = true;
    sender.renewKey(); // whatever comes next is another report
    f.location.remove();
    form.hidden = true;
    sheetEl.dataset.state = 'done';
    sheetEl.dataset.reportId = String(res?.id ?? '');
    receipt.show(res, f);
  }

  /**
   * correctFromPhoto reopens the form as it was sent, with the photo's
   * location (and time), as a new report that says which one it corrects.
   */
  function correctFromPhoto(id, h) {
    submitted = false;
    receipt.element.hidden = true;
    form.hidden = false;
    sheetEl.dataset.state = 'form';
    f.location.setPoint(L.latLng(h.lat, h.lon), { show: true });
    if (h.taken_at) f.when.control.value = localInputValue(new Date(h.taken_at));
    const prefix = `Correction of report #${id}: `;
    if (!f.description.control.value.startsWith(prefix)) f.description.control.value = prefix + f.description.control.value;
    correction.textContent = `This sends a new report correcting #${id} with the photo’s location${h.taken_at ? ' and time' : ''}. Check it, then send it.`;
    correction.hidden = false;
    heading.focus();
  }

  function reset() {
    submitted = false;
    form.reset();
    f.when.control.value = localInputValue(new Date());
    f.taxonomy.set('', '');
    f.precision.control.value = '1';
    f.sources.reset();
    f.photos.reset();
    f.location.reset();
    check.clearErrors();
    correction.hidden = true;
    sender.reset();
    receipt.element.hidden = true;
    form.hidden = false;
    sheetEl.dataset.state = 'form';
  }

  sheetEl.dataset.state = 'form';
  return sheet;
}
