// An incident's audit history, newest first, as the moderation view shows it.

import { el } from '../dom.js';
import { auditChanges } from '../fields.js';
import { formatDateTime } from '../format.js';
import { isSignedOut } from './session.js';

/** createAudit returns { show(incidentId) }, which lists the incident's history in the view. */
export function createAudit(ctx) {
  async function show(incidentId) {
    const { main } = ctx;
    ctx.review.leave();
    ctx.setView('audit');
    const back = el('button', { type: 'button', class: 'link-button' }, '← Back to the queue');
    back.addEventListener('click', () => ctx.queue.show({ reload: true }));
    const title = el('h3', { id: 'm-audit-heading', tabindex: '-1' }, `History of incident #${incidentId}`);
    const info = el('p', { class: 'hint', role: 'status' }, 'Loading the history…');
    const list = el('ol', { id: 'm-audit', class: 'audit-list' });
    main.replaceChildren(back, title, info, list);
    title.focus();
    try {
      const doc = await ctx.session.call(`/api/incidents/${encodeURIComponent(incidentId)}/audit`);
      const entries = Array.isArray(doc?.entries) ? doc.entries : [];
      list.replaceChildren(...entries.map(auditEntry));
      info.textContent = entries.length ? `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, newest first.` : 'No history recorded.';
    } catch (err) {
      if (!isSignedOut(err)) info.textContent = `Cannot load the history: ${err.message}`;
    }
  }
  return { show };
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
