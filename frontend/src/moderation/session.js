// The moderator's session: the bearer token, kept in this tab's
// sessionStorage only, and the one way to call the API with it. A refused
// token (401) ends the session wherever it is noticed.

import { ApiError, request } from '../api.js';

const TOKEN_KEY = 'incidentmap.moderatorToken';

/**
 * createSession reads the stored token. onExpired() is called when the
 * server refuses it during call(). Returns { token, signedIn, start, end, call }.
 */
export function createSession({ onExpired }) {
  let token = readToken();
  return {
    /** token is the bearer token, or null when signed out. */
    get token() {
      return token;
    },
    signedIn: () => Boolean(token),
    /** start keeps t as the session's token (after the server accepted it). */
    start(t) {
      token = t;
      saveToken(t);
    },
    /** end forgets the token, in memory and in storage. */
    end() {
      token = null;
      try {
        sessionStorage.removeItem(TOKEN_KEY);
      } catch {
        // storage disabled: the token only lived in memory
      }
    },
    /** call makes an API request as the moderator; a refused token signs out. */
    async call(url, opts = {}) {
      try {
        return await request(url, { ...opts, token });
      } catch (err) {
        if (isSignedOut(err)) onExpired();
        throw err;
      }
    },
  };
}

/** isSignedOut tells whether an API error means the token was refused. */
export function isSignedOut(err) {
  return err instanceof ApiError && err.status === 401;
}

function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || null;
  } catch {
    return null;
  }
}

function saveToken(t) {
  try {
    sessionStorage.setItem(TOKEN_KEY, t);
  } catch {
    // storage disabled: the token lives in memory for this page only
  }
}
