// The moderators' "Possible duplicates / corroborating" lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidateText } from '../src/moderation/candidates.js';

test('a candidate line says how far, how many hours apart, and its status', () => {
  const { what, meta } = candidateText({
    kind: 'report',
    id: 12,
    title: 'Shelling near Jabrayil',
    status: 'pending',
    distance_m: 2003,
    hours_apart: 3,
    occurred_at: '2020-10-18T03:30:00Z',
  });
  assert.equal(what, 'Report #12: Shelling near Jabrayil');
  assert.match(meta, /^2\.0 km away · 3 h apart · pending · /);
});

test('hours apart: minutes under an hour, one decimal under ten, whole hours above', () => {
  const meta = (h) => candidateText({ kind: 'incident', id: 1, title: 't', status: 'verified', distance_m: 0, hours_apart: h }).meta;
  assert.match(meta(0.25), / 15 min apart /);
  assert.match(meta(2.5), / 2\.5 h apart /);
  assert.match(meta(17.4), / 17 h apart /);
  assert.match(meta(0), /^0\.0 km away · 0 min apart/);
});

test('an untitled incident still reads', () => {
  assert.equal(candidateText({ kind: 'incident', id: 7, title: '', status: 'disputed', distance_m: 10, hours_apart: 1 }).what, 'Incident #7: (untitled)');
});
