// "Possible duplicates / corroborating": the pending reports and public
// incidents near a report under review or an incident (within the server's
// window, default 5 km and 24 h), nearest first, each with what one click
// can do with it after a confirmation: merge the report into an incident,
// or fold a duplicate incident into the one whose popup is open.

import { ApiError } from '../api.js';
import { el } from '../dom.js';
import { formatDateTime } from '../format.js';
import { isSignedOut } from './session.js';

/** reportCandidates is the review's section for report (loads itself). */
export function reportCandidates(report, ctx) {
  const id = report.id;
  const view = candidateView('m-corroboration', 'h4');
  async function load() {
    view.status.textContent = 'Looking for reports and incidents nearby…';
    let doc;
    try {
      doc = await ctx.session.call(`/api/reports/${encodeURIComponent(id)}/candidates`);
    } catch (err) {
      if (!isSignedOut(err)) view.status.textContent = `Cannot look for duplicates: ${err.message}`;
      return;
    }
    view.show(doc, (c) =>
      c.kind === 'incident'
        ? confirming(view, {
            label: 'Merge',
            aria: `Merge report #${id} into incident #${c.id}`,
            question: `Merge report #${id} into incident #${c.id}? The report is verified into it and its links become the incident’s sources.`,
            async run(note) {
              await ctx.session.call(`/api/reports/${encodeURIComponent(id)}/merge`, {
                method: 'POST',
                body: withNote({ incident_id: c.id, version: c.version }, note),
              });
              ctx.queue.drop(id);
              const show = el('button', { type: 'button', class: 'link-button' }, `Show incident #${c.id}`);
              show.addEventListener('click', () => ctx.openIncident(String(c.id)));
              ctx.queue.show({ notice: el('p', { id: 'm-done', class: 'notice', role: 'status' }, `Report #${id} merged into incident #${c.id}.`, ' ', show) });
              ctx.main.querySelector('#m-queue-heading')?.focus();
            },
            reload: load,
          })
        : reviewButton(ctx, c),
    );
  }
  load();
  return view.element;
}

/**
 * incidentCandidatesLink is the part of an incident's popup for
 * moderators: it opens the incident's candidates in the moderation sheet,
 * where there is room for the list and its confirmations.
 */
export function incidentCandidatesLink(feature, ctx) {
  const open = el('button', { type: 'button', class: 'link-button popup-duplicates' }, 'Possible duplicates / corroborating');
  open.addEventListener('click', () => {
    ctx.sheet.open();
    showIncidentCandidates(ctx, String(feature.id), feature.properties?.title);
  });
  return el('p', { class: 'popup-moderation-more' }, open);
}

/** showIncidentCandidates puts incident id's candidates in the moderation sheet. */
export function showIncidentCandidates(ctx, id, name = '') {
  ctx.review.leave();
  ctx.setView('duplicates');
  const back = el('button', { type: 'button', class: 'link-button' }, '← Back to the queue');
  back.addEventListener('click', () => ctx.queue.show({ reload: true }));
  const title = el('h3', { id: 'm-duplicates-heading', tabindex: '-1' }, name ? `Incident #${id}: ${name}` : `Incident #${id}`);
  const view = candidateView('m-corroboration', 'h4');
  ctx.main.replaceChildren(back, title, view.element);
  title.focus();
  let version = 0;
  async function load() {
    view.status.textContent = 'Looking for reports and incidents nearby…';
    let doc;
    try {
      doc = await ctx.session.call(`/api/incidents/${encodeURIComponent(id)}/candidates`);
    } catch (err) {
      if (!isSignedOut(err)) view.status.textContent = `Cannot look for duplicates: ${err.message}`;
      return;
    }
    if (!ctx.main.contains(view.element)) return; // left meanwhile
    version = doc?.version || 0;
    view.show(doc, (c) =>
      confirming(view, {
        label: 'Merge',
        aria: c.kind === 'report' ? `Merge report #${c.id} into incident #${id}` : `Merge incident #${c.id} into incident #${id} as its duplicate`,
        question:
          c.kind === 'report'
            ? `Merge report #${c.id} into incident #${id}? The report is verified into it and its links become its sources.`
            : `Merge incident #${c.id} into incident #${id}? #${c.id} is retracted as its duplicate and its sources are added to #${id}.`,
        async run(note) {
          if (c.kind === 'report') {
            await ctx.session.call(`/api/reports/${encodeURIComponent(c.id)}/merge`, {
              method: 'POST',
              body: withNote({ incident_id: Number(id), version }, note),
            });
            ctx.queue.drop(c.id);
          } else {
            await ctx.session.call(`/api/incidents/${encodeURIComponent(id)}/merge`, {
              method: 'POST',
              body: withNote({ duplicate_id: c.id, version }, note),
            });
          }
          await load();
          view.status.textContent = `${c.kind === 'report' ? 'Report' : 'Incident'} #${c.id} merged into incident #${id}. ${view.status.textContent}`;
        },
        reload: load,
      }),
    );
  }
  load();
}

