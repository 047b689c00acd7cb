// Unit tests of the app's pure modules, with Node's own test runner:
// npm test (no browser, no server; the end-to-end tests are the e2e_*_test.go files).
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

test('a popup says where as exactly as the point is known', async () => {
  const { placeText } = await import('../src/popup.js');
  const base = { location_name: 'Jebrail', nearest_place_name: 'Jebrail', nearest_place_distance_m: 0, country_code: 'AZ' };
  for (const [name, p, want] of [
    ['exact', { ...base, geo_precision: 1, nearest_place_distance_m: 1234, border_distance_m: 14250 },
      ['Jebrail', '1.2 km from Jebrail; 14.3 km from the border', 'Country: AZ']],
    ['no precision is a point', { ...base, border_distance_m: 500 }, ['Jebrail', '0 m from Jebrail; 500 m from the border', 'Country: AZ']],
    ['near', { ...base, geo_precision: 2, border_distance_m: 14250 }, ['near Jebrail (within about 2 km)', 'about 14 km from the border', 'Country: AZ']],
    ['near, by the nearest place', { nearest_place_name: 'Horadiz', nearest_place_distance_m: 0, geo_precision: 2 }, ['near Horadiz (within about 2 km)']],
    ['district', { ...base, admin1: 'Jabrayil', geo_precision: 3, border_distance_m: 14250 },
      ['in the Jabrayil area', 'location known to the district (within about 25 km)', 'about 10 km from the border', 'Country: AZ']],
    ['district near the border', { ...base, admin2: 'Jabrayil District', admin1: 'Karabakh', geo_precision: 3, border_distance_m: 3000 },
      ['in the Jabrayil District area', 'location known to the district (within about 25 km)', 'close to the border', 'Country: AZ']],
    ['region described in words', { location_name: 'Villages on the Aras River south of Jabrayil', geo_precision: 3 },
      ['Villages on the Aras River south of Jabrayil', 'location known to the district (within about 25 km)']],
    ['region by the nearest place', { nearest_place_name: 'Horadiz', nearest_place_distance_m: 0, geo_precision: 3 },
      ['in the Horadiz area', 'location known to the district (within about 25 km)']],
  ]) {
    const got = placeText(p);
    assert.deepEqual(got, want, name);
    if (p.geo_precision >= 2) assert.ok(!got.some((l) => / m from /.test(l)), `${name}: no metres from a place`);
  }
});

test('the offline basemap names a country where its largest piece is, and keeps labels apart', async () => {
  const { labelAnchors, minPopulation, placeLabels, placeSize, ringArea } = await import('../src/outlinedata.js');
  const square = (x, y, s) => [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]];
  // A country of two pieces (the larger one with a hole) and a crescent-like U.
  const u = [[0, 0], [90, 0], [90, 90], [60, 90], [60, 30], [30, 30], [30, 90], [0, 90], [0, 0]];
  const anchors = labelAnchors([
    { type: 3, rings: [square(0, 0, 10), square(100, 100, 100), square(140, 140, 20).reverse()], props: { name: 'Big' } },
    { type: 3, rings: [u], props: { name: 'U' } },
    { type: 3, rings: [square(0, 0, 5)], props: {} }, // no name: no label
    { type: 2, rings: [[[0, 0], [5, 5]]], props: { name: 'a line' } },
  ]);
  assert.deepEqual(anchors.map((a) => a.name), ['Big', 'U']);
  const [big, cup] = anchors;
  assert.deepEqual([big.x, big.y, big.width], [150, 150, 100]);
  assert.equal(big.area, 10000);
  assert.equal(Math.abs(ringArea(u)), 90 * 90 - 30 * 60);
  // The U's centroid lies in its gap: the label goes in its widest span instead.
  assert.ok(cup.x < 30 || cup.x > 60 || cup.y < 30, `U label at ${cup.x},${cup.y} is in the gap`);

  const kept = placeLabels([
    { key: 'a', x: 100, y: 100, w: 60, h: 14 },
    { key: 'b', x: 120, y: 105, w: 60, h: 14 }, // overlaps a
    { key: 'c', x: 100, y: 130, w: 60, h: 14 },
  ]);
  assert.deepEqual(kept.map((k) => k.key), ['a', 'c']);
  assert.ok(minPopulation(2) > minPopulation(6) && minPopulation(6) > minPopulation(10));
  assert.deepEqual([placeSize(20e6, false), placeSize(2e6, false), placeSize(2e5, false), placeSize(800, false), placeSize(800, true)], ['l', 'm', 's', 'xs', 'l']);
});

