// Sheets: the report form and the moderation view. A sheet is a non-modal
// dialog beside the map (below it on narrow screens), so that the map stays
// usable while it is open: the report form places its point there. One
// sheet is open at a time; Escape closes it and focus goes back to the
// button that opened it.

const sheets = new Set();

/**
 * createSheet wires an element (role=dialog, hidden) with its heading
 * (focused on opening) and the button that toggles it (aria-expanded).
 * onOpen() and onClose() run after the change; the map is resized either
 * way. Returns { open(), close(), isOpen(), toggle(), element }.
 */
export function createSheet(element, { map, heading, button, onOpen = () => {}, onClose = () => {} }) {
  let opener = null;

  function isOpen() {
    return !element.hidden;
  }

  function open() {
    if (isOpen()) {
      focusHeading();
      return;
    }
    for (const other of sheets) if (other !== api) other.close();
    opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    element.hidden = false;
    button?.setAttribute('aria-expanded', 'true');
    map.invalidateSize();
    focusHeading();
    onOpen();
  }

  function close() {
    if (!isOpen()) return;
    const hadFocus = element.contains(document.activeElement) || document.activeElement === document.body;
    element.hidden = true;
    button?.setAttribute('aria-expanded', 'false');
    map.invalidateSize();
    if (hadFocus) (opener?.isConnected && opener !== document.body ? opener : button)?.focus({ preventScroll: true });
    opener = null;
    onClose();
  }

  function focusHeading() {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }

  element.addEventListener('keydown', (e) => {
    // A control that uses Escape itself (a list of search results) prevents the default.
    if (e.key === 'Escape' && !e.defaultPrevented) {
      e.preventDefault();
      close();
    }
  });
  button?.addEventListener('click', () => (isOpen() ? close() : open()));

  const api = { open, close, isOpen, toggle: () => (isOpen() ? close() : open()), element };
  sheets.add(api);
  return api;
}

/** overlaysMap reports whether a sheet covers part of the map (narrow screens) rather than sitting beside it. */
export function overlaysMap(element) {
  return !element.hidden && getComputedStyle(element).position === 'absolute';
}

/**
 * showPoint centres the map on latlng in the part of it a sheet leaves
 * visible: on narrow screens the sheet covers the bottom of the map.
 */
export function showPoint(map, element, latlng, zoom = map.getZoom()) {
  map.setView(latlng, zoom, { animate: false });
  if (overlaysMap(element)) {
    const covered = element.getBoundingClientRect().height;
    map.panBy([0, covered / 2], { animate: false });
  }
}
