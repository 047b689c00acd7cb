// Claims per party: who says what about an incident, shown in its popup
// ("Ministry of Defence of Armenia blames … · Baku: no immediate
// response"), and the moderators' editor for them. Every value goes in as
// text (dom.el); only http(s) source URLs become links.

import { sameOrigin } from './api.js';
import { el, safeHref } from './dom.js';

/** STANCES are the claim stances, with what the popup says for each. */
export const STANCES = [
  { name: 'asserts', label: 'asserts', verb: 'says' },
  { name: 'denies', label: 'denies', verb: 'denies' },
  { name: 'no_comment', label: 'no comment', verb: '' },
  { name: 'attributes_to', label: 'blames someone', verb: 'blames' },
];

/**
 * claimLine is one claim in words: { party, verb, text }. A party that
 * blames someone "blames X"; one that did not comment is followed by its
 * text alone ("Baku: no immediate response").
 */
export function claimLine(c) {
  const party = String(c?.party || 'Unnamed party');
  const text = String(c?.text || '');
  switch (c?.stance) {
    case 'asserts':
      return { party, verb: 'says', text };
    case 'denies':
      return { party, verb: 'denies', text };
    case 'attributes_to':
      return { party, verb: `blames ${c.attributed_to || 'another party'}`, text };
    default:
      return { party, verb: '', text: text || 'no comment' };
  }
}

/**
 * claimsSection is the popup's account of the claims of an incident's
 * properties p, or null when it has none: each party's claim with its
 * source, and a note when they conflict (contested).
 */
export function claimsSection(p) {
  const claims = Array.isArray(p?.claims) ? p.claims : [];
  if (claims.length === 0 && !p?.contested) return null;
  // A source already listed under Sources, without a link of its own, is not repeated.
  const listed = new Set((Array.isArray(p.sources) ? p.sources : []).map((s) => s?.name).filter(Boolean));
  return el(
    'section',
    { class: `claims${p.contested ? ' is-contested' : ''}`, 'aria-label': 'Claims by party' },
    el('h3', { class: 'claims-heading' }, 'Who says what'),
    p.contested && el('p', { class: 'claims-contested' }, 'Contested: the parties’ accounts conflict.'),
    el(
      'ul',
      { class: 'claims-list' },
      claims.map((c) => {
        const { party, verb, text } = claimLine(c);
        const href = safeHref(c?.source?.url);
        let sourceName = c?.source?.name || (href ? new URL(href).hostname : '');
        if (!href && listed.has(sourceName)) sourceName = '';
        return el(
          'li',
          { class: `claim claim-${STANCES.some((s) => s.name === c?.stance) ? c.stance : 'other'}` },
          el('strong', { class: 'claim-party' }, party),
          verb ? ` ${verb}: ` : ': ',
          el('span', { class: 'claim-text' }, text),
          sourceName &&
            el(
              'span',
              { class: 'claim-source' },
              ' (',
              href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, sourceName) : sourceName,
              ')',
            ),
        );
      }),
    ),
  );
}

/** claimBody is the JSON a moderator's form values send (empty optional fields left out or cleared). */
export function claimBody(v) {
  const body = {
    party: v.party.trim(),
    stance: v.stance,
    text: v.text.trim(),
    source: {},
  };
  if (v.stance === 'attributes_to') body.attributed_to = v.attributed_to.trim();
  if (v.source_name.trim()) body.source.name = v.source_name.trim();
  if (v.source_url.trim()) body.source.url = v.source_url.trim();
  body.claimed_at = v.claimed_at.trim() || null;
  return body;
}

/**
 * mountClaimsEditor adds the moderators' claims editor to an incident's
 * popup content: a button that opens the list of its claims (edit,
 * delete) and a form to add one. call(url, opts) makes an API request as
 * the moderator; reopen() shows the incident again once it has changed.
 */
