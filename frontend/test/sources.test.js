// Sources as the popup shows them (src/sources.js): pure parts, no DOM.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { independentText, sourceParts } from '../src/sources.js';

test('a source reads "Publisher — title (kind, published date)"', () => {
  const p = sourceParts({
    url: 'https://www.reuters.com/a',
    publisher: 'Reuters',
    title: 'Truce breached',
    published_at: '2020-10-18T06:00:00+04:00',
    kind: 'media',
    archive_url: 'https://web.archive.org/web/2020/x',
    sha256: 'ab'.repeat(32),
  });
  assert.equal(p.label, 'Reuters — Truce breached');
  assert.equal(p.detail, 'media, 2020-10-18');
  assert.equal(p.href, 'https://www.reuters.com/a');
  assert.equal(p.archiveHref, 'https://web.archive.org/web/2020/x');
});

test('only http(s) URLs become links', () => {
  for (const url of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'data:text/html,x', 'vbscript:x', '//evil.example/x', 'ftp://x.example/']) {
    assert.equal(sourceParts({ publisher: 'x', url, archive_url: url }).href, null, url);
    assert.equal(sourceParts({ publisher: 'x', url, archive_url: url }).archiveHref, null, url);
  }
});

test('what is not known is not shown; the first shape still reads', () => {
  assert.deepEqual(
    { ...sourceParts({ publisher: 'ACLED source' }), sha256: undefined },
    { label: 'ACLED source', href: null, archiveHref: null, sha256: undefined, detail: '' },
  );
  const old = sourceParts({ name: 'Ministry of Defence', date: '2020-10-18', url: 'https://example.org/mod' });
  assert.equal(old.label, 'Ministry of Defence');
  assert.equal(old.detail, '2020-10-18');
  assert.equal(sourceParts({ url: 'https://example.org/x' }).label, 'https://example.org/x');
  assert.equal(sourceParts({ publisher: 'x', kind: 'rumour', published_at: 'last week' }).detail, '');
  assert.equal(sourceParts(null).label, 'source');
});

test('the independent count', () => {
  assert.equal(independentText(1), '1 independent source');
  assert.equal(independentText(2), '2 independent sources');
  assert.equal(independentText(0), '0 independent sources');
  assert.equal(independentText(undefined), '');
});
