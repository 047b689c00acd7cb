// The report form's messages: what is checked before sending (all fields
// at once), the API's field errors put by the fields they are about, and
// the form's general error line.

import { safeHref } from '../dom.js';
import { errorKey, formatLocalDateTime, humanMessage, MIN_DESCRIPTION, toRFC3339 } from '../fields.js';
import { showError } from '../form.js';

/**
 * createValidation works on the form's fields f ({ location, sources,
 * photos, when, taxonomy, type, ... }). Returns { checkLocally,
 * showFieldErrors, clearErrors, setFormError }.
 */
export function createValidation({ form, formError, f }) {
  /** checkLocally marks every field that cannot be sent as it is, all at once. */
  function checkLocally() {
    let ok = true;
    const bad = (target, text) => {
      showError(target.error, target.control, text);
      ok = false;
    };
    if (!f.location.point) bad({ error: f.location.error, control: [] }, 'Place the point: click the map, search for a place, or use your location.');
    const t = toRFC3339(f.when.control.value);
    if (!t) bad(f.when, 'Enter the date and time it happened.');
    else if (new Date(t).getTime() > Date.now() + 5 * 60 * 1000) {
      bad(f.when, `${formatLocalDateTime(new Date(t))} is in the future: it is now ${formatLocalDateTime(new Date())}.`);
    }
    if (!f.taxonomy.type.value) bad(f.type, 'Choose the type of event.');
    const text = f.description.control.value.trim();
    if (!text) bad(f.description, 'Describe what happened.');
    else if ([...text].length < MIN_DESCRIPTION) {
      bad(f.description, `Say a little more: what happened, and how you know (at least ${MIN_DESCRIPTION} characters).`);
    }
    for (const s of f.sources.fields) {
      const u = s.control.value.trim();
      if (u && !safeHref(u)) bad(s, 'Enter a web link that starts with http:// or https://, or leave it empty.');
    }
    const v = f.fatalities.control.validity;
    if (v.badInput || v.rangeUnderflow || v.rangeOverflow || v.stepMismatch) {
      bad(f.fatalities, 'Enter a whole number of deaths from 0 to 1,000,000, or leave it empty.');
    }
    const photo = f.photos.problem();
    if (photo) {
      showError(f.photos.field.error, f.photos.field.control, photo);
      ok = false;
    }
    if (!ok) {
      setFormError('Please correct the fields marked below.');
      focusFirstError();
    }
    return ok;
  }

  /** showFieldErrors puts each API error by its field; false when none has a place. */
  function showFieldErrors(errors) {
    const byField = {
      occurred_at: f.when,
      event_type: f.type,
      sub_event_type: f.sub,
      description: f.description,
      location_name: f.locationName,
      geo_precision: f.precision,
      fatalities: f.fatalities,
      contact: f.contact,
      photo: f.photos.field,
    };
    const general = [];
    let placed = 0;
    for (const { field: name, message } of errors) {
      const k = errorKey(name);
      const m = /^source_urls\[(\d+)\]$/.exec(k);
      const target =
        k === 'location'
          ? { error: f.location.error, control: null }
          : m
            ? f.sources.sent()[Number(m[1])]
            : k === 'source_urls'
              ? { error: f.sources.error, control: null }
              : byField[k];
      if (!target) {
        general.push(`${name}: ${humanMessage(k, message)}`);
        continue;
      }
      // Several errors for one field: keep them all.
      const before = target.error.hidden ? '' : `${target.error.textContent} `;
      showError(target.error, target.control, before + humanMessage(k, message));
      placed++;
    }
    if (!placed && general.length === 0) return false;
    setFormError(
      [placed ? 'The report was not accepted: please correct the fields marked below.' : 'The report was not accepted.', ...general].join(' '),
    );
    focusFirstError();
    return true;
  }

  function focusFirstError() {
    const first = [...form.querySelectorAll('.field-error')].find((e) => !e.hidden);
    if (!first) return;
    if (first === f.location.error) {
      f.location.readout.focus();
      return;
    }
    const control = form.querySelector(`[aria-describedby~="${first.id}"]`);
    (control || first).focus();
  }

  function clearErrors() {
    for (const e of form.querySelectorAll('.field-error')) e.hidden = true;
    for (const c of form.querySelectorAll('[aria-invalid="true"]')) c.setAttribute('aria-invalid', 'false');
    setFormError('');
  }

  function setFormError(text) {
    formError.textContent = text;
    formError.hidden = !text;
  }

  return { checkLocally, showFieldErrors, clearErrors, setFormError };
}

/** sentence gives an API message a capital and a full stop: "required" → "Required." */
export function sentence(message) {
  const m = String(message || '').trim();
  if (!m) return '';
  const s = m[0].toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
