// The confirmation after a report is received: its number, a receipt to
// keep (copyable), and, when a photo says where it was taken, the offer to
// send a corrected report with the photo's location.

import { el } from '../dom.js';
import { formatLocalDateTime, formatLonLat, toRFC3339 } from '../fields.js';
import { formatDateTime, formatDistance } from '../format.js';
import { wrapLng } from '../geo.js';
import { createStatusCheck } from '../receipt.js';

/**
 * createReceipt builds the hidden confirmation section. onAnother() starts
 * a new report, onClose() closes the sheet, onCorrect(id, hint) reopens
 * the form with the photo's location. Returns { element, show(res, f) }.
 */
export function createReceipt({ onAnother, onClose, onCorrect }) {
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
  const statusCheck = createStatusCheck(); // the "check status" link (../receipt.js)
  const hintBox = el('div', { id: 'r-photo-hint', class: 'photo-hint' });
  const another = el('button', { type: 'button', class: 'button' }, 'Report another incident');
  const doneClose = el('button', { type: 'button', class: 'button secondary' }, 'Close');
  another.addEventListener('click', () => onAnother());
  doneClose.addEventListener('click', () => onClose());
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

  /** show fills the confirmation for result res of sending the fields f, and focuses its heading. */
  function show(res, f) {
    done.hidden = false;
    doneHeading.textContent = `Report #${res?.id} received`;
    doneMessage.textContent = `Your report #${res?.id} is pending review; it is not public until a moderator verifies it.`;
    showReceipt(res, f);
    const hint = photoHint(res);
    hintBox.replaceChildren(...hint);
    hintBox.hidden = hint.length === 0;
    doneHeading.focus();
  }

  /** showReceipt lists what the reporter may keep: the report's number, when it arrived and what was sent. */
  function showReceipt(res, f) {
    const point = f.location.point;
    const lines = [
      ['Report', `#${res?.id}`],
      ['Received', formatLocalDateTime(new Date())],
      ['Status', 'pending review (not public yet)'],
      ['Type', [f.taxonomy.type.value, f.taxonomy.sub.value].filter(Boolean).join(' — ')],
      ['When', formatLocalDateTime(new Date(toRFC3339(f.when.control.value)))],
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
    use.addEventListener('click', () => onCorrect(res.id, h));
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

  return { element: done, show };
}
