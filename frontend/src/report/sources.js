// The report form's links to sources: one field to start, more on demand.

import { el } from '../dom.js';
import { errorSlot, field } from '../form.js';

const MAX_SOURCES = 10;

/** createSources builds the "Links to sources" fieldset. Returns { element, error, fields, sent, markSent, reset }. */
export function createSources() {
  const fields = [];
  let sent = []; // the source link fields in the order they were sent
  const sourceList = el('div', { class: 'source-list' });
  const sourcesError = errorSlot('r-sources-error');
  const addSourceButton = el('button', { type: 'button', class: 'button secondary' }, 'Add another link');
  const element = el(
    'fieldset',
    { class: 'group sources-group' },
    el('legend', {}, 'Links to sources'),
    el('p', { class: 'hint' }, 'News reports, posts or videos about it (http or https).'),
    sourceList,
    sourcesError,
    el('div', { class: 'actions' }, addSourceButton),
  );

  function addSource(value = '') {
    if (fields.length >= MAX_SOURCES) return null;
    const n = fields.length;
    const f = field(
      `r-source-${n}`,
      `Link ${n + 1}`,
      el('input', { type: 'url', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', maxlength: '2000', placeholder: 'https://' }),
    );
    f.control.value = value;
    fields.push(f);
    sourceList.append(f.wrap);
    addSourceButton.disabled = fields.length >= MAX_SOURCES;
    return f;
  }
  addSourceButton.addEventListener('click', () => addSource()?.control.focus());
  addSource();

  return {
    element,
    error: sourcesError,
    fields,
    /** sent lists the fields in the order their links were sent (the API numbers its errors so). */
    sent: () => sent,
    /** markSent returns the non-empty links, in order, and remembers their fields. */
    markSent() {
      // The server drops empty links before numbering them: so does this.
      sent = fields.filter((f) => f.control.value.trim() !== '');
      return sent.map((f) => f.control.value.trim());
    },
    /** reset keeps one (emptied by the form's reset) field. */
    reset() {
      for (const f of fields.splice(1)) f.wrap.remove();
      addSourceButton.disabled = false;
    },
  };
}
