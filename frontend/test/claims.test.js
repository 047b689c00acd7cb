// Claims in words (claims.js): what the popup says for each stance, and
// the JSON a moderator's form sends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimBody, claimLine } from '../src/claims.js';

test('each stance reads as the party said it', () => {
  assert.deepEqual(claimLine({ party: 'Ministry of Defence of Armenia', stance: 'attributes_to', attributed_to: 'Azerbaijan', text: 'shelling' }),
    { party: 'Ministry of Defence of Armenia', verb: 'blames Azerbaijan', text: 'shelling' });
  assert.deepEqual(claimLine({ party: 'Azerbaijan MoD', stance: 'denies', text: 'no shelling' }),
    { party: 'Azerbaijan MoD', verb: 'denies', text: 'no shelling' });
  assert.deepEqual(claimLine({ party: 'A', stance: 'asserts', text: 't' }), { party: 'A', verb: 'says', text: 't' });
  assert.deepEqual(claimLine({ party: 'Baku', stance: 'no_comment', text: 'no immediate response' }),
    { party: 'Baku', verb: '', text: 'no immediate response' });
  assert.deepEqual(claimLine({ party: 'Baku', stance: 'no_comment' }), { party: 'Baku', verb: '', text: 'no comment' });
  // Whatever the server sends, text stays text.
  assert.equal(claimLine({ party: '<img src=x onerror=alert(1)>', stance: 'asserts', text: 1 }).party, '<img src=x onerror=alert(1)>');
});

test('the form sends only what applies', () => {
  const v = { party: ' Baku ', stance: 'no_comment', attributed_to: 'left over', text: ' none ', source_name: 'GR', source_url: '', claimed_at: '' };
  assert.deepEqual(claimBody(v), { party: 'Baku', stance: 'no_comment', text: 'none', source: { name: 'GR' }, claimed_at: null });
  const blame = { ...v, stance: 'attributes_to', attributed_to: 'Armenia', source_url: 'https://example.org/a', claimed_at: '2020-10-18T06:00:00Z' };
  assert.deepEqual(claimBody(blame), {
    party: 'Baku', stance: 'attributes_to', attributed_to: 'Armenia', text: 'none',
    source: { name: 'GR', url: 'https://example.org/a' }, claimed_at: '2020-10-18T06:00:00Z',
  });
});
