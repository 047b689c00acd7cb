// Posting a moderation action on a report (verify, merge, reject) and
// showing its outcome: back to the queue on success, errors by their fields.

import { ApiError } from '../api.js';
import { el } from '../dom.js';
import { errorKey } from '../fields.js';
import { showError } from '../form.js';
import { isSignedOut } from './session.js';

/**
 * act posts a moderation action on report id. On success the report
 * leaves the queue and the queue comes back with message(result); field
 * errors go by their fields.
 */
export async function act(ctx, id, action, body, { fields, formError, submit }, message) {
  const { main, status } = ctx;
  submit.disabled = true;
  status.textContent = 'Saving…';
  try {
    const res = await ctx.session.call(`/api/reports/${encodeURIComponent(id)}/${action}`, { method: 'POST', body });
    ctx.queue.drop(id);
    status.textContent = '';
    const incident = res?.incident_id;
    const show = incident && el('button', { type: 'button', class: 'link-button' }, `Show incident #${incident}`);
    show?.addEventListener('click', () => ctx.openIncident(String(incident)));
    ctx.queue.show({ notice: el('p', { id: 'm-done', class: 'notice', role: 'status' }, message(res), show ? ' ' : '', show) });
    main.querySelector('#m-queue-heading')?.focus();
  } catch (err) {
    status.textContent = '';
    if (isSignedOut(err)) return;
    submit.disabled = false;
    if (err instanceof ApiError && err.status === 409) {
      ctx.queue.drop(id);
      ctx.queue.show({ reload: true, notice: el('p', { class: 'notice', role: 'status' }, `Report #${id} was already moderated (by someone else?).`) });
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

/** clearErrors hides a form's field errors and its general error before it is sent again. */
export function clearErrors(form, formError) {
  for (const e of form.querySelectorAll('.field-error')) e.hidden = true;
  for (const c of form.querySelectorAll('[aria-invalid="true"]')) c.setAttribute('aria-invalid', 'false');
  formError.hidden = true;
}
