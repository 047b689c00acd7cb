// The review's reject form: a reason is required and kept in the audit log.

import { el } from '../dom.js';
import { field, showError } from '../form.js';
import { act, clearErrors } from './act.js';

/** rejectForm builds the collapsed "Reject" section for report id. */
export function rejectForm(ctx, id) {
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
    act(ctx, id, 'reject', { reason }, { fields: { reason: reasonField }, formError, submit }, () => `Report #${id} rejected.`);
  });
  return el('details', { class: 'action' }, el('summary', {}, 'Reject'), form);
}
