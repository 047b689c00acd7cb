// Unit tests of the "go to place" search's pure parts: npm test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeResultText, placeSearchParams, placeZoom, usablePlaces } from '../src/placesearch.js';

test('a place search sends the text and the map centre as near', () => {
  const p = placeSearchParams('  Ստեփանակերտ ', { lat: 39.81773, lng: 46.75281 });
  assert.equal(p.get('q'), 'Ստեփանակերտ');
  assert.equal(p.get('near'), '46.7528,39.8177');
  assert.equal(p.get('limit'), '8');
  // A centre past the antimeridian goes as a longitude the API accepts.
  assert.equal(placeSearchParams('Suva', { lat: -18.1, lng: 538.4 }).get('near'), '178.4000,-18.1000');
  assert.equal(placeSearchParams('Suva', null).has('near'), false);
});

test('a result says which name matched, its country and size', () => {
  assert.deepEqual(placeResultText({ name: 'Xankandi', matched: 'Stepanakert', country_code: 'AZ', population: 53100 }), {
    name: 'Xankandi',
    matched: 'Stepanakert',
    details: 'AZ · 53,100 people',
  });
  assert.deepEqual(placeResultText({ name: 'Hadrut', matched: 'Hadrut', country_code: null, population: 0 }), {
    name: 'Hadrut',
    matched: '',
    details: '',
  });
});

test('towns are shown closer than cities', () => {
  assert.equal(placeZoom({ population: 2_000_000 }), 10);
  assert.equal(placeZoom({ population: 53_100 }), 12);
  assert.equal(placeZoom({ population: 500 }), 13);
  assert.equal(placeZoom({}), 13);
});

test('only points with a name are offered', () => {
  const ok = { type: 'Feature', id: 1, geometry: { type: 'Point', coordinates: [47, 39] }, properties: { name: 'A' } };
  const bad = [
    { geometry: { type: 'LineString', coordinates: [[0, 0], [1, 1]] }, properties: { name: 'B' } },
    { geometry: { type: 'Point', coordinates: [NaN, 1] }, properties: { name: 'C' } },
    { geometry: { type: 'Point', coordinates: [1, 1] }, properties: { name: 5 } },
    null,
  ];
  assert.deepEqual(usablePlaces({ features: [ok, ...bad] }), [ok]);
  assert.deepEqual(usablePlaces(null), []);
});
