// Live updates: incidents created, changed and retracted elsewhere arrive
// as Server-Sent Events on /api/events, each carrying the incident's whole
// public GeoJSON Feature. main.js decides what they change on the map (with
// matchesFilters); this module keeps the stream open and says how it is.

import { el } from './dom.js';
import { plural } from './format.js';
import { DEFAULT_STATUSES } from './taxonomy.js';

/** The event types of /api/events. */
export const LIVE_EVENTS = ['incident.created', 'incident.updated', 'incident.retracted'];

const DAY_MS = 86400000;
const FIRST_RETRY_MS = 3000; // as the server's "retry:" field
const MAX_RETRY_MS = 60000;
const NOTICE_MS = 30000;

/**
 * matchesFilters says whether an incident feature passes the filter panel's
 * filters: true, false, or null when only the server can tell (full-text
 * search and distance to a border are computed in the database).
 * Retracted or deleted incidents fail unless retracted ones are asked for.
 */
export function matchesFilters(feature, filters) {
  const p = feature?.properties || {};
  if (feature?.geometry?.type !== 'Point' || !Array.isArray(feature.geometry.coordinates)) return false;
  if (!(filters.statuses || DEFAULT_STATUSES).includes(p.status)) return false;
  if (filters.types && !filters.types.includes(p.event_type)) return false;
  if (filters.from || filters.to) {
    const t = Date.parse(p.occurred_at);
    if (Number.isNaN(t)) return false;
    // Dates are whole UTC days, the last one included, as the API reads them.
    if (filters.from && t < Date.parse(`${filters.from}T00:00:00Z`)) return false;
    if (filters.to && t >= Date.parse(`${filters.to}T00:00:00Z`) + DAY_MS) return false;
  }
  if (filters.q || filters.border) return null;
  return true;
}

/**
 * connectEvents keeps an EventSource on url open. onEvent(type, feature)
 * gets every incident event; onState(state) is told 'live' once connected
 * and 'reconnecting' while the stream is down. The browser reconnects by
 * itself after a dropped stream (sending Last-Event-ID); when the server
 * refuses outright (503: too many live clients) EventSource gives up, and
 * this reconnects with backoff, resuming after the last event seen.
 * Returns { close() }.
 */
export function connectEvents({ onEvent, onState, url = '/api/events' }) {
  let source = null;
  let lastId = '';
  let timer = 0;
  let delay = FIRST_RETRY_MS;
  let stopped = false;

  function connect() {
    const es = new EventSource(lastId ? `${url}?last_event_id=${encodeURIComponent(lastId)}` : url);
    source = es;
    es.addEventListener('open', () => {
      delay = FIRST_RETRY_MS;
      onState('live');
    });
    es.addEventListener('error', () => {
      if (stopped || source !== es) return;
      onState('reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    });
    for (const type of LIVE_EVENTS) {
      es.addEventListener(type, (e) => {
        if (/^\d{1,19}$/.test(e.lastEventId)) lastId = e.lastEventId;
        let feature;
        try {
          feature = JSON.parse(e.data);
        } catch {
          console.warn(`incidentmap: unreadable ${type} event`, e.lastEventId);
          return;
        }
        if (feature && typeof feature === 'object' && feature.id !== undefined && feature.id !== null) {
          onEvent(type, feature);
        }
      });
    }
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}

/**
 * createLiveNotice adds to the map container a quiet notice of incidents
 * that arrived in view ("3 new incidents in view") and of a stream that is
 * down ("reconnecting…"). Both are polite live regions: announced, never
 * interrupting. Returns { count(n), clear(), setState(state) }.
 */
export function createLiveNotice(container) {
  const notice = el('p', { class: 'live-notice', role: 'status', 'aria-live': 'polite' });
  const state = el('p', { class: 'live-state', role: 'status', 'aria-live': 'polite' });
  container.append(el('div', { class: 'live-box' }, notice, state));
  let timer = 0;

  function clear() {
    clearTimeout(timer);
    notice.textContent = '';
  }

  return {
    count(n) {
      clearTimeout(timer);
      notice.textContent = n > 0 ? `${n} new ${plural(n, 'incident', 'incidents')} in view` : '';
      if (n > 0) timer = setTimeout(clear, NOTICE_MS);
    },
    clear,
    setState(s) {
      state.textContent = s === 'reconnecting' ? 'Live updates: reconnecting…' : '';
    },
  };
}
