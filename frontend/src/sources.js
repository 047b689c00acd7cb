// An incident's sources as evidence, for its popup: each source as
// "Publisher — title (kind, published date)", linked only when its URL is
// http(s) (safeHref), with its archived copy, and how many independent
// publishers support the incident. Text only ever goes in as text.

import { el, safeHref } from './dom.js';

/** Words for the source kinds the API knows. */
export const SOURCE_KINDS = {
  official_statement: 'official statement',
  media: 'media',
  ngo: 'NGO',
  social_media: 'social media',
  eyewitness_report: 'eyewitness report',
  dataset: 'data set',
};

/**
 * sourceParts is what a source shows: label ("Publisher — title", else its
 * URL), href and archiveHref (null unless http(s)), and detail ("kind,
 * date" or ''). The first shape's name and date are read too.
 */
export function sourceParts(s) {
  const src = s && typeof s === 'object' ? s : {};
  const text = (v) => (typeof v === 'string' ? v.trim() : '');
  const publisher = text(src.publisher) || text(src.name);
  const title = text(src.title);
  const url = text(src.url);
  const label = [publisher, title].filter(Boolean).join(' — ') || url || 'source';
  const kind = SOURCE_KINDS[src.kind] || '';
  const published = text(src.published_at) || text(src.date);
  // The date as the source gave it (its own day, not converted).
  const date = /^\d{4}-\d{2}-\d{2}/.test(published) ? published.slice(0, 10) : '';
  const detail = [kind, date].filter(Boolean).join(', ');
  return { label, href: safeHref(url), archiveHref: safeHref(src.archive_url), sha256: text(src.sha256), detail };
}

/** independentText says how many independent sources support an incident. */
export function independentText(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  return n === 1 ? '1 independent source' : `${n} independent sources`;
}

function link(href, text, title) {
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer', title }, text);
}

/**
 * independentNode says how many independent sources support an incident,
 * for the popup's status line (it says how far the incident is
 * corroborated, and costs the popup no line of its own); null when the
 * count is unknown.
 */
export function independentNode(independent) {
  const count = independentText(independent);
  return count ? el('span', { class: 'independent-sources' }, count) : null;
}

/** sourcesContent is the popup's list of sources; null when there is none. */
export function sourcesContent(sources) {
  const list = Array.isArray(sources) ? sources : [];
  if (!list.length) return null;
  const items = list.map((s) => {
    const p = sourceParts(s);
    return el(
      'li',
      { class: 'source' },
      p.href ? link(p.href, p.label) : el('span', { class: 'source-label' }, p.label),
      p.detail ? ` (${p.detail})` : '',
      p.archiveHref ? [' · ', link(p.archiveHref, 'archived copy', p.sha256 ? `SHA-256 ${p.sha256}` : null)] : '',
    );
  });
  return el('ul', { class: 'sources' }, items);
}
