// The map's view state (viewstate.js) as main.js finds it before the first load.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createViewState } from '../src/viewstate.js';

test('a fresh view state has loaded nothing and shows markers', () => {
  const layers = { active: () => ['incidents'], set() {} };
  const v = createViewState(layers);
  // Nothing counts as rendered until a load answers the current generation.
  assert.notEqual(v.loadedFor, v.generation);
  assert.equal(v.mode, 'features');
  assert.deepEqual(v.loaded, { features: [], matched: 0, capped: false });
  assert.equal(v.loading, false);
  assert.equal(v.started, false);
  assert.equal(v.selected, null);
  assert.equal(v.popup, null);
  assert.equal(v.renders, 0);
  assert.equal(v.tilesDrawn, 0);
  assert.equal(v.layers, layers);
});

test('view states share no mutable part', () => {
  const a = createViewState(null);
  const b = createViewState(null);
  a.loaded.features.push({ id: 1 });
  a.liveQueue.push(['incident.created', { id: 1 }]);
  a.newInView.add('1');
  assert.equal(b.loaded.features.length, 0);
  assert.equal(b.liveQueue.length, 0);
  assert.equal(b.newInView.size, 0);
});
