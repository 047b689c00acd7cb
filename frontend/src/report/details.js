// The report form's fields about what happened (apart from the place):
// when, type and sub-type, description, place name, how exact the point
// is, deaths, and the reporter's private contact.

import { el } from '../dom.js';
import { zoneLabel } from '../fields.js';
import { field, setOptions, taxonomySelects } from '../form.js';
import { GEO_PRECISIONS } from '../taxonomy.js';

/** createDetails builds the fields; each is { wrap, control, error } as form.field makes them. */
export function createDetails() {
  const when = field('r-when', 'When did it happen? (required)', el('input', { type: 'datetime-local', step: '60' }), {
    hint: `Your local time (${zoneLabel()}).`,
  });
  const taxonomy = taxonomySelects();
  const type = field('r-type', 'Type of event (required)', taxonomy.type);
  const sub = field('r-sub', 'Sub-type', taxonomy.sub);
  const description = field(
    'r-description',
    'What happened? (required)',
    el('textarea', { rows: '5', maxlength: '5000' }),
    { hint: 'What you saw or know, and how you know it.' },
  );
  const locationName = field('r-location-name', 'Place name', el('input', { type: 'text', maxlength: '300', autocomplete: 'off' }), {
    hint: 'A village, town or landmark, if you know it.',
  });
  const precision = field('r-precision', 'How exact is the point?', el('select', {}));
  setOptions(precision.control, GEO_PRECISIONS.map((p) => [String(p.value), p.label]), '1');
  const fatalities = field(
    'r-fatalities',
    'Deaths, if known',
    el('input', { type: 'number', min: '0', max: '1000000', step: '1', inputmode: 'numeric' }),
  );
  const contact = field('r-contact', 'Contact (private)', el('input', { type: 'text', maxlength: '300', autocomplete: 'email' }), {
    hint: 'Private: only moderators see this, never the public. Optional: an email address or phone number, so that a moderator can ask you about the report.',
    className: 'field private',
  });
  return { when, taxonomy, type, sub, description, locationName, precision, fatalities, contact };
}
