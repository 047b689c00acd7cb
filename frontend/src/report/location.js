// The report form's "Where": the point is placed by clicking the map or
// dragging its marker, from a place search, from the browser's location or
// at the map's centre.

import L from 'leaflet';
import { el } from '../dom.js';
import { formatLonLat } from '../fields.js';
import { errorSlot, showError } from '../form.js';
import { formatDistance } from '../format.js';
import { wrapLng } from '../geo.js';
import { pinIcon } from '../pin.js';
import { showPoint } from '../sheet.js';
import { createPlaceSearch } from './places.js';

const PLACE_ZOOM = 12;

/**
 * createLocation builds the "Where" fieldset. accepting() tells whether a
 * click on the map places the point now; precision and locationName are
 * the fields a located point may fill. Returns { element, readout, error,
 * point, setPoint, show, hide, reset }.
 */
export function createLocation({ map, sheetEl, isOpen, accepting, precision, locationName }) {
  let point = null; // L.LatLng as shown on the map (longitude may be off [-180, 180])

  const marker = L.marker([0, 0], {
    draggable: true,
    icon: pinIcon('report-pin'),
    title: 'Reported place: drag to move it',
    keyboard: true,
    zIndexOffset: 1000,
    autoPan: true,
  });
  marker.on('drag', () => showReadout(marker.getLatLng()));
  marker.on('dragend', () => setPoint(marker.getLatLng()));

  const readout = el('p', { id: 'r-point', class: 'point-readout', tabindex: '-1' }, 'No point placed yet.');
  const locationError = errorSlot('r-location-error');
  const geolocate = el('button', { id: 'r-geolocate', type: 'button', class: 'button secondary' }, 'Use my location');
  const centre = el('button', { id: 'r-centre', type: 'button', class: 'button secondary' }, 'Use the map centre');
  const locationStatus = el('p', { id: 'r-location-status', class: 'hint', role: 'status' });
  const places = createPlaceSearch({
    map,
    status: locationStatus,
    choose(p, lon, lat) {
      setPoint(L.latLng(lat, lon), { show: true });
      if (!locationName.control.value.trim()) locationName.control.value = p.name;
    },
  });
  const where = el(
    'fieldset',
    { id: 'r-location', class: 'group location', 'aria-describedby': 'r-point r-location-error' },
    el('legend', {}, 'Where (required)'),
    el('p', { class: 'hint' }, 'Click the map or drag the marker, search for a place, or use your location.'),
    readout,
    locationError,
    el('div', { class: 'actions' }, geolocate, centre),
    places.field.wrap,
    locationStatus,
    places.results,
  );

  map.on('click', (e) => {
    if (accepting()) setPoint(e.latlng);
  });
  centre.addEventListener('click', () => {
    setPoint(map.getCenter());
    locationStatus.textContent = 'Point placed at the centre of the map.';
  });
  geolocate.addEventListener('click', () => {
    if (!navigator.geolocation) {
      locationStatus.textContent = 'This browser cannot tell your location.';
      return;
    }
    locationStatus.textContent = 'Finding your location…';
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const { latitude, longitude, accuracy } = pos.coords;
        setPoint(L.latLng(latitude, longitude), { show: true });
        // A rough fix makes a rough point: say so unless the reporter already did.
        if (precision.control.value === '1' && accuracy > 2000) precision.control.value = accuracy > 25000 ? '3' : '2';
        locationStatus.textContent = `Point placed at your location (to about ${formatDistance(accuracy)}).`;
      },
      (err) => {
        locationStatus.textContent =
          err.code === 1 ? 'Your location was not shared: the browser or you refused it.' : 'Your location could not be found.';
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });

  function setPoint(latlng, { show = false } = {}) {
    point = L.latLng(Math.max(-90, Math.min(90, latlng.lat)), latlng.lng);
    marker.setLatLng(point);
    if (isOpen()) marker.addTo(map);
    showReadout(point);
    showError(locationError, [], '');
    if (show) showPoint(map, sheetEl, point, Math.max(map.getZoom(), PLACE_ZOOM));
  }

  function showReadout(ll) {
    const lon = wrapLng(ll.lng);
    readout.textContent = `Point: ${formatLonLat(lon, ll.lat)}`;
    readout.dataset.lon = lon.toFixed(6);
    readout.dataset.lat = ll.lat.toFixed(6);
  }

  return {
    element: where,
    readout,
    error: locationError,
    /** point is the placed point (L.LatLng), or null. */
    get point() {
      return point;
    },
    setPoint,
    /** show puts the marker back on the map when the sheet opens. */
    show() {
      if (point) marker.setLatLng(point).addTo(map);
    },
    /** hide takes the marker off the map and stops a search when the sheet closes. */
    hide() {
      marker.remove();
      places.abort();
    },
    /** remove takes the marker off the map (the report was sent). */
    remove() {
      marker.remove();
    },
    reset() {
      point = null;
      marker.remove();
      readout.textContent = 'No point placed yet.';
      delete readout.dataset.lon;
      delete readout.dataset.lat;
      places.clear();
    },
  };
}
