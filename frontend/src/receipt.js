// The "check status" part of a report's receipt: the link the server gave
// with the report (status_url: /api/reports/{id}/status?token=…, whose
// token only the reporter has), and a button that asks it. It says only
// what is public about a report: pending, published or not published.

import { absolute, getJSON } from './api.js';
import { el, safeHref } from './dom.js';

const STATUS_TEXT = {
  pending: 'pending review (not public yet)',
  published: 'published: a moderator verified it and it is on the map',
  not_published: 'not published',
};

/** statusText is the words for a public report status. */
export function statusText(status) {
  return STATUS_TEXT[status] || 'unknown';
}

/**
 * createStatusCheck returns { element, set(statusUrl), link() }: set shows
 * the link of a new receipt (or hides the check when there is none); link
 * is its absolute URL, for the receipt's text.
 */
export function createStatusCheck() {
  let url = '';
  const anchor = el('a', { id: 'r-status-link', rel: 'noreferrer' }, 'Status link');
  const button = el('button', { type: 'button', class: 'button secondary', id: 'r-check-status' }, 'Check status');
  const out = el('span', { id: 'r-receipt-status', class: 'hint', role: 'status' });
  const element = el('p', { class: 'receipt-status', hidden: true }, button, ' ', anchor, ' ', out);

  button.addEventListener('click', async () => {
    if (!url) return;
    out.textContent = ' Checking…';
    try {
      const body = await getJSON(url, { fresh: true });
      out.textContent = ` Status: ${statusText(body?.status)}.`;
    } catch (err) {
      out.textContent = ` Cannot check the status now: ${err?.message || err}`;
    }
  });

  return {
    element,
    set(statusUrl) {
      url = typeof statusUrl === 'string' && statusUrl.startsWith('/api/reports/') ? statusUrl : '';
      element.hidden = !url;
      out.textContent = '';
      const href = url ? safeHref(absolute(url)) : null;
      if (href) anchor.setAttribute('href', href);
      else anchor.removeAttribute('href');
    },
    link: () => (url ? absolute(url) : ''),
  };
}
