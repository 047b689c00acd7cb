// Unit tests of the density tiles' pure parts: what a vector tile holds
// (tiledata.js), how clusters and symbols are sized and read from the
// style sheet (symbols.js), what Enter reaches with the keyboard
// (tiledata.js: nearest, keyHint), tile URLs and the count in view (api.js), and
// bboxWithin (geo.js). The GridLayer itself (tiles.js) draws on canvases
// in a browser: the end-to-end tests cover it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PbfWriter } from 'pbf';
import { ApiError, countIncidents, tilePath } from '../src/api.js';
import { defaultFilters, incidentParams } from '../src/filters.js';
import { bboxWithin } from '../src/geo.js';
import { CLUSTER_HALO, clusterLabel, clusterStyle, parseInset, parseShape, SYMBOL_SIZE } from '../src/symbols.js';
import {
  circleRadiusPx,
  circleReach,
  CLUSTER_CELL,
  decode,
  keyHint,
  MAX_CIRCLE_REACH,
  MIN_CIRCLE_PX,
  nearest,
  prepare,
  TILE_SIZE,
} from '../src/tiledata.js';

const EXTENT = 4096; // what the server writes (geo/postgis/tile.go)
const BUFFER = 64; // in extent units: 4 tile pixels

// mvt encodes a Mapbox Vector Tile: layers of { name, extent, features:
// [{ id, type (1 point, 2 line), geometry: [[x, y], ...], props }] }.
function mvt(layers) {
  const pbf = new PbfWriter();
  for (const layer of layers) pbf.writeMessage(3, writeLayer, layer);
  return pbf.finish();
}

function writeLayer(layer, pbf) {
  const keys = [];
  const values = [];
  const index = (list, v) => {
    let i = list.indexOf(v);
    if (i < 0) i = list.push(v) - 1;
    return i;
  };
  pbf.writeVarintField(15, 2);
  pbf.writeStringField(1, layer.name);
  for (const f of layer.features) {
    const tags = [];
    for (const [k, v] of Object.entries(f.props || {})) tags.push(index(keys, k), index(values, v));
    pbf.writeMessage(2, writeFeature, { ...f, tags });
  }
  for (const k of keys) pbf.writeStringField(3, k);
  for (const v of values) pbf.writeMessage(4, writeValue, v);
  pbf.writeVarintField(5, layer.extent ?? EXTENT);
}

function writeFeature(f, pbf) {
  if (f.id !== undefined) pbf.writeVarintField(1, f.id);
  if (f.tags.length) pbf.writePackedVarint(2, f.tags);
  const type = f.type ?? 1;
  pbf.writeVarintField(3, type);
  const zz = (n) => (n << 1) ^ (n >> 31);
  const geom = [];
  let cx = 0;
  let cy = 0;
  f.geometry.forEach(([x, y], i) => {
    if (i === 0) geom.push(1 | (1 << 3)); // MoveTo 1
    if (i === 1) geom.push(2 | ((f.geometry.length - 1) << 3)); // LineTo the rest
    geom.push(zz(x - cx), zz(y - cy));
    cx = x;
    cy = y;
  });
  pbf.writePackedVarint(4, geom);
}

function writeValue(v, pbf) {
  if (typeof v === 'string') pbf.writeStringField(1, v);
  else if (typeof v === 'boolean') pbf.writeBooleanField(7, v);
  else if (Number.isInteger(v) && v >= 0) pbf.writeVarintField(4, v); // PostGIS writes bigint counts as int_value
  else if (Number.isInteger(v)) pbf.writeSVarintField(6, v);
  else pbf.writeDoubleField(3, v);
}

const incidentsTile = (features, extent) => mvt([{ name: 'incidents', extent, features }]);
const point = (x, y, props, id) => ({ id, geometry: [[x, y]], props });
const total = (list) => list.reduce((s, it) => s + it.count, 0);

