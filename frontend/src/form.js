// Form building blocks for the report and moderation sheets: a labelled
// control with its hint and its error message (tied together with
// aria-describedby), selects of the event taxonomy, and showing errors.

import { el } from './dom.js';
import { EVENT_TYPES, SUB_EVENT_TYPES } from './taxonomy.js';

/**
 * field wraps control (which gets the id) with a label, an optional hint
 * and an error slot. Returns { wrap, control, error }.
 */
export function field(id, label, control, { hint = null, className = 'field' } = {}) {
  control.id = id;
  const hintEl = hint ? el('p', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  const error = errorSlot(`${id}-error`);
  control.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
  const wrap = el('div', { class: className }, el('label', { for: id }, label), hintEl, control, error);
  return { wrap, control, error };
}

/** errorSlot is an empty, hidden error message. */
export function errorSlot(id) {
  return el('p', { id, class: 'field-error', hidden: true });
}

/**
 * showError puts message ('' clears it) in an error slot and marks the
 * controls invalid or valid.
 */
export function showError(error, controls, message) {
  error.textContent = message || '';
  error.hidden = !message;
  for (const c of [controls].flat()) {
    if (c) c.setAttribute('aria-invalid', String(Boolean(message)));
  }
}

/** options fills a select with [value, label] pairs and selects value. */
export function setOptions(select, pairs, value = '') {
  select.replaceChildren(...pairs.map(([v, text]) => el('option', { value: v }, text)));
  select.value = pairs.some(([v]) => v === value) ? value : pairs[0]?.[0] ?? '';
}

/**
 * taxonomySelects makes the event type and sub-type selects; the sub-types
 * follow the type. firstType is the label of the empty type option, or null
 * for none. Returns { type, sub, set(type, sub) }.
 */
export function taxonomySelects({ firstType = 'Choose a type…' } = {}) {
  const type = el('select', {});
  const sub = el('select', {});
  const types = EVENT_TYPES.map((t) => [t.name, t.name]);
  setOptions(type, firstType ? [['', firstType], ...types] : types);
  function fillSub(value = '') {
    const subs = SUB_EVENT_TYPES[type.value] || [];
    setOptions(sub, [['', subs.length ? 'Not sure / none' : 'Choose a type first'], ...subs.map((s) => [s, s])], value);
    sub.disabled = subs.length === 0;
  }
  type.addEventListener('change', () => fillSub());
  fillSub();
  return {
    type,
    sub,
    set(t, s) {
      type.value = t || '';
      if (type.value !== (t || '') && !firstType) type.selectedIndex = 0;
      fillSub(s || '');
    },
  };
}

/** focusFirstInvalid moves focus to the first control marked invalid in a container. */
export function focusFirstInvalid(container) {
  const bad = container.querySelector('[aria-invalid="true"]');
  if (bad) bad.focus();
  return Boolean(bad);
}
