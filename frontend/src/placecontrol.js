// "Go to place": a search box on the map that looks places up in the
// gazetteer (/api/places: GeoNames names in every script, aliases) and
// pans and zooms the map to the one chosen. Each search sends the map's
// centre as near=, so the place you are looking at wins over a namesake
// far away. Results are buttons (Tab, arrows, Enter, Escape); every name
// goes in as text, never as markup.

import L from 'leaflet';
import { getJSON, isAbort } from './api.js';
import { debounce, el } from './dom.js';
import { MAX_QUERY, placeResultText, placeSearchParams, placeZoom, usablePlaces } from './placesearch.js';

const SEARCH_DEBOUNCE_MS = 250;

/** PlaceSearchControl is the "go to place" box, at the top left under the zoom buttons. */
export const PlaceSearchControl = L.Control.extend({
  options: { position: 'topleft' },
  onAdd(map) {
    const { form, input, results, status } = searchBox();
    // Typing, clicks and scrolls in the box are not map gestures.
    L.DomEvent.disableClickPropagation(form);
    L.DomEvent.disableScrollPropagation(form);
    let abort = null;

    const search = async () => {
      abort?.abort();
      const q = input.value.trim();
      if (!q) {
        clear();
        return;
      }
      const mine = (abort = new AbortController());
      try {
        const fc = await getJSON(`/api/places?${placeSearchParams(q, map.getCenter())}`, { signal: mine.signal });
        if (!mine.signal.aborted) show(usablePlaces(fc), q);
      } catch (err) {
        if (isAbort(err)) return;
        results.replaceChildren();
        status.classList.remove('visually-hidden');
        status.textContent =
          err.status === 404 || err.status === 503 ? 'Place search is not available.' : `Place search failed: ${err.message}`;
      }
    };
    const searchSoon = debounce(search, SEARCH_DEBOUNCE_MS);

    function show(places, q) {
      results.replaceChildren(
        ...places.map((f) =>
          resultItem(f, (lat, lon, name) => {
            map.setView(L.latLng(lat, lon), placeZoom(f.properties));
            clear();
            input.value = name;
            status.textContent = `Showing ${name}.`;
            input.focus();
          }),
        ),
      );
      results.dataset.q = q; // what these results answer
      status.classList.toggle('visually-hidden', places.length > 0);
      status.textContent = places.length
        ? `${places.length} ${places.length === 1 ? 'place' : 'places'} found: choose one below.`
        : `No place found for “${q}”.`;
    }

    function clear() {
      abort?.abort();
      searchSoon.cancel?.();
      results.replaceChildren();
      status.textContent = '';
      status.classList.add('visually-hidden');
    }

    input.addEventListener('input', searchSoon);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      // Enter goes to the first place once results are shown, else searches now.
      const first = results.querySelector('button');
      if (first) first.click();
      else {
        searchSoon.cancel?.();
        search();
      }
    });
    listenArrowKeys(input, results, clear);
    return form;
  },
});

/** searchBox builds the control's form: the query box, a status line for screen readers, and the result list. */
function searchBox() {
  const input = el('input', {
    id: 'place-search-q',
    type: 'search',
    maxlength: String(MAX_QUERY),
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Go to place…',
    'aria-describedby': 'place-search-status',
    'aria-controls': 'place-search-results',
  });
  const results = el('ul', { id: 'place-search-results', class: 'place-results', 'aria-label': 'Places found' });
  const status = el('p', { id: 'place-search-status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const form = el(
    'form',
    { class: 'leaflet-control place-search', role: 'search', 'aria-label': 'Go to place' },
    el('label', { for: 'place-search-q', class: 'visually-hidden' }, 'Go to place (name in any spelling or script)'),
    input,
    status,
    results,
  );
  return { form, input, results, status };
}

/** resultItem is one place found, a button in a list item; choosing it calls choose(lat, lon, name). */
function resultItem(f, choose) {
  const t = placeResultText(f.properties);
  const [lon, lat] = f.geometry.coordinates;
  const go = el(
    'button',
    { type: 'button', class: 'place-result', 'data-id': f.id ?? '', 'data-lon': lon, 'data-lat': lat },
    el('span', { class: 'place-name' }, t.matched ? `${t.name} (${t.matched})` : t.name),
    t.details && el('span', { class: 'place-details' }, t.details),
  );
  go.addEventListener('click', () => choose(lat, lon, t.name));
  return el('li', {}, go);
}

/**
 * listenArrowKeys lets the keyboard move between the box and the results:
 * Down from the box to the first result, Up and Down between results (Up
 * from the first back to the box), Escape clears.
 */
function listenArrowKeys(input, results, clear) {
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && results.firstElementChild) {
      e.preventDefault();
      results.querySelector('button').focus();
    } else if (e.key === 'Escape' && (results.firstElementChild || input.value)) {
      e.preventDefault();
      input.value = '';
      clear();
    }
  });
  results.addEventListener('keydown', (e) => {
    const buttons = [...results.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      (buttons[i + (e.key === 'ArrowDown' ? 1 : -1)] || input).focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      clear();
      input.focus();
    }
  });
}