test('the timeline axis has ticks a readable distance apart, at round dates', async () => {
  const { dateTicks } = await import('../src/timeaxis.js');
  const day = (iso) => Math.floor(Date.parse(iso) / 86400000);
  // Three weeks over 300 px: Mondays, labelled by day.
  let ticks = dateTicks(day('2020-10-01'), day('2020-10-21'), 300);
  assert.deepEqual(ticks.map((t) => t.label), ['5 Oct', '12 Oct', '19 Oct']);
  assert.equal(ticks[0].x, (300 / 21) * 4);
  // A year over 300 px: quarters, the year at January.
  ticks = dateTicks(day('2020-01-01'), day('2020-12-31'), 300);
  assert.deepEqual(ticks.map((t) => t.label), ['2020', 'Apr', 'Jul', 'Oct']);
  // Forty years: decades or five-year steps, never closer than the gap.
  ticks = dateTicks(day('1990-06-01'), day('2030-01-01'), 300);
  assert.ok(ticks.every((t) => /^\d{4}$/.test(t.label) && Number(t.label) % 5 === 0), JSON.stringify(ticks));
  for (const list of [ticks, dateTicks(day('2020-10-01'), day('2020-10-05'), 300)]) {
    for (let i = 1; i < list.length; i++) assert.ok(list[i].x - list[i - 1].x >= 64, JSON.stringify(list));
  }
  assert.deepEqual(dateTicks(5, 4, 300), []);
});

test('an imprecise time is the span it stands for, an imprecise place a circle of a documented radius', async () => {
  const { timeSpan, precisionRadius, PRECISION_RADIUS_M } = await import('../src/precision.js');
  const day = (s) => isoToDay(s);
  assert.deepEqual(timeSpan('2020-10-18T04:00:00Z', 1), [day('2020-10-18'), day('2020-10-18')]);
  // Sunday 18 Oct 2020 is in the week of Monday 12 Oct.
  assert.deepEqual(timeSpan('2020-10-18T04:00:00Z', 2), [day('2020-10-12'), day('2020-10-18')]);
  assert.deepEqual(timeSpan('2020-02-10T00:00:00Z', 3), [day('2020-02-01'), day('2020-02-29')]);
  assert.equal(timeSpan('nonsense', 1), null);
  assert.deepEqual(PRECISION_RADIUS_M, { 2: 2000, 3: 25000 });
  assert.equal(precisionRadius({ geo_precision: 1 }), 0);
  assert.equal(precisionRadius({}), 0);
  assert.equal(precisionRadius({ geo_precision: 3 }), 25000);
});

test('play crosses a timeline in about the same time, short or long', async () => {
  const { playStep } = await import('../src/timeline.js');
  // A month at normal speed: a day at a time, about 20 s in all.
  assert.deepEqual(playStep(30, 1), { every: 667, days: 1 });
  // Ten years: bigger steps, never more often than every 150 ms.
  const long = playStep(3650, 1);
  assert.equal(long.every, 150);
  assert.ok(Math.abs((3650 / long.days) * long.every - 20000) < 1000, `ten years in ${(3650 / long.days) * long.every} ms`);
  // A week: a day at a time, not slower than 1.4 s a day.
  assert.deepEqual(playStep(7, 1), { every: 1400, days: 1 });
  // Twice as fast is twice as fast.
  assert.deepEqual(playStep(30, 2), { every: 333, days: 1 });
});

test('the server histogram becomes counts per day from its first day', async () => {
  const { histogramFrom } = await import('../src/histogram.js');
  assert.equal(histogramFrom([]), null);
  assert.equal(histogramFrom(undefined), null);
  assert.deepEqual(
    histogramFrom([{ date: '2020-10-10', count: 3 }, { date: '2020-10-12', count: 1 }, { date: 'bad', count: 9 }]),
    { start: isoToDay('2020-10-10'), counts: [3, 0, 1] },
  );
});

test('a box goes into a query as one bbox parameter, rounded when asked', async () => {
  const { setBBox } = await import('../src/geo.js');
  assert.equal(setBBox(new URLSearchParams(), [46.5, 39, 47.25, 39.75]).toString(), 'bbox=46.5%2C39%2C47.25%2C39.75');
  assert.equal(setBBox(new URLSearchParams('limit=1'), [47.0300001, 39.4, 47.03002, 39.40002], 6).get('bbox'), '47.030000,39.400000,47.030020,39.400020');
  const p = setBBox(new URLSearchParams('bbox=0,0,1,1'), [-180, -90, 180, 90]);
  assert.deepEqual(p.getAll('bbox'), ['-180,-90,180,90'], 'replaces, never repeats');
});