export function mountClaimsEditor(content, feature, { call, reopen }) {
  const id = encodeURIComponent(feature.id);
  const base = `/api/incidents/${id}/claims`;
  const panel = el('div', { class: 'claims-editor', hidden: true });
  const toggle = el('button', { type: 'button', class: 'link-button claims-edit', 'aria-expanded': 'false' }, 'Claims (moderators)');
  toggle.addEventListener('click', async () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) await load();
  });
  content.append(el('div', { class: 'popup-claims' }, toggle, panel));

  const status = el('p', { class: 'hint claims-status', role: 'status' });

  async function load() {
    panel.replaceChildren(el('p', { class: 'hint' }, 'Loading claims…'));
    try {
      const res = await call(base);
      render(Array.isArray(res?.claims) ? res.claims : []);
    } catch (err) {
      panel.replaceChildren(el('p', { class: 'error' }, `Cannot load the claims: ${err.message}`));
    }
  }

  async function changed(message) {
    status.textContent = message;
    // The public feature may be in the browser's cache for a few seconds:
    // fetch it afresh (updating that cache) before showing it again.
    try {
      await fetch(sameOrigin(`/api/collections/incidents/items/${id}`), {
        cache: 'reload',
        headers: { Accept: 'application/geo+json' },
      });
    } catch {
      // reopen shows what it can
    }
    reopen();
  }

  function render(claims) {
    const list = el(
      'ul',
      { class: 'claims-edit-list' },
      claims.map((c) => {
        const { party, verb } = claimLine(c);
        const edit = el('button', { type: 'button', class: 'link-button claim-edit' }, 'Edit');
        const del = el('button', { type: 'button', class: 'link-button claim-delete' }, 'Delete');
        edit.addEventListener('click', () => fill(c));
        del.addEventListener('click', async () => {
          try {
            await call(`${base}/${encodeURIComponent(c.id)}`, { method: 'DELETE', headers: { 'If-Match': `"v${c.version}"` } });
            await changed('Claim deleted.');
          } catch (err) {
            status.textContent = err.status === 412 ? 'The claim changed meanwhile: reload it.' : `Cannot delete: ${err.message}`;
          }
        });
        return el('li', {}, `${party}${verb ? ` ${verb}` : ''}`, ' ', edit, ' ', del);
      }),
    );
    const form = claimForm();
    panel.replaceChildren(
      claims.length ? list : el('p', { class: 'hint' }, 'No claims yet.'),
      form.node,
      status,
    );

    let editing = null; // the claim being edited, or null for a new one
    function fill(c) {
      editing = c;
      form.set(c);
      form.submit.textContent = 'Save claim';
      form.inputs.party.focus();
    }
    form.node.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = claimBody(form.values());
      form.clearErrors();
      try {
        if (editing) {
          await call(`${base}/${encodeURIComponent(editing.id)}`, {
            method: 'PATCH',
            body,
            headers: { 'If-Match': `"v${editing.version}"` },
          });
          await changed('Claim saved.');
        } else {
          await call(base, { method: 'POST', body });
          await changed('Claim added.');
        }
      } catch (err) {
        if (err.status === 412) {
          status.textContent = 'The claim changed meanwhile: reload it.';
          return;
        }
        form.showErrors(err);
        status.textContent = `Not saved: ${err.message}`;
      }
    });
  }
}

let formCount = 0;

/** claimForm is the form of one claim: { node, inputs, submit, values, set, showErrors, clearErrors }. */
function claimForm() {
  const n = ++formCount;
  const inputs = {
    party: el('input', { type: 'text', maxlength: '200', required: true, autocomplete: 'off' }),
    stance: el('select', {}, STANCES.map((s) => el('option', { value: s.name }, s.label))),
    attributed_to: el('input', { type: 'text', maxlength: '200', autocomplete: 'off' }),
    text: el('textarea', { rows: '2', maxlength: '2000', required: true }),
    source_name: el('input', { type: 'text', maxlength: '300', autocomplete: 'off' }),
    source_url: el('input', { type: 'url', maxlength: '2000', autocomplete: 'off', placeholder: 'https://…' }),
    claimed_at: el('input', { type: 'text', autocomplete: 'off', placeholder: '2020-10-18T06:00:00+04:00 (only if known)' }),
  };
  const labels = {
    party: 'Party',
    stance: 'Stance',
    attributed_to: 'Blames (for “blames someone”)',
    text: 'What it says',
    source_name: 'Source',
    source_url: 'Source URL',
    claimed_at: 'Said at',
  };
  const errors = {};
  const rows = Object.entries(inputs).map(([name, input]) => {
    input.id = `claim-${n}-${name}`;
    input.name = name;
    errors[name] = el('span', { class: 'field-error', id: `claim-${n}-${name}-error` });
    return el('div', { class: 'claim-field' }, el('label', { for: input.id }, labels[name]), input, errors[name]);
  });
  const blames = rows[2];
  const showBlames = () => (blames.hidden = inputs.stance.value !== 'attributes_to');
  inputs.stance.addEventListener('change', showBlames);
  showBlames();
  const submit = el('button', { type: 'submit', class: 'button claim-save' }, 'Add claim');
  const node = el('form', { class: 'claim-form', novalidate: true }, rows, submit);
  return {
    node,
    inputs,
    submit,
    values: () => Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value])),
    set(c) {
      inputs.party.value = c.party || '';
      inputs.stance.value = c.stance || 'asserts';
      inputs.attributed_to.value = c.attributed_to || '';
      inputs.text.value = c.text || '';
      inputs.source_name.value = c.source?.name || '';
      inputs.source_url.value = c.source?.url || '';
      inputs.claimed_at.value = c.claimed_at || '';
      showBlames();
    },
    clearErrors() {
      for (const e of Object.values(errors)) e.textContent = '';
    },
    showErrors(err) {
      for (const { field, message } of err.errors || []) {
        const name = field.startsWith('source') ? (field === 'source.url' ? 'source_url' : 'source_name') : field;
        if (errors[name]) errors[name].textContent = message;
      }
    },
  };
}