test('a tile is decoded into points in tile pixels, marking those in its buffer', () => {
  const data = mvt([
    {
      name: 'incidents',
      features: [
        point(2048, 1024, { title: 'Shelling', event_type: 'Battles', status: 'verified', fatalities: 3 }, 7),
        point(-16, 100, { event_type: 'Riots' }, 8), // west buffer
        point(4096, 100, { event_type: 'Riots' }, 9), // on the east edge: the neighbour's
        point(100, 4100, { event_type: 'Riots' }, 10), // south buffer
        point(0, 0, { event_type: 'Riots' }, 11), // the tile's own corner
        { id: 12, type: 2, geometry: [[0, 0], [100, 100]], props: {} }, // a line: not an incident
      ],
    },
    { name: 'countries', features: [point(10, 10, { name: 'X' }, 1)] },
  ]);
  const fs = decode(data);
  assert.deepEqual(
    fs.map((f) => [f.id, f.x, f.y, f.own]),
    [
      [7, 128, 64, true],
      [8, -1, 6.25, false],
      [9, 256, 6.25, false],
      [10, 6.25, 256.25, false],
      [11, 0, 0, true],
    ],
  );
  assert.deepEqual({ ...fs[0].props }, { title: 'Shelling', event_type: 'Battles', status: 'verified', fatalities: 3 });
});

test('tiles of any extent are scaled to 256 pixels', () => {
  const fs = decode(incidentsTile([point(256, 511, { count: 2 })], 512));
  assert.deepEqual(fs.map((f) => [f.x, f.y, f.own]), [[128, 255.5, true]]);
});

test('a tile without incidents decodes to nothing', () => {
  assert.deepEqual(decode(mvt([{ name: 'countries', features: [point(1, 1, {}, 1)] }])), []);
  assert.deepEqual(decode(new Uint8Array(0)), []);
  assert.deepEqual(prepare([]), { clusters: false, items: [], raw: [] });
});

test('points: those in the buffer are drawn but only the own ones counted', () => {
  const fs = decode(
    incidentsTile([
      point(1000, 1000, { event_type: 'Battles', status: 'disputed' }, 1),
      point(-32, 1000, { event_type: 'Riots', status: 'verified' }, 2),
      point(3000, 3000, { event_type: 'Protests' }, 3),
    ]),
  );
  const { clusters, items, raw } = prepare(fs);
  assert.equal(clusters, false);
  // Every point is drawn (a marker on the edge is not cut), with what its popup needs.
  assert.deepEqual(items.map((it) => [it.id, it.count, it.props.event_type]), [[1, 1, 'Battles'], [2, 1, 'Riots'], [3, 1, 'Protests']]);
  assert.equal(items[0].props.status, 'disputed');
  assert.ok(items.every((it) => !it.cluster));
  // Only the tile's own are counted.
  assert.deepEqual(raw, [{ x: 62.5, y: 62.5, count: 1 }, { x: 187.5, y: 187.5, count: 1 }]);
});

test('fine clusters are summed per 64 px cell at their weighted centre', () => {
  const fs = decode(
    incidentsTile([
      // Two in the top-left cell (pixels 0–63).
      point(160, 160, { count: 3, event_type: 'Battles' }), // pixel 10, 10
      point(480, 160, { count: 1, event_type: 'Riots' }), // pixel 30, 10
      // One in the cell right of it (pixels 64–127), and one below that.
      point(1100, 200, { count: 250, event_type: 'Battles' }),
      point(1100, 1100, { count: 12000, event_type: 'Battles' }),
    ]),
  );
  const { clusters, items, raw } = prepare(fs);
  assert.equal(clusters, true);
  assert.deepEqual(items.map((it) => it.count), [4, 250, 12000]); // the biggest drawn last, on top
  const small = items[0];
  assert.equal(small.cluster, true);
  // Weighted: (10·3 + 30·1) / 4 = 15.
  assert.equal(small.cx, 15);
  assert.equal(small.cy, 10);
  assert.equal(small.r, clusterStyle(4).diameter / 2);
  // What is counted is the server's clusters, each once.
  assert.deepEqual(raw.map((c) => c.count), [3, 1, 250, 12000]);
  assert.equal(total(raw), total(items));
});

