// The moderation view: moderators sign in with their token (kept in this
// tab's sessionStorage only), work through the queue of pending reports —
// each shown on the main map with its photos, its reporter's private
// contact and where its photos say they were taken — and verify (with
// corrections, moving the point by dragging it), merge into a nearby
// incident, or reject them. It also shows an incident's audit history,
// linked from the incident's popup while signed in.
//
// This file builds the sheet and ties the parts together; each part is a
// module under moderation/: session (token), signin, queue, review (with
// verify, merge, reject, photos, act), candidates (possible duplicates),
// audit. They share one context
// object, ctx, that holds the sheet's elements and the parts themselves.

import { mountClaimsEditor } from './claims.js';
import { el } from './dom.js';
import { createAudit } from './moderation/audit.js';
import { incidentCandidatesLink, reportCandidates } from './moderation/candidates.js';
import { createQueue } from './moderation/queue.js';
import { createReview } from './moderation/review.js';
import { createSession } from './moderation/session.js';
import { createSignIn } from './moderation/signin.js';
import { createSheet } from './sheet.js';

/**
 * createModeration builds the moderation sheet inside sheetEl and wires the
 * button that opens it. openIncident(id) shows an incident on the map;
 * onChange() is called when the sheet opens or closes or the moderator
 * signs in or out. Returns { open, close, isOpen, signedIn, decoratePopup, showAudit }.
 */
export function createModeration({ map, sheetEl, button, openIncident, onChange = () => {} }) {
  const heading = el('h2', { id: 'moderation-heading', class: 'sheet-heading' }, 'Moderation');
  const signOutButton = el('button', { id: 'm-sign-out', type: 'button', class: 'button secondary' }, 'Sign out');
  const closeButton = el('button', { type: 'button', class: 'button secondary sheet-close' }, 'Close');
  const status = el('p', { id: 'm-status', class: 'hint', role: 'status' });
  const main = el('div', { class: 'moderation-body' });
  sheetEl.append(el('div', { class: 'sheet-header' }, heading, signOutButton, closeButton), status, main);

  const ctx = {
    map,
    sheetEl,
    main,
    status,
    signOutButton,
    openIncident,
    onChange,
    setView(view) {
      sheetEl.dataset.view = view;
    },
    /** expired signs out after the server refused the token (revoked, or a new database). */
    expired() {
      signOut('', 'Your session has ended: the token is no longer accepted. Sign in again.');
    },
  };
  ctx.session = createSession({ onExpired: () => ctx.expired() });
  ctx.signIn = createSignIn(ctx);
  ctx.queue = createQueue(ctx);
  ctx.review = createReview(ctx);
  ctx.audit = createAudit(ctx);
  ctx.review.extend(reportCandidates);

  const sheet = createSheet(sheetEl, {
    map,
    heading,
    button,
    onOpen() {
      if (ctx.session.token) ctx.queue.show({ reload: true });
      else ctx.signIn.show();
      onChange();
    },
    onClose() {
      ctx.review.leave();
      onChange();
    },
  });
  ctx.sheet = sheet;
  closeButton.addEventListener('click', () => sheet.close());
  signOutButton.addEventListener('click', () => signOut('You are signed out.'));

  function signOut(message, alert = '') {
    ctx.session.end();
    ctx.queue.reset();
    status.textContent = message;
    onChange();
    ctx.signIn.show(alert);
  }

  // Parts that add to an incident's popup while signed in: fn(feature, ctx) returns a node or null.
  const claimsEditor = (feature) => {
    const holder = el('div');
    mountClaimsEditor(holder, feature, { call: (url, opts) => ctx.session.call(url, opts), reopen: () => openIncident(String(feature.id)) });
    return holder;
  };
  const popupParts = [claimsEditor, incidentCandidatesLink];

  function decoratePopup(content, feature) {
    if (!ctx.session.token || !content) return content;
    const history = el('button', { type: 'button', class: 'link-button popup-history' }, 'History (moderators)');
    history.addEventListener('click', () => {
      sheet.open();
      ctx.audit.show(String(feature.id));
    });
    content.append(el('p', { class: 'popup-moderation' }, history));
    for (const part of popupParts) {
      const node = part(feature, ctx);
      if (node) content.append(node);
    }
    return content;
  }

  signOutButton.hidden = !ctx.session.token;
  return {
    open: sheet.open,
    close: sheet.close,
    isOpen: sheet.isOpen,
    signedIn: () => ctx.session.signedIn(),
    decoratePopup,
    showAudit(id) {
      sheet.open();
      if (ctx.session.token) ctx.audit.show(id);
    },
  };
}
