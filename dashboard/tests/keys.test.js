// The playground's transform ranges and names against the engine's key table
// (tests/vectors/transform_keys.json), read from the module's source: no browser needed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const table = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'vectors', 'transform_keys.json'), 'utf8'));
const keys = Object.fromEntries(table.keys.map((k) => [k.key, k]));
const source = fs.readFileSync(path.join(REPO, 'dashboard', 'app', 'js', 'views', 'playground.js'), 'utf8');

/** The value of a top-level `const NAME = <literal>;` in playground.js. */
function constant(name) {
  const m = source.match(new RegExp(`^const ${name} = (.*);$`, 'm'));
  assert.ok(m, `playground.js has no const ${name}`);
  return Function(`"use strict"; return (${m[1]});`)();
}

test('playground ranges are the key table\'s', () => {
  const ranges = constant('RANGES');
  for (const [key, [min, max]] of Object.entries(ranges)) {
    assert.ok(keys[key], `${key} is not a transform key`);
    assert.deepEqual([min, max], [keys[key].min, keys[key].max], `range of ${key}`);
  }
  const numeric = table.keys.filter((k) => k.kind === 'int' || k.kind === 'decimal').map((k) => k.key);
  assert.deepEqual(Object.keys(ranges).sort(), numeric.sort(), 'every numeric key has a control');
  const [dprMin, dprMax] = ranges.dpr;
  for (const d of constant('DPRS')) assert.ok(Number(d) >= dprMin && Number(d) <= dprMax, `dpr option ${d}`);
});

test('playground crop modes and formats are the key table\'s', () => {
  assert.deepEqual(constant('CROPS'), keys.c.values);
  assert.deepEqual(constant('FORMATS'), keys.f.values);
});