test('a cluster circle is drawn where its incidents are, coloured by their dominant type', () => {
  const fs = decode(
    incidentsTile([
      point(0, 0, { count: 5000, event_type: 'Battles', types: '{"Battles": 3000, "Riots": 2000}' }), // top-left corner
      point(16, 16, { count: 2500, event_type: 'Riots', types: '{"Riots": 2500}' }), // same cell: Riots now lead
      point(4095, 4095, { count: 1, event_type: 'Protests' }), // no types: its event_type
      point(3584, 512, { count: 7, event_type: 'Battles', types: '{"Battles": 3, "Protests": 3, "Riots": 1}' }),
    ]),
  );
  const { items } = prepare(fs);
  const at = (n) => items.find((it) => it.count === n);
  // Weighted centre, not moved inside its cell (it may reach over the tile's edge).
  assert.deepEqual([at(7500).x, at(7500).y], [(1 * 2500) / 7500, (1 * 2500) / 7500]);
  assert.deepEqual([at(1).x, at(1).y], [4095 / 16, 4095 / 16]);
  assert.deepEqual([at(7).x, at(7).y], [224, 32]);
  assert.equal(at(7500).type, 'Riots'); // 4,500 riots against 3,000 battles
  assert.equal(at(1).type, 'Protests');
  assert.equal(at(7).type, 'Battles'); // a tie goes to the first alphabetically
});

test('clusters in the buffer are the neighbour tile’s: neither drawn nor counted', () => {
  const fs = decode(
    incidentsTile([
      point(2000, 2000, { count: 10 }),
      point(-40, 2000, { count: 900 }),
      point(4096, 2000, { count: 900 }), // on the edge: the east neighbour's x = 0
      point(2000, 4130, { count: 900 }),
    ]),
  );
  const { clusters, items, raw } = prepare(fs);
  assert.equal(clusters, true);
  assert.deepEqual(items.map((it) => it.count), [10]);
  assert.deepEqual(raw.map((c) => c.count), [10]);
});

test('a tile holding only buffer clusters is drawn empty but still as clusters', () => {
  const { clusters, items, raw } = prepare(decode(incidentsTile([point(-10, 10, { count: 4 })])));
  assert.equal(clusters, true);
  assert.deepEqual(items, []);
  assert.deepEqual(raw, []);
});

test('clusters without a positive count are left out', () => {
  const { items, raw } = prepare(
    decode(incidentsTile([point(100, 100, { count: 0 }), point(200, 200, { count: 'x' }), point(300, 300, { count: 2 })])),
  );
  assert.deepEqual(items.map((it) => it.count), [2]);
  assert.deepEqual(raw.map((c) => c.count), [2]);
});

// A world of fine clusters at zoom 2 (4 × 4 tiles), some on tile edges and
// in buffers, cut into tiles as the server does: every tile holds what lies
// within its buffer.
function worldTiles(seed) {
  const Z = 2;
  const n = 1 << Z;
  let s = seed;
  const rand = (k) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % k;
  };
  const world = [];
  const size = n * EXTENT;
  for (let i = 0; i < 600; i++) world.push({ X: rand(size), Y: rand(size), count: 1 + rand(3000) });
  // On and around the tile edges.
  for (let k = 1; k < n; k++) {
    for (const d of [-BUFFER, -1, 0, 1, BUFFER - 1]) {
      world.push({ X: k * EXTENT + d, Y: rand(size), count: 1 + rand(50) });
      world.push({ X: rand(size), Y: k * EXTENT + d, count: 1 + rand(50) });
    }
    world.push({ X: k * EXTENT, Y: k * EXTENT, count: 77 }); // a corner of four tiles
  }
  const tiles = [];
  for (let ty = 0; ty < n; ty++) {
    for (let tx = 0; tx < n; tx++) {
      const features = [];
      for (const c of world) {
        const x = c.X - tx * EXTENT;
        const y = c.Y - ty * EXTENT;
        if (x >= -BUFFER && x <= EXTENT + BUFFER && y >= -BUFFER && y <= EXTENT + BUFFER) {
          features.push(point(x, y, { count: c.count, event_type: 'Battles' }));
        }
      }
      tiles.push({ tx, ty, data: incidentsTile(features) });
    }
  }
  return { world, tiles };
}

