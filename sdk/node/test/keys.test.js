'use strict';
// The SDK's grammar against the engine's key table (tests/vectors/transform_keys.json): every
// key's bounds are accepted, one step past them is refused with the table's range text, and every
// name and alias reads as the table says. Fails when the SDK's ranges drift from the server's.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { canonicalTransform, TransformError } = require('..');
const { TRANSFORM_KEYS } = require('../lib/transform');
const { REPO_ROOT } = require('./helpers');

const table = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'vectors', 'transform_keys.json'), 'utf8'));

function refused(key, value, rangeText) {
  assert.throws(() => canonicalTransform(`${key}_${value}`), (e) => {
    assert.ok(e instanceof TransformError, String(e));
    assert.equal(e.key, key);
    assert.equal(e.message, `${key} must be ${rangeText} (got ${value})`);
    return true;
  });
}

test('key names and order are the table\'s', () => {
  assert.deepEqual([...TRANSFORM_KEYS], table.keys.map((k) => k.key));
});

for (const k of table.keys) {
  test(`key ${k.key}: ${k.range_text}`, () => {
    const ok = (v, printed = v) => assert.equal(canonicalTransform(`${k.key}_${v}`), `${k.key}_${printed}`);
    switch (k.kind) {
      case 'int':
        ok(String(k.min));
        ok(String(k.max));
        refused(k.key, String(k.min - 1), k.range_text);
        refused(k.key, String(k.max + 1), k.range_text);
        break;
      case 'decimal': {
        const f = 10 ** k.decimals;
        const step = 1 / f;
        const fmt = (x) => String(Math.round(x * f) / f);
        ok(fmt(k.min));
        ok(fmt(k.max));
        refused(k.key, fmt(k.min - step), k.range_text);
        refused(k.key, fmt(k.max + step), k.range_text);
        break;
      }
      case 'name':
        for (const v of k.values) ok(v);
        for (const [alias, name] of Object.entries(k.aliases)) ok(alias, name);
        refused(k.key, 'zz', k.range_text);
        break;
      case 'flag':
        for (const v of k.values) ok(v);
        refused(k.key, '2', k.range_text);
        break;
      case 'hex':
        ok('a'.repeat(k.digits));
        refused(k.key, 'a'.repeat(k.digits - 1), k.range_text);
        break;
      default:
        assert.fail(`unknown kind ${k.kind} in the key table: teach this test and the SDK`);
    }
  });
}

test('the typings document the table\'s ranges and names', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');
  const block = dts.slice(dts.indexOf('export interface Transform {'));
  for (const k of table.keys.filter((k) => k.kind === 'int' || k.kind === 'decimal')) {
    const doc = block.match(new RegExp(`/\\*\\* ([^*]*) \\*/\\s*${k.key}\\?:`));
    assert.ok(doc, `index.d.ts documents ${k.key}`);
    assert.ok(doc[1].includes(`${k.min}..${k.max}`), `index.d.ts ${k.key}: "${doc[1]}" should say ${k.min}..${k.max}`);
  }
  for (const [type, key] of [['CropMode', 'c'], ['OutputFormat', 'f']]) {
    const m = dts.match(new RegExp(`export type ${type} =([^;]*);`));
    assert.ok(m, `index.d.ts has type ${type}`);
    const names = [...m[1].matchAll(/'([a-z]+)'/g)].map((x) => x[1]);
    const k = table.keys.find((x) => x.key === key);
    assert.deepEqual(names.filter((n) => !(n in k.aliases)).sort(), [...k.values].sort(), `${type} names`);
  }
});
