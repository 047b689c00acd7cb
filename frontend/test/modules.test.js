// Unit tests of the app's pure modules, with Node's own test runner:
// npm test (no browser, no server; the end-to-end tests are in e2e_test.go).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDistance, formatIncidentTime, dayNumber, dayToISO, isoToDay } from '../src/format.js';
import { lngNear, viewBBox, wrapLng } from '../src/geo.js';
import { decodeHash, encodeHash } from '../src/permalink.js';
import { defaultFilters, incidentParams, sameFilters, selectsNothing } from '../src/filters.js';

test('incident times are shown as exactly as they are known', () => {
  assert.equal(formatIncidentTime('2020-10-18T04:00:00Z', 1), '18 Oct 2020');
  // 18 Oct 2020 was a Sunday: its week began on Monday 12 Oct.
  assert.equal(formatIncidentTime('2020-10-18T04:00:00Z', 2), 'week of 12 Oct 2020');
  assert.equal(formatIncidentTime('2020-10-12T00:00:00+00:00', 2), 'week of 12 Oct 2020');
  assert.equal(formatIncidentTime('2020-10-18T04:00:00Z', 3), 'Oct 2020');
  // UTC, whatever the offset it was written with.
  assert.equal(formatIncidentTime('2020-10-18T01:00:00+03:00', 1), '17 Oct 2020');
  assert.equal(formatIncidentTime('not a date', 1), '');
});

test('distances', () => {
  assert.equal(formatDistance(3200), '3.2 km');
  assert.equal(formatDistance(450.4), '450 m');
  assert.equal(formatDistance(123456), '123 km');
});

test('day numbers round-trip', () => {
  const d = isoToDay('2020-10-18');
  assert.equal(dayToISO(d), '2020-10-18');
  assert.equal(dayNumber('2020-10-18T23:59:59Z'), d);
  assert.equal(isoToDay('2020-13-45'), null);
  assert.equal(isoToDay('18/10/2020'), null);
});

// A stand-in for a Leaflet map: only getBounds is used.
function mapWithBounds(west, south, east, north) {
  return {
    getBounds: () => ({ getWest: () => west, getSouth: () => south, getEast: () => east, getNorth: () => north }),
  };
}

test('the view becomes an API bbox', () => {
  assert.deepEqual(viewBBox(mapWithBounds(46.5, 38.5, 47.5, 39.5)), [46.5, 38.5, 47.5, 39.5]);
  // Rounded outwards to six decimals.
  assert.deepEqual(viewBBox(mapWithBounds(46.12345678, 38.1, 47.12345612, 39.1)), [46.123456, 38.1, 47.123457, 39.1]);
  // Panned east across the antimeridian: west > east, as the API expects.
  assert.deepEqual(viewBBox(mapWithBounds(170, -20, 190, -10)), [170, -20, -170, -10]);
  // Panned a whole turn west: the same place.
  assert.deepEqual(viewBBox(mapWithBounds(-313.5, 38.5, -312.5, 39.5)), [46.5, 38.5, 47.5, 39.5]);
  // Wider than the world, and beyond the poles.
  assert.deepEqual(viewBBox(mapWithBounds(-400, -95, 400, 95)), [-180, -90, 180, 90]);
  // Ending on the antimeridian.
  assert.deepEqual(viewBBox(mapWithBounds(170, 0, 180, 10)), [170, 0, 180, 10]);
});

test('longitudes wrap', () => {
  assert.equal(wrapLng(190), -170);
  assert.equal(wrapLng(-190), 170);
  assert.equal(wrapLng(180), -180);
  assert.equal(wrapLng(47), 47);
  // Points go on the copy of the world east of the view's west edge.
  assert.equal(lngNear(-179.5, 170), 180.5);
  assert.equal(lngNear(179.5, 170), 179.5);
  assert.equal(lngNear(47, -313), 47 - 360);
});

test('the hash round-trips the state', () => {
  const state = {
    view: { lat: 39.4, lng: 47.03, zoom: 7 },
    filters: { from: '2020-10-01', to: '2020-10-31', types: ['Battles', 'Explosions/Remote violence'], statuses: ['verified'], q: 'a&b=c #d', border: '5' },
    window: { from: '2020-10-12', to: '2020-10-18' },
    selected: '12',
    layers: ['incidents', 'heat'],
    defaultLayers: ['incidents'],
  };
  const hash = encodeHash(state);
  assert.equal(
    hash,
    '#map=7/39.40/47.03&from=2020-10-01&to=2020-10-31&types=Battles,Explosions/Remote%20violence' +
      '&status=verified&q=a%26b%3Dc%20%23d&border=5&win=2020-10-12/2020-10-18&sel=12&layers=incidents,heat',
  );
  const back = decodeHash(hash);
  assert.deepEqual(back.view, state.view);
  assert.deepEqual(back.filters, state.filters);
  assert.deepEqual(back.window, state.window);
  assert.equal(back.selected, '12');
  assert.deepEqual(back.layers, state.layers);
});

test('defaults stay out of the hash, and bad values out of the state', () => {
  const hash = encodeHash({ view: { lat: 0, lng: 0, zoom: 2 }, filters: defaultFilters(), window: null, selected: null, layers: ['incidents'], defaultLayers: ['incidents'] });
  assert.equal(hash, '#map=2/0.00/0.00');
  const bad = decodeHash('#map=7/99/47&from=yesterday&border=-3&sel=1;drop&win=2020-10-18/2020-10-01&types=');
  assert.equal(bad.view, undefined);
  assert.deepEqual(bad.filters, { types: [] }); // an empty list: nothing selected
  assert.equal(bad.window, undefined);
  assert.equal(bad.selected, undefined);
});

test('filters become API parameters', () => {
  const f = { ...defaultFilters(), from: '2020-10-01', types: ['Battles'], q: 'shelling', border: '5' };
  assert.equal(incidentParams(f).toString(), 'datetime=2020-10-01%2F..&event_type=Battles&q=shelling&near_border_km=5');
  assert.equal(incidentParams(f, { from: '2020-10-03', to: '2020-10-05' }).get('datetime'), '2020-10-03/2020-10-05');
  assert.equal(incidentParams(defaultFilters()).toString(), '');
  assert.ok(selectsNothing({ ...defaultFilters(), statuses: [] }));
  assert.ok(!selectsNothing(defaultFilters()));
  assert.ok(sameFilters({ ...f, types: ['Riots', 'Battles'] }, { ...f, types: ['Battles', 'Riots'] }));
});
