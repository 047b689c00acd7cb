// The filter panel: dates, event types, statuses, free text and distance to
// a border. Filters are sent to the server (they decide what is loaded);
// the timeline window (timeline.js) is applied on top, in the browser.

import { byId, debounce, el } from './dom.js';
import { DEFAULT_STATUSES, EVENT_TYPES, STATUSES } from './taxonomy.js';

/**
 * Filters: from/to are "YYYY-MM-DD" or ''; types and statuses are lists,
 * or null for the default (every event type; every status but retracted);
 * q is text; border is a distance in km as typed, or ''.
 */
export function defaultFilters() {
  return { from: '', to: '', types: null, statuses: null, q: '', border: '' };
}

/** sameFilters reports whether two filter sets select the same incidents. */
export function sameFilters(a, b) {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

function normalise(f) {
  return { ...f, types: f.types && [...f.types].sort(), statuses: f.statuses && [...f.statuses].sort() };
}

/** selectsNothing: an empty type or status list matches no incident, so nothing is fetched. */
export function selectsNothing(f) {
  return (f.types && f.types.length === 0) || (f.statuses && f.statuses.length === 0);
}

/**
 * incidentParams turns filters into the query parameters of the incidents
 * items endpoint. range overrides the from/to dates (the timeline window).
 */
export function incidentParams(f, range = null) {
  const p = new URLSearchParams();
  const from = range ? range.from : f.from;
  const to = range ? range.to : f.to;
  if (from || to) p.set('datetime', `${from || '..'}/${to || '..'}`);
  if (f.types && f.types.length) p.set('event_type', f.types.join(','));
  if (f.statuses && f.statuses.length) p.set('status', f.statuses.join(','));
  if (f.q) p.set('q', f.q);
  if (f.border) p.set('near_border_km', f.border);
  return p;
}

/**
 * createFilterPanel wires the filter form in index.html and builds its
 * checkboxes. onChange(filters) is called after each effective change.
 * Returns { get(), set(filters) }.
 */
export function createFilterPanel(onChange) {
  const form = byId('filters');
  const from = byId('f-from');
  const to = byId('f-to');
  const q = byId('f-q');
  const border = byId('f-border');
  const dateError = byId('f-date-error');

  const typeBoxes = EVENT_TYPES.map((t, i) =>
    checkbox(byId('f-types'), `f-type-${i}`, t.name, t.name, `symbol ${t.cls}`),
  );
  const statusBoxes = STATUSES.map((s) =>
    checkbox(byId('f-statuses'), `f-status-${s.name}`, s.name, s.label, `symbol type-other status-${s.name}`),
  );

  let current = defaultFilters();

  function read() {
    const types = typeBoxes.filter((b) => b.checked).map((b) => b.value);
    const statuses = statusBoxes.filter((b) => b.checked).map((b) => b.value);
    const km = Number(border.value);
    return {
      from: from.value,
      to: to.value,
      types: types.length === EVENT_TYPES.length ? null : types,
      statuses: sameList(statuses, DEFAULT_STATUSES) ? null : statuses,
      q: q.value.trim().slice(0, 200),
      border: border.value !== '' && km > 0 && km <= 1000 ? String(km) : '',
    };
  }

  function datesValid() {
    const ok = !from.value || !to.value || from.value <= to.value;
    to.setAttribute('aria-invalid', String(!ok));
    dateError.hidden = ok;
    return ok;
  }

  /**
   * datesComplete: while a year is being typed, a date input holds years
   * such as 0002 (out of its min..max range): nothing is sent until it is whole.
   */
  function datesComplete() {
    return from.validity.valid && to.validity.valid;
  }

  function changed() {
    if (!datesComplete() || !datesValid()) return;
    const next = read();
    if (sameFilters(next, current)) return;
    current = next;
    onChange(current);
  }
  const changedSoon = debounce(changed, 400); // while typing

  form.addEventListener('change', (e) => (e.target === q ? changedSoon() : changed()));
  q.addEventListener('input', changedSoon);
  form.addEventListener('submit', (e) => {
    e.preventDefault(); // Enter in the search box applies at once
    changedSoon.cancel();
    changed();
  });
  form.addEventListener('reset', (e) => {
    e.preventDefault(); // set() restores the defaults, which are not the markup's
    changedSoon.cancel();
    const before = current;
    set(defaultFilters());
    if (!sameFilters(before, current)) onChange(current);
  });

  function set(f) {
    current = { ...defaultFilters(), ...f };
    from.value = current.from;
    to.value = current.to;
    q.value = current.q;
    border.value = current.border;
    for (const b of typeBoxes) b.checked = !current.types || current.types.includes(b.value);
    const statuses = current.statuses || DEFAULT_STATUSES;
    for (const b of statusBoxes) b.checked = statuses.includes(b.value);
    current = read(); // canonical form: drops unknown types and statuses
    datesValid();
  }

  set(current);
  return { get: () => current, set };
}

function checkbox(parent, id, value, label, symbolClass) {
  const input = el('input', { type: 'checkbox', id, value });
  parent.append(
    el('div', { class: 'check' }, input, el('label', { for: id }, el('span', { class: symbolClass, 'aria-hidden': 'true' }), label)),
  );
  return input;
}

function sameList(a, b) {
  return a.length === b.length && a.every((x) => b.includes(x));
}
