// The queue of pending reports, paged, as cards that open a report's review.

import { request, sameOrigin } from '../api.js';
import { el } from '../dom.js';
import { formatLonLat } from '../fields.js';
import { formatDateTime } from '../format.js';
import { isSignedOut } from './session.js';

const QUEUE_PAGE = 50;

/** createQueue returns { load, show, drop, reset } over the list of pending reports. */
export function createQueue(ctx) {
  let queue = [];
  let nextPage = null;

  /** load reads the first page (or, with more, the next) as token t. */
  async function load(t = ctx.session.token, { more = false } = {}) {
    const url = more && nextPage ? nextPage : `/api/reports?status=pending&limit=${QUEUE_PAGE}`;
    const fc = await request(url, { token: t });
    const features = Array.isArray(fc?.features) ? fc.features : [];
    queue = more ? [...queue, ...features.filter((f) => !queue.some((q) => q.id === f.id))] : features;
    const next = (fc?.links || []).find((l) => l.rel === 'next');
    nextPage = next ? sameOrigin(next.href) : null;
  }

  async function show({ reload = false, notice = null } = {}) {
    const { main, status, sheetEl } = ctx;
    ctx.review.leave();
    ctx.setView('queue');
    ctx.signOutButton.hidden = false;
    const list = el('ul', { id: 'm-queue', class: 'report-queue' });
    const count = el('p', { class: 'hint', id: 'm-queue-count' });
    const refresh = el('button', { type: 'button', class: 'button secondary' }, 'Refresh');
    const more = el('button', { type: 'button', class: 'button secondary', hidden: true }, 'Load more');
    const title = el('h3', { id: 'm-queue-heading', tabindex: '-1' }, 'Pending reports');
    main.replaceChildren(notice || '', title, el('div', { class: 'actions' }, refresh), count, list, more);
    refresh.addEventListener('click', () => show({ reload: true }));
    more.addEventListener('click', async () => {
      more.disabled = true;
      try {
        await load(ctx.session.token, { more: true });
        render();
      } catch (err) {
        if (isSignedOut(err)) ctx.expired();
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
        await load();
      } catch (err) {
        if (isSignedOut(err)) ctx.expired();
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
    open.addEventListener('click', () => ctx.review.show(report));
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

  return {
    load,
    show,
    /** drop removes report id from the queue (it was moderated). */
    drop(id) {
      queue = queue.filter((r) => r.id !== id);
    },
    /** reset forgets the queue (signed out). */
    reset() {
      queue = [];
      nextPage = null;
    },
  };
}

function clip(s, n) {
  const text = String(s ?? '');
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
