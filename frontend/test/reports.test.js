// Unit tests of the pure parts of the report form, the moderation view and
// live updates (node --test runs each file in its own process, so the time
// zone set here stays here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  auditChanges,
  defaultTitle,
  errorKey,
  formatLocalDateTime,
  formatLonLat,
  formatOffset,
  humanMessage,
  localInputValue,
  newIdempotencyKey,
  suggestedTitle,
  titleProblem,
  toRFC3339,
} from '../src/fields.js';
import { bboxAround, bboxContains, distanceMetres } from '../src/geo.js';
import { matchesFilters } from '../src/live.js';
import { decodeHash, encodeHash } from '../src/permalink.js';
import { defaultFilters } from '../src/filters.js';
import { SUB_EVENT_TYPES, EVENT_TYPES } from '../src/taxonomy.js';

function inZone(zone, fn) {
  const before = process.env.TZ;
  process.env.TZ = zone;
  try {
    fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

test('a local time becomes RFC 3339 with the offset of that moment', () => {
  inZone('Asia/Baku', () => {
    assert.equal(toRFC3339('2020-10-18T04:30'), '2020-10-18T04:30:00+04:00');
    assert.equal(toRFC3339('2020-10-18T04:30:15'), '2020-10-18T04:30:15+04:00');
  });
  inZone('Europe/Berlin', () => {
    assert.equal(toRFC3339('2024-07-01T12:00'), '2024-07-01T12:00:00+02:00'); // summer time
    assert.equal(toRFC3339('2024-01-15T12:00'), '2024-01-15T12:00:00+01:00');
    // 02:30 on 31 March 2024 did not exist in Berlin: it moves on, as the clock did.
    assert.equal(toRFC3339('2024-03-31T02:30'), '2024-03-31T03:30:00+02:00');
  });
  inZone('America/St_Johns', () => {
    assert.equal(toRFC3339('2024-01-15T08:00'), '2024-01-15T08:00:00-03:30');
  });
  inZone('UTC', () => assert.equal(toRFC3339('2024-01-15T08:00'), '2024-01-15T08:00:00+00:00'));
  for (const bad of ['', '2024-02-30T10:00', '2024-01-15', '15/01/2024 10:00', null]) {
    assert.equal(toRFC3339(bad), '', `toRFC3339(${bad})`);
  }
});

test('local input values round-trip', () => {
  inZone('Asia/Kolkata', () => {
    const d = new Date('2020-10-18T04:30:00Z');
    assert.equal(localInputValue(d), '2020-10-18T10:00');
    assert.equal(toRFC3339(localInputValue(d)), '2020-10-18T10:00:00+05:30');
    assert.equal(Date.parse(toRFC3339(localInputValue(d))), d.getTime());
  });
  assert.equal(localInputValue(new Date('nope')), '');
  assert.equal(formatOffset(-210), '-03:30');
  assert.equal(formatOffset(0), '+00:00');
});

test('API field errors find their controls', () => {
  assert.equal(errorKey('geometry.coordinates'), 'location');
  assert.equal(errorKey('geometry'), 'location');
  assert.equal(errorKey('location'), 'location');
  assert.equal(errorKey('properties.description'), 'description');
  assert.equal(errorKey('properties.occurred_at'), 'occurred_at');
  assert.equal(errorKey('properties.source_urls[3]'), 'source_urls[3]');
  assert.equal(errorKey('photo[0]'), 'photo');
  assert.equal(errorKey('photo'), 'photo');
  assert.equal(errorKey('title'), 'title');
  assert.equal(errorKey('reason'), 'reason');
  assert.equal(errorKey('Idempotency-Key'), '');
  assert.equal(errorKey('body'), '');
  assert.equal(errorKey(undefined), '');
});

test('idempotency keys', () => {
  const a = newIdempotencyKey();
  assert.match(a, /^[0-9a-f-]{32,36}$/);
  assert.notEqual(a, newIdempotencyKey());
  // Without randomUUID (not a secure context): 32 hex digits from getRandomValues.
  const fallback = newIdempotencyKey({ getRandomValues: (b) => b.fill(171) });
  assert.equal(fallback, 'ab'.repeat(16));
});

test('titles and points for people', () => {
  assert.equal(defaultTitle({ event_type: 'Battles', sub_event_type: 'Armed clash', location_name: 'Jabrayil' }), 'Armed clash near Jabrayil');
  assert.equal(defaultTitle({ event_type: 'Riots', sub_event_type: '', location_name: '' }), 'Riots');
  assert.equal([...defaultTitle({ event_type: 'Riots', location_name: 'é'.repeat(400) })].length, 300);
  assert.equal(formatLonLat(47.03, 39.4), '39.40000° N, 47.03000° E');
  assert.equal(formatLonLat(-70.5, -33.25), '33.25000° S, 70.50000° W');
});

test('the form offers the sub-types of every event type', () => {
  for (const t of EVENT_TYPES) assert.ok(SUB_EVENT_TYPES[t.name]?.length > 0, t.name);
  assert.ok(SUB_EVENT_TYPES['Explosions/Remote violence'].includes('Shelling/artillery/missile attack'));
});

test('audit entries say what changed', () => {
  assert.deepEqual(auditChanges(null, { title: 'A' }), ['created']);
  assert.deepEqual(auditChanges({ title: 'A' }, null), ['deleted']);
  assert.deepEqual(
    auditChanges(
      { title: 'A', status: 'verified', version: 1, updated_at: 'x', sources: [1] },
      { title: 'B', status: 'retracted', version: 2, updated_at: 'y', sources: [1] },
    ),
    ['status: "verified" → "retracted"', 'title: "A" → "B"'],
  );
  assert.equal(auditChanges({ notes: 'a'.repeat(500) }, { notes: '' })[0].length < 140, true);
});

function incident(props, coordinates = [47.03, 39.4]) {
  return { type: 'Feature', id: 7, geometry: { type: 'Point', coordinates }, properties: props };
}

test('live incidents are checked against the filters', () => {
  const f = defaultFilters();
  const shelling = incident({ status: 'verified', event_type: 'Battles', occurred_at: '2020-10-18T04:00:00+04:00' });
  assert.equal(matchesFilters(shelling, f), true);
  assert.equal(matchesFilters(incident({ ...shelling.properties, status: 'retracted' }), f), false);
  assert.equal(matchesFilters(incident({ ...shelling.properties, status: 'retracted' }), { ...f, statuses: ['retracted'] }), true);
  assert.equal(matchesFilters(shelling, { ...f, types: ['Protests'] }), false);
  assert.equal(matchesFilters(shelling, { ...f, types: ['Battles', 'Riots'] }), true);
  // 04:00 at +04:00 is midnight UTC on the 18th: in "to 17 Oct" it is not, in "from 18 Oct" it is.
  assert.equal(matchesFilters(shelling, { ...f, to: '2020-10-17' }), false);
  assert.equal(matchesFilters(shelling, { ...f, from: '2020-10-18', to: '2020-10-18' }), true);
  assert.equal(matchesFilters(shelling, { ...f, from: '2020-10-19' }), false);
  // Only the server can apply text search and border distance.
  assert.equal(matchesFilters(shelling, { ...f, q: 'shelling' }), null);
  assert.equal(matchesFilters(shelling, { ...f, types: ['Riots'], q: 'shelling' }), false);
  assert.equal(matchesFilters(shelling, { ...f, border: '5' }), null);
  // A deleted incident comes without geometry.
  assert.equal(matchesFilters({ type: 'Feature', id: 7, geometry: null, properties: { status: 'retracted' } }, f), false);
});

test('boxes and distances for merge candidates and live updates', () => {
  const box = bboxAround(47.03, 39.4, 5);
  assert.ok(bboxContains(box, 47.03, 39.4));
  assert.ok(bboxContains(box, 47.08, 39.44));
  assert.ok(!bboxContains(box, 47.1, 39.4));
  const d = distanceMetres([47.03, 39.4], [47.03, 39.445]);
  assert.ok(Math.abs(d - 5004) < 10, `0.045° of latitude is about 5 km, got ${d}`);
  // Across the antimeridian.
  const fiji = bboxAround(179.99, -17, 5);
  assert.ok(fiji[0] > fiji[2]);
  assert.ok(bboxContains(fiji, -179.99, -17));
  assert.ok(bboxContains(fiji, 179.99, -17));
  assert.ok(!bboxContains(fiji, 0, -17));
  // Near a pole, every longitude.
  const pole = bboxAround(10, 89.99, 5);
  assert.equal(pole[0], -180);
  assert.equal(pole[2], 180);
});

test('the moderation view is part of the permalink', () => {
  const state = { view: { lat: 39.4, lng: 47.03, zoom: 7 }, filters: defaultFilters(), layers: ['incidents'], defaultLayers: ['incidents'] };
  assert.equal(encodeHash({ ...state, moderate: true }), '#map=7/39.40/47.03&moderate');
  assert.equal(encodeHash(state), '#map=7/39.40/47.03');
  assert.equal(decodeHash('#moderate').moderate, true);
  assert.equal(decodeHash('#map=7/39.40/47.03&moderate').moderate, true);
  assert.equal(decodeHash('#map=7/39.40/47.03').moderate, false);
});

test('a moderator starts from a title with a place, never from a bare type, and cannot publish one', () => {
  const battle = { event_type: 'Battles', sub_event_type: 'Armed clash' };
  for (const [p, want] of [
    [{ ...battle, location_name: 'Jabrayil' }, 'Armed clash near Jabrayil'],
    [battle, ''],
    [{ event_type: 'Battles' }, ''],
  ]) {
    assert.equal(suggestedTitle(p), want, JSON.stringify(p));
  }
  for (const [title, bad] of [
    ['', true],
    ['   ', true],
    ['Battles', true],
    ['armed clash', true],
    ['Incident', true],
    ['Armed clash near Jabrayil', false],
    ['Gunfire in the hills', false],
  ]) {
    assert.equal(titleProblem(title, battle) !== null, bad, `titleProblem(${JSON.stringify(title)})`);
  }
});

test('API messages are rewritten for the person filling the form', () => {
  inZone('Asia/Baku', () => {
    for (const [key, message, want] of [
      ['fatalities', '-3 out of range [0, 1000000]', 'Enter a number from 0 to 1,000,000 (not -3).'],
      ['geo_precision', '7 out of range [1, 3]', 'Enter a number from 1 to 3 (not 7).'],
      ['event_type', 'required: one of Battles, Riots', 'Choose the type of event.'],
      ['description', 'required', 'Describe what happened.'],
      ['occurred_at', 'required (RFC 3339 time)', 'Enter the date and time it happened.'],
      ['contact', 'required', 'This is needed.'],
      ['occurred_at', '2031-01-02T05:30:00Z is in the future',
        '2 Jan 2031, 09:30 (UTC+04:00) is in the future: enter when it happened, in your time (UTC+04:00).'],
      ['occurred_at', '1850-01-01T00:00:00Z is before 1900', 'Enter a date from 1900 on.'],
      ['sub_event_type', 'not a sub-event type of "Riots": want one of Mob violence', 'Choose a sub-type of the type of event chosen, or none.'],
      ['source_urls[0]', 'must be an http or https URL', 'Must be an http or https URL.'],
    ]) {
      assert.equal(humanMessage(key, message), want, `${key}: ${message}`);
    }
    assert.equal(formatLocalDateTime(new Date('2020-10-18T04:30:00Z')), '18 Oct 2020, 08:30 (UTC+04:00)');
    assert.equal(formatLocalDateTime(new Date('nope')), '');
  });
});
