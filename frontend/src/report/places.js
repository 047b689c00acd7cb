// Place search inside the report form's "Where": the gazetteer is asked as
// the reporter types (debounced), near the map's centre, and a result
// chosen places the point there.

import { getJSON, isAbort } from '../api.js';
import { debounce, el } from '../dom.js';
import { field } from '../form.js';
import { formatCount } from '../format.js';
import { wrapLng } from '../geo.js';

const SEARCH_DEBOUNCE_MS = 300;

/**
 * createPlaceSearch builds the search field and its results. status is the
 * "Where" section's status line; choose(place, lon, lat) places the point.
 * Returns { field, results, clear, abort }.
 */
export function createPlaceSearch({ map, status, choose }) {
  let searchAbort = null;
  const placeQuery = field(
    'r-place-q',
    'Search for a place',
    el('input', { type: 'search', autocomplete: 'off', spellcheck: 'false', maxlength: '100' }),
    { hint: 'Type at least 2 letters, then choose a result.' },
  );
  const placeResults = el('ul', { id: 'r-place-results', class: 'place-results' });

  const searchSoon = debounce(searchPlaces, SEARCH_DEBOUNCE_MS);
  placeQuery.control.addEventListener('input', searchSoon);
  placeQuery.control.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault(); // not a submit of the whole report
      searchSoon.cancel();
      searchPlaces();
    } else if (e.key === 'ArrowDown' && placeResults.firstElementChild) {
      e.preventDefault();
      placeResults.querySelector('button').focus();
    } else if (e.key === 'Escape' && (placeResults.firstElementChild || placeQuery.control.value)) {
      e.preventDefault(); // clears the search; a second Escape closes the sheet
      placeQuery.control.value = '';
      clearResults();
    }
  });
  placeResults.addEventListener('keydown', (e) => {
    const buttons = [...placeResults.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = i + (e.key === 'ArrowDown' ? 1 : -1);
      (buttons[next] || placeQuery.control).focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      clearResults();
      placeQuery.control.focus();
    }
  });

  async function searchPlaces() {
    searchAbort?.abort();
    const q = placeQuery.control.value.trim();
    if (q.length < 2) {
      clearResults();
      return;
    }
    const abort = (searchAbort = new AbortController());
    const c = map.getCenter();
    const params = new URLSearchParams({ q, near: `${wrapLng(c.lng).toFixed(4)},${c.lat.toFixed(4)}`, limit: '8' });
    status.textContent = 'Searching…';
    try {
      const fc = await getJSON(`/api/places?${params}`, { signal: abort.signal });
      if (abort.signal.aborted) return;
      showResults(Array.isArray(fc?.features) ? fc.features : [], q);
    } catch (err) {
      if (isAbort(err)) return;
      clearResults();
      status.textContent =
        err.status === 404
          ? 'Place search is not available on this server.'
          : err.status === 503
            ? 'Place search is not available right now; try again later.'
            : `Place search failed: ${err.message}`;
    }
  }

  function showResults(features, q) {
    const usable = features.filter((f) => f?.geometry?.type === 'Point' && f.properties?.name);
    placeResults.replaceChildren(
      ...usable.map((f) => {
        const p = f.properties;
        const [lon, lat] = f.geometry.coordinates;
        const details = [p.country_code, p.population > 0 ? `${formatCount(p.population)} people` : null].filter(Boolean).join(' · ');
        const also = p.matched && p.matched !== p.name ? ` (${p.matched})` : '';
        const button = el(
          'button',
          { type: 'button', class: 'place-result', 'data-lon': lon, 'data-lat': lat },
          el('span', { class: 'place-name' }, p.name + also),
          details && el('span', { class: 'place-details' }, details),
        );
        button.addEventListener('click', () => {
          choose(p, lon, lat);
          clearResults();
          status.textContent = `Point placed at ${p.name}.`;
          placeQuery.control.focus();
        });
        return el('li', {}, button);
      }),
    );
    status.textContent = usable.length
      ? `${usable.length} ${usable.length === 1 ? 'place' : 'places'} found: choose one below.`
      : `No place found for “${q}”.`;
  }

  function clearResults() {
    searchAbort?.abort();
    placeResults.replaceChildren();
    status.textContent = '';
  }

  return { field: placeQuery, results: placeResults, clear: clearResults, abort: () => searchAbort?.abort() };
}