test('across the tiles of the world every cluster is counted once, in the cell of the world grid it lies in', () => {
  for (const seed of [1, 42, 2026]) {
    const { world, tiles } = worldTiles(seed);
    const cellUnits = (CLUSTER_CELL * EXTENT) / TILE_SIZE;
    const want = new Map();
    for (const c of world) {
      const key = `${Math.floor(c.X / cellUnits)},${Math.floor(c.Y / cellUnits)}`;
      want.set(key, (want.get(key) || 0) + c.count);
    }
    const got = new Map();
    let counted = 0;
    const perSide = TILE_SIZE / CLUSTER_CELL;
    for (const { tx, ty, data } of tiles) {
      const { items, raw } = prepare(decode(data));
      counted += total(raw);
      for (const it of items) {
        const key = `${tx * perSide + Math.floor(it.x / CLUSTER_CELL)},${ty * perSide + Math.floor(it.y / CLUSTER_CELL)}`;
        assert.ok(!got.has(key), `cell ${key} drawn twice (seed ${seed})`);
        got.set(key, it.count);
      }
    }
    assert.equal(counted, total(world), `seed ${seed}`);
    assert.deepEqual(got, want, `seed ${seed}`);
  }
});

test('points on tile edges are counted by one tile only', () => {
  const features = (tx) =>
    [0, 4095, 4096, 4097, 4096 + 60, -60, 8192].map((X, i) => point(X - tx * EXTENT, 2000, { event_type: 'Riots' }, i + 1));
  const inTile = (fs) => fs.filter((f) => f.geometry[0][0] >= -BUFFER && f.geometry[0][0] <= EXTENT + BUFFER);
  const a = prepare(decode(incidentsTile(inTile(features(0)))));
  const b = prepare(decode(incidentsTile(inTile(features(1)))));
  // X = 0, 4095 are the west tile's; 4096, 4097, 4156 the east tile's.
  assert.deepEqual(a.raw.map((f) => f.x), [0, 4095 / 16]);
  assert.deepEqual(b.raw.map((f) => f.x), [0, 1 / 16, 60 / 16]);
  // Those near an edge are drawn on both sides of it.
  assert.deepEqual(a.items.map((it) => it.id), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(b.items.map((it) => it.id), [2, 3, 4, 5, 7]);
});

test('cluster sizes, colours and fonts follow the DOM clusters', () => {
  assert.deepEqual(clusterStyle(1), { diameter: 30, fill: '#3d7ab8', font: 13 });
  assert.equal(clusterStyle(9).diameter, 30);
  assert.equal(clusterStyle(10).diameter, 36);
  assert.equal(clusterStyle(99).diameter, 36);
  assert.equal(clusterStyle(100).diameter, 42);
  assert.equal(clusterStyle(999).diameter, 42);
  assert.equal(clusterStyle(1000).diameter, 48);
  assert.equal(clusterStyle(5e6).diameter, 48);
  // Colours and font sizes are style.css's .incident-cluster.cluster-*.
  const css = readFileSync(new URL('../src/style.css', import.meta.url), 'utf8');
  const rule = (sel) => {
    const m = new RegExp(`^${sel.replace(/\./g, '\\.')} \\{([^}]*)\\}`, 'm').exec(css);
    assert.ok(m, `no rule ${sel} in style.css`);
    return m[1];
  };
  const prop = (body, name) => new RegExp(`(?:^|[;\\s])${name}:\\s*([^;]+);`).exec(body)?.[1].trim();
  const base = rule('.incident-cluster');
  const rem = (v) => parseFloat(v) * 16;
  for (const [n, size] of [[1, null], [10, 'medium'], [100, 'large'], [1000, 'huge']]) {
    const body = size ? rule(`.incident-cluster.cluster-${size}`) : base;
    assert.equal(clusterStyle(n).fill, prop(body, 'background') ?? prop(base, 'background'), `fill of ${n}`);
    assert.equal(clusterStyle(n).font, rem(prop(body, 'font-size') ?? prop(base, 'font-size')), `font of ${n}`);
  }
  assert.match(prop(base, 'box-shadow'), new RegExp(`0 0 0 ${CLUSTER_HALO}px`));
});

test('cluster labels fit the circle', () => {
  assert.equal(clusterLabel(7), '7');
  assert.equal(clusterLabel(9999), '9999');
  assert.equal(clusterLabel(10000), '10k');
  assert.equal(clusterLabel(56400), '56k');
  assert.equal(clusterLabel(56500), '57k');
  assert.equal(clusterLabel(999499), '999k');
  assert.equal(clusterLabel(999500), '1M'); // not "1000k"
  assert.equal(clusterLabel(1000000), '1M');
  assert.equal(clusterLabel(1234567), '1.2M');
  assert.equal(clusterLabel(12345678), '12.3M');
});

test('marker shapes are read from CSS clip paths', () => {
  assert.deepEqual(parseShape('polygon(50% 0, 100% 50%, 50% 100%, 0 50%)'), {
    polygon: [[0.5, 0], [1, 0.5], [0.5, 1], [0, 0.5]],
  });
  assert.deepEqual(parseShape(' polygon(0% 0%, 9px 0, 100% 18px) '), { polygon: [[0, 0], [0.5, 0], [1, 1]] });
  assert.deepEqual(parseShape('inset(8%)'), { polygon: [[0.08, 0.08], [0.92, 0.08], [0.92, 0.92], [0.08, 0.92]] });
  assert.deepEqual(parseShape('circle(50%)'), { circle: true });
  // Anything else is drawn as a circle rather than not at all.
  for (const bad of ['', undefined, 'none', 'polygon(50% 0, 100% 50%)', 'polygon(a b, c d, e f)', 'ellipse(40% 50%)']) {
    assert.deepEqual(parseShape(bad), { circle: true }, String(bad));
  }
});

test('every marker shape in style.css is drawn as its shape', () => {
  const css = readFileSync(new URL('../src/style.css', import.meta.url), 'utf8');
  const shapes = [...css.matchAll(/--shape:\s*([^;]+);/g)].map((m) => m[1].trim());
  assert.ok(shapes.length >= 6, 'style.css gives the event types their shapes');
  for (const s of shapes) {
    const shape = parseShape(s);
    if (s.startsWith('circle(')) {
      assert.deepEqual(shape, { circle: true }, s);
      continue;
    }
    assert.ok(shape.polygon, `${s} is not parsed`);
    assert.ok(shape.polygon.flat().every((v) => v >= 0 && v <= 1), `${s} leaves its box`);
  }
  const insets = [...css.matchAll(/--inset:\s*([^;]+);/g)].map((m) => m[1].trim());
  for (const s of insets) assert.ok(parseInset(s).every((v) => v > 0 && v < SYMBOL_SIZE / 2), s);
});

test('marker insets follow the CSS shorthand', () => {
  assert.deepEqual(parseInset('3px'), [3, 3, 3, 3]);
  assert.deepEqual(parseInset('1px 2px'), [1, 2, 1, 2]);
  assert.deepEqual(parseInset('3.5px 3px 1.5px'), [3.5, 3, 1.5, 3]);
  assert.deepEqual(parseInset('1px 2px 3px 4px'), [1, 2, 3, 4]);
  assert.deepEqual(parseInset(''), [2, 2, 2, 2]);
  assert.deepEqual(parseInset(undefined), [2, 2, 2, 2]);
  assert.deepEqual(parseInset('auto'), [2, 2, 2, 2]);
});

test('tile URLs name z/row/column and carry the filters and the timeline window', () => {
  assert.equal(tilePath(5, 17, 11, new URLSearchParams()), '/api/collections/incidents/tiles/WebMercatorQuad/5/11/17');
  const f = { ...defaultFilters(), from: '2020-10-01', to: '2020-10-31', types: ['Battles', 'Riots'], statuses: ['verified'], q: 'a&b', border: '5' };
  const url = new URL(tilePath(3, 4, 2, incidentParams(f)), 'http://x');
  assert.equal(url.pathname, '/api/collections/incidents/tiles/WebMercatorQuad/3/2/4');
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    datetime: '2020-10-01/2020-10-31',
    event_type: 'Battles,Riots',
    status: 'verified',
    q: 'a&b',
    near_border_km: '5',
  });
  // The timeline window replaces the filter dates.
  const win = new URL(tilePath(3, 4, 2, incidentParams(f, { from: '2020-10-12', to: '2020-10-18' })), 'http://x');
  assert.equal(win.searchParams.get('datetime'), '2020-10-12/2020-10-18');
  assert.equal(win.searchParams.get('event_type'), 'Battles,Riots');
  // An open end.
  const open = new URL(tilePath(0, 0, 0, incidentParams({ ...defaultFilters(), to: '2021-01-01' })), 'http://x');
  assert.equal(open.searchParams.get('datetime'), '../2021-01-01');
});

