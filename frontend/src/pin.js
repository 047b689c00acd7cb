// The draggable point's marker shared by the report form and the review.

import L from 'leaflet';

/** pinIcon is a draggable point's marker, drawn by CSS (no image, so no CSP exception). */
export function pinIcon(className) {
  return L.divIcon({ className: `pin-marker ${className}`, iconSize: [26, 34], iconAnchor: [13, 34], html: false });
}
