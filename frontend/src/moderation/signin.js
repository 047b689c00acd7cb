// The sign-in form of the moderation view: the token is checked by loading
// the queue with it before it is kept.

import { ApiError } from '../api.js';
import { el } from '../dom.js';
import { field, showError } from '../form.js';

/** createSignIn returns { show(message) }, which puts the sign-in form in the view. */
export function createSignIn(ctx) {
  function show(message = '') {
    const { main, status, session } = ctx;
    ctx.review.leave();
    ctx.setView('sign-in');
    ctx.signOutButton.hidden = true;
    const input = el('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', maxlength: '199' });
    const tokenField = field('m-token', 'Moderator token', input, {
      hint: 'Kept in this browser tab only, until you sign out or close the tab.',
    });
    const submit = el('button', { type: 'submit', class: 'button' }, 'Sign in');
    const form = el(
      'form',
      { id: 'm-sign-in', class: 'sheet-form', novalidate: true },
      message && el('p', { class: 'notice', role: 'alert' }, message),
      el('p', { class: 'hint' }, 'Moderators check reports before they become public.'),
      tokenField.wrap,
      el('div', { class: 'actions' }, submit),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const t = input.value.trim();
      if (!t) {
        showError(tokenField.error, input, 'Enter your token.');
        input.focus();
        return;
      }
      submit.disabled = true;
      status.textContent = 'Signing in…';
      try {
        await ctx.queue.load(t);
        session.start(t);
        status.textContent = 'Signed in.';
        ctx.onChange();
        ctx.queue.show();
      } catch (err) {
        status.textContent = '';
        const text =
          err instanceof ApiError && err.status === 401
            ? 'This token was not accepted. Check it and try again.'
            : err instanceof ApiError && err.status === 403
              ? 'This token may not moderate.'
              : `Cannot sign in: ${err.message}`;
        showError(tokenField.error, input, text);
        input.focus();
      } finally {
        submit.disabled = false;
      }
    });
    main.replaceChildren(form);
  }
  return { show };
}