// withFetch runs fn with a stand-in fetch answering answer(url, init), in a
// page at http://map.example/.
async function withFetch(answer, fn) {
  const calls = [];
  const saved = { fetch: globalThis.fetch, window: globalThis.window };
  globalThis.window = { location: { href: 'http://map.example/' } };
  globalThis.fetch = async (url, init) => {
    calls.push({ url: new URL(url, 'http://map.example/'), init });
    return answer(url, init);
  };
  try {
    await fn(calls);
  } finally {
    globalThis.fetch = saved.fetch;
    if (saved.window === undefined) delete globalThis.window;
    else globalThis.window = saved.window;
  }
}

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/geo+json' } });

test('the count in view is one feature page of the same filters and bbox', async () => {
  await withFetch(
    () => json({ type: 'FeatureCollection', features: [{}], numberMatched: 23456, numberReturned: 1 }),
    async (calls) => {
      const params = incidentParams({ ...defaultFilters(), types: ['Battles'], q: 'port' });
      params.set('bbox', '40,30,50,40');
      params.set('limit', '10000');
      const before = params.toString();
      assert.equal(await countIncidents(params), 23456);
      assert.equal(params.toString(), before, "the caller's parameters are left alone");
      const { url, init } = calls[0];
      assert.equal(url.pathname, '/api/collections/incidents/items');
      assert.equal(url.searchParams.get('limit'), '1');
      assert.equal(url.searchParams.get('bbox'), '40,30,50,40');
      assert.equal(url.searchParams.get('event_type'), 'Battles');
      assert.equal(url.searchParams.get('q'), 'port');
      assert.equal(init.cache, 'default');
      // After live events the count must not come from the browser's cache.
      await countIncidents(params, { fresh: true });
      assert.equal(calls[1].init.cache, 'no-store');
    },
  );
});

