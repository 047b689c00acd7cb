// A report's photos in the review: what their EXIF says about the place,
// and the gallery. Photos need the bearer token, so they are fetched as
// blobs and shown through blob: URLs (allowed by the page's img-src),
// revoked by the review when the report is left.

import { fetchBlob } from '../api.js';
import { el } from '../dom.js';
import { formatLonLat } from '../fields.js';
import { formatDateTime, formatDistance } from '../format.js';
import { distanceMetres } from '../geo.js';
import { isSignedOut } from './session.js';

/** photoHint says where and when the report's photo was taken, against claim [lon, lat]; null when it does not say. */
export function photoHint(hint, claim) {
  if (!hint) return null;
  const parts = [];
  if (Number.isFinite(hint.lon) && Number.isFinite(hint.lat)) {
    const d = Number.isFinite(hint.distance_m) ? hint.distance_m : distanceMetres(claim, [hint.lon, hint.lat]);
    parts.push(
      el(
        'p',
        {},
        `Photo ${hint.photo || 1} was taken at ${formatLonLat(hint.lon, hint.lat)}, `,
        el('strong', { id: 'm-photo-distance' }, `${formatDistance(d)} from the reported point`),
        hint.point_agrees === false ? ': it does not agree with the report.' : ': it agrees with the report.',
      ),
    );
  }
  if (hint.taken_at) parts.push(el('p', {}, `Taken ${formatDateTime(hint.taken_at)} (by the photo’s own clock).`));
  if (!parts.length) return null;
  return el(
    'section',
    { class: `photo-hint ${hint.point_agrees === false ? 'disagrees' : ''}`, 'aria-labelledby': 'm-hint-heading' },
    el('h4', { id: 'm-hint-heading' }, 'What the photo says'),
    ...parts,
  );
}

/**
 * photoGallery shows a report's photos. owner.stillShowing() tells whether
 * the report is still under review when a photo arrives; owner.keep(url)
 * hands over a blob: URL to revoke later.
 */
export function photoGallery(ctx, photos, reportId, owner) {
  if (!photos.length) return el('p', { class: 'hint' }, 'No photos.');
  return el(
    'section',
    { class: 'photos', 'aria-label': 'Photos' },
    photos.map((ph) => {
      const n = ph.position;
      const img = el('img', { class: 'report-photo', alt: `Photo ${n} of report #${reportId}`, width: ph.width, height: ph.height });
      const caption = el(
        'figcaption',
        {},
        `Photo ${n} · ${ph.width}×${ph.height}`,
        Array.isArray(ph.gps) ? ` · taken at ${formatLonLat(ph.gps[0], ph.gps[1])}` : '',
      );
      const original = el('button', { type: 'button', class: 'link-button' }, 'Download the original (with its metadata)');
      original.addEventListener('click', () => downloadOriginal(ctx, ph, reportId));
      loadPhoto(ctx, ph.href, img, caption, owner);
      return el('figure', { class: 'report-figure' }, img, caption, original);
    }),
  );
}

async function loadPhoto(ctx, href, img, caption, owner) {
  try {
    const blob = await fetchBlob(href, ctx.session.token);
    if (!owner.stillShowing()) return; // left meanwhile
    const url = URL.createObjectURL(blob);
    owner.keep(url);
    img.src = url;
  } catch (err) {
    if (isSignedOut(err)) {
      if (ctx.session.token) ctx.expired();
      return;
    }
    caption.append(el('span', { class: 'field-error' }, ` Cannot load the photo: ${err.message}`));
  }
}

async function downloadOriginal(ctx, ph, reportId) {
  try {
    const blob = await fetchBlob(ph.original_href, ctx.session.token);
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `report-${reportId}-photo-${ph.position}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    if (isSignedOut(err)) ctx.expired();
    else ctx.status.textContent = `Cannot download the original: ${err.message}`;
  }
}

/** photoPoints lists [position, [lon, lat]] of the photos that know where they were taken. */
export function photoPoints(p) {
  const out = [];
  for (const ph of p.photos || []) {
    if (Array.isArray(ph.gps) && ph.gps.length === 2 && ph.gps.every(Number.isFinite)) out.push([ph.position, ph.gps]);
  }
  if (!out.length && Number.isFinite(p.photo_hint?.lon) && Number.isFinite(p.photo_hint?.lat)) {
    out.push([p.photo_hint.photo || 1, [p.photo_hint.lon, p.photo_hint.lat]]);
  }
  return out;
}
