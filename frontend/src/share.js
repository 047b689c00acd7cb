// "Copy link" buttons: the address of this view (the permalink) and the
// GeoJSON API URL of the incidents in it. Each is copied to the clipboard
// when the browser allows it, and always shown in a read-only field so it
// can be copied by hand.

import { byId } from './dom.js';

/** createSharePanel wires the share buttons; each getter returns an absolute URL. */
export function createSharePanel({ permalink, apiLink }) {
  const output = byId('share-url');
  const status = byId('share-status');

  async function share(url, what) {
    output.value = url;
    output.hidden = false;
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = `${what} copied to the clipboard.`;
    } catch {
      output.select();
      status.textContent = `Copy the ${what.toLowerCase()} from the field below.`;
    }
  }
  byId('copy-permalink').addEventListener('click', () => share(permalink(), 'Link to this view'));
  byId('copy-api').addEventListener('click', () => share(apiLink(), 'API link'));
}