test('a count the server did not make is null, an error is thrown', async () => {
  await withFetch(
    () => json({ type: 'FeatureCollection', features: [{}], numberReturned: 1 }),
    async () => assert.equal(await countIncidents(new URLSearchParams()), null),
  );
  await withFetch(
    () => json({ code: 'InvalidParameterValue', description: 'bad bbox' }, 400),
    async () => {
      await assert.rejects(countIncidents(new URLSearchParams('bbox=x')), (err) => err instanceof ApiError && err.status === 400 && err.code === 'InvalidParameterValue');
    },
  );
});

test('a view is within a loaded one only when wholly inside it', () => {
  const loaded = [40, 30, 50, 40];
  assert.ok(bboxWithin([42, 32, 48, 38], loaded));
  assert.ok(bboxWithin(loaded, loaded));
  assert.ok(!bboxWithin([39.9, 32, 48, 38], loaded));
  assert.ok(!bboxWithin([42, 29.9, 48, 38], loaded));
  assert.ok(!bboxWithin([42, 32, 50.1, 38], loaded));
  assert.ok(!bboxWithin([42, 32, 48, 40.1], loaded));
  assert.ok(!bboxWithin([30, 20, 60, 50], loaded)); // zoomed out
  // Across the antimeridian: never said to be inside (the count is asked again).
  assert.ok(!bboxWithin([175, 0, -175, 10], [170, -10, -170, 20]));
  assert.ok(!bboxWithin([171, 0, 179, 10], [170, -10, -170, 20]));
  assert.ok(!bboxWithin([175, 0, -175, 10], [-180, -90, 180, 90]));
});

test('Enter reaches the item drawn nearest the centre, in view, across tiles', () => {
  const a = { cluster: true, x: 250, y: 10, count: 3 }; // near the right edge of tile 1/1
  const b = { cluster: true, x: 20, y: 20, count: 5000 }; // tile 2/1, further away
  const c = { cluster: true, x: 128, y: 128, count: 9 }; // tile 2/1, out of view
  const tiles = [
    { x: 1, y: 1, items: [a] },
    { x: 2, y: 1, items: [b, c] },
  ];
  const view = { minX: 300, minY: 200, maxX: 560, maxY: 300 };
  const centre = { x: 515, y: 268 };
  assert.equal(nearest(tiles, centre, view).item, a); // about 9 world pixels away, b 19
  assert.equal(nearest(tiles, centre, view).tile, tiles[0]);
  assert.equal(nearest(tiles, { x: 540, y: 280 }, view).item, b);
  assert.equal(nearest(tiles, { x: 640, y: 384 }, view).item, b); // c is nearer but not in view
  assert.equal(nearest(tiles, centre, { minX: 0, minY: 0, maxX: 10, maxY: 10 }), null);
  assert.equal(nearest([], centre, view), null);
  // Two items at the same place: the one drawn last, on top, as a click.
  const under = { x: 5, y: 5, props: { title: 'under' } };
  const over = { x: 5, y: 5, props: { title: 'over' } };
  assert.equal(nearest([{ x: 0, y: 0, items: [under, over] }], { x: 0, y: 0 }, { minX: 0, minY: 0, maxX: 256, maxY: 256 }).item, over);
});