/** candidateView is the heading, status line and list that both places share. */
function candidateView(id, level) {
  const heading = el(level, {}, 'Possible duplicates / corroborating');
  const status = el('p', { class: 'hint', role: 'status' });
  const list = el('ul', { class: 'corroboration-list' });
  const element = el('section', { ...(id ? { id } : {}), class: 'corroboration', 'aria-label': 'Possible duplicates / corroborating' }, heading, status, list);
  return {
    element,
    heading,
    status,
    list,
    /** show lists doc.candidates; action(c) makes each one's controls. */
    show(doc, action) {
      const found = Array.isArray(doc?.candidates) ? doc.candidates : [];
      list.replaceChildren(...found.map((c) => candidateItem(c, action(c))));
      status.textContent = found.length
        ? `${found.length} within ${doc.km} km and ${doc.hours} h, nearest first.`
        : `Nothing within ${doc?.km} km and ${doc?.hours} h.`;
    },
  };
}

function candidateItem(c, actions) {
  const { what, meta } = candidateText(c);
  return el(
    'li',
    { class: 'corroboration-item', 'data-kind': c.kind, 'data-id': c.id },
    el('span', { class: 'corroboration-what' }, what),
    el('span', { class: 'corroboration-meta' }, meta),
    el('span', { class: 'corroboration-actions' }, actions),
  );
}

/** candidateText is what a candidate's line says: { what, meta }, e.g. "2.0 km away · 3 h apart · pending · …". */
export function candidateText(c) {
  const what = `${c.kind === 'report' ? 'Report' : 'Incident'} #${c.id}: ${c.title || '(untitled)'}`;
  const meta = `${km(c.distance_m)} km away · ${hoursApart(c.hours_apart)} apart · ${c.status} · ${formatDateTime(c.occurred_at)}`;
  return { what, meta };
}

/** withNote adds the moderator's audit note to a merge body when there is one. */
function withNote(body, note) {
  return note ? { ...body, note } : body;
}

let confirmations = 0; // ids for the note fields of open confirmations

/**
 * confirming is a Merge button that first asks: question, with an optional
 * note for the audit log, then "Confirm merge" runs run(note). A conflict
 * (the item changed or was decided meanwhile) says why and reloads the
 * list.
 */
function confirming(view, { label, aria, question, run, reload }) {
  const button = el('button', { type: 'button', class: 'button secondary', 'aria-label': aria }, label);
  const wrap = el('span', {}, button);
  button.addEventListener('click', () => {
    const noteId = `m-merge-note-${++confirmations}`;
    const note = el('input', { type: 'text', id: noteId, class: 'corroboration-note', maxlength: '2000' });
    const noteField = el('span', { class: 'corroboration-note-field' }, el('label', { for: noteId }, 'Note for the audit log (not public)'), ' ', note);
    const confirm = el('button', { type: 'button', class: 'button corroboration-confirm' }, 'Confirm merge');
    const cancel = el('button', { type: 'button', class: 'button secondary' }, 'Cancel');
    cancel.addEventListener('click', () => {
      wrap.replaceChildren(button);
      button.focus();
    });
    confirm.addEventListener('click', async () => {
      confirm.disabled = cancel.disabled = true;
      view.status.textContent = 'Merging…';
      try {
        await run(note.value.trim());
      } catch (err) {
        if (isSignedOut(err)) return;
        await reload();
        view.status.textContent =
          err instanceof ApiError && err.status === 409 ? `Not merged: ${err.message}.` : `Cannot merge: ${err.message}`;
      }
    });
    wrap.replaceChildren(el('span', { class: 'corroboration-question' }, question), ' ', noteField, ' ', confirm, ' ', cancel);
    confirm.focus();
  });
  return wrap;
}

function reviewButton(ctx, c) {
  const button = el('button', { type: 'button', class: 'button secondary', 'aria-label': `Review report #${c.id}` }, 'Review');
  button.addEventListener('click', () => ctx.review.show({ id: c.id }));
  return button;
}

function km(metres) {
  return (Number(metres) / 1000).toFixed(1);
}

function hoursApart(h) {
  const n = Number(h);
  if (n < 1) return `${Math.round(n * 60)} min`;
  return `${n < 10 ? n.toFixed(1).replace(/\.0$/, '') : Math.round(n)} h`;
}