test('the Enter hint says what Enter does, with the title as plain text', () => {
  assert.equal(keyHint({ cluster: true, count: 1234 }), 'Enter: zoom to 1,234 incidents near the centre');
  assert.equal(keyHint({ cluster: true, count: 1 }), 'Enter: zoom to 1 incident near the centre');
  assert.equal(keyHint({ x: 0, y: 0, props: { title: ' <b>Riot</b> ' } }), 'Enter: open \u201c<b>Riot</b>\u201d');
  assert.equal(keyHint({ x: 0, y: 0, props: {} }), 'Enter: open the incident nearest the centre');
  assert.match(keyHint(null), /^No incident drawn in view/);
});

test('precision circles: their radius in pixels by zoom and latitude, none when too small', () => {
  const world = (z) => TILE_SIZE * 2 ** z;
  const equator = (z) => world(z) / 2;
  // 25 km at the equator, zoom 8: 25,000 m over 40,075,016.686 m / 65,536 px.
  const r8 = circleRadiusPx({ geo_precision: 3 }, equator(8), 8);
  assert.ok(Math.abs(r8 - 40.883) < 0.001, `25 km at z 8 on the equator = ${r8} px, want 40.883`);
  assert.equal(circleRadiusPx({ geo_precision: 1 }, equator(8), 8), 0, 'an exact point has no circle');
  // 2 km at z 8 is 3.3 px: under MIN_CIRCLE_PX, not drawn; at z 9, 6.5 px.
  assert.equal(circleRadiusPx({ geo_precision: 2 }, equator(8), 8), 0, `2 km at z 8: want none under ${MIN_CIRCLE_PX} px`);
  const r9 = circleRadiusPx({ geo_precision: '2' }, equator(9), 9);
  assert.ok(Math.abs(r9 - 6.541) < 0.001, `2 km at z 9 = ${r9} px, want 6.541`);
  // At 60° north a metre is twice as many Mercator pixels as on the equator.
  const lat = (60 * Math.PI) / 180;
  const y60 = (world(8) / 2) * (1 - Math.log(Math.tan(Math.PI / 4 + lat / 2)) / Math.PI);
  const r60 = circleRadiusPx({ geo_precision: 3 }, y60, 8);
  assert.ok(Math.abs(r60 / r8 - 2) < 1e-9, `radius at 60° / equator = ${r60 / r8}, want 2`);
});

test('precision circles: how many tiles away they reach', () => {
  const z = 8;
  const ty = 2 ** z / 2; // the tile row just south of the equator
  const items = [
    { x: 250, y: 0, props: { geo_precision: 3 } }, // 40.9 px: 34.9 px over the east edge
    { x: 100, y: 100, props: { geo_precision: 1 } },
  ];
  assert.equal(circleReach(items, ty, z), 1);
  assert.ok(items[0].r > 40 && items[1].r === 0, `radii ${items[0].r}, ${items[1].r}: want about 40.9 and 0`);
  assert.equal(circleReach([{ x: 128, y: 128, props: { geo_precision: 2 } }], ty, z), 0, '2 km at z 8 is not drawn');
  const far = [{ x: 128, y: 128, props: { geo_precision: 3 } }]; // z 14: 2,600 px
  assert.equal(circleReach(far, 2 ** 14 / 2, 14), MAX_CIRCLE_REACH);
  assert.equal(circleReach([{ cluster: true, x: 0, y: 0, props: { geo_precision: 3 } }], ty, z), 0, 'clusters have no circle');
});
