'use strict';
// Transform grammar, mirroring engine/src/transform/ byte for byte (checked against
// tests/vectors/transforms.json and tests/vectors/transform_objects.json; the ranges against the
// engine's key table, tests/vectors/transform_keys.json, by test/keys.test.js).

const KEYS = ['w', 'h', 'c', 'q', 'f', 'dpr', 'gr', 'bl', 'r', 'bg'];
const CROPS = ['fit', 'inside', 'outside', 'fill', 'cover', 'contain', 'thumb'];
const FORMATS = ['auto', 'jpg', 'png', 'webp', 'avif', 'gif'];
const MAX_SIDE = 4000;
const MAX_PIXELS = 16000000;

const RANGE = {
  w: 'an integer from 1 to 4000',
  h: 'an integer from 1 to 4000',
  c: 'one of fit, fill, cover, contain, inside, outside, thumb',
  q: 'an integer from 1 to 100',
  f: 'one of auto, jpg, png, webp, avif, gif',
  dpr: 'a number from 1 to 3 with at most 2 decimals',
  gr: '1',
  bl: 'a number from 0.3 to 25 with at most 2 decimals',
  r: 'an integer from -360 to 360',
  bg: '6 hex digits like ffffff',
};

/** Raised synchronously by urlFor / canonicalTransform; `key` names the offending key ('' for an empty item). */
class TransformError extends Error {
  constructor(key, message) {
    super(message);
    this.name = 'TransformError';
    this.key = key;
  }
}

function shown(v) {
  const chars = Array.from(String(v));
  return chars.length > 32 ? chars.slice(0, 32).join('') + '...' : String(v);
}
function badValue(key, value) {
  return new TransformError(key, `${key} must be ${RANGE[key]} (got ${shown(value)})`);
}
function leadingZero(key, value) {
  return new TransformError(key, `${key} must be ${RANGE[key]}, written without leading zeros (got ${shown(value)})`);
}
// `0|[1-9][0-9]*`; null when not digits, throws on leading zeros.
function digits(key, raw, s) {
  if (s.length === 0 || !/^[0-9]+$/.test(s)) return null;
  if (s.length > 1 && s[0] === '0') throw leadingZero(key, raw);
  return s.length > 9 ? Infinity : Number(s);
}
function parseUint(key, value, min, max) {
  const n = digits(key, value, value);
  if (n === null || n < min || n > max) throw badValue(key, value);
  return n;
}
function parseRotation(value) {
  const neg = value.startsWith('-');
  const body = neg ? value.slice(1) : value;
  const n = digits('r', value, body);
  if (n === 0 && neg) throw leadingZero('r', value);
  if (n === null || n > 360) throw badValue('r', value);
  return neg ? -n : n;
}
function parseHundredths(key, value, min, max) {
  const dot = value.indexOf('.');
  const intPart = dot === -1 ? value : value.slice(0, dot);
  const frac = dot === -1 ? null : value.slice(dot + 1);
  const int = digits(key, value, intPart);
  if (int === null) throw badValue(key, value);
  let f = 0;
  if (frac !== null) {
    if (!/^[0-9]{1,2}$/.test(frac)) throw badValue(key, value);
    f = frac.length === 1 ? Number(frac) * 10 : Number(frac);
  }
  const v = int * 100 + f;
  if (!(v >= min && v <= max)) throw badValue(key, value);
  return v;
}
function fmtHundredths(v) {
  const int = Math.floor(v / 100);
  const frac = v % 100;
  if (frac === 0) return String(int);
  if (frac % 10 === 0) return `${int}.${frac / 10}`;
  return `${int}.${String(frac).padStart(2, '0')}`;
}
function scaleByDpr(value, dpr) {
  return Math.max(1, Math.floor((value * dpr + 50) / 100));
}

/** Parses a transform string (any item order) into a plain record of typed values. */
function parse(s) {
  const t = {};
  if (s === '') return t;
  const seen = new Set();
  for (const item of s.split(',')) {
    if (item === '') throw new TransformError('', 'empty item in transform');
    const us = item.indexOf('_');
    const key = us === -1 ? item : item.slice(0, us);
    const value = us === -1 ? null : item.slice(us + 1);
    if (!KEYS.includes(key)) {
      throw new TransformError(key, `unknown transform key '${shown(key)}' (known: ${KEYS.join(', ')})`);
    }
    if (seen.has(key)) throw new TransformError(key, `duplicate key '${key}'`);
    seen.add(key);
    if (value === null || value === '') {
      throw new TransformError(key, `missing value for '${key}': ${key} must be ${RANGE[key]}, as in ${key}_<value>`);
    }
    switch (key) {
      case 'w': case 'h': t[key] = parseUint(key, value, 1, 4000); break;
      case 'q': t.q = parseUint(key, value, 1, 100); break;
      case 'c':
        if (!CROPS.includes(value)) throw badValue(key, value);
        t.c = value; break;
      case 'f': {
        const f = value === 'jpeg' ? 'jpg' : value;
        if (!FORMATS.includes(f)) throw badValue(key, value);
        t.f = f; break;
      }
      case 'dpr': t.dpr = parseHundredths(key, value, 100, 300); break;
      case 'bl': t.bl = parseHundredths(key, value, 30, 2500); break;
      case 'gr':
        if (value !== '1') throw badValue(key, value);
        t.gr = true; break;
      case 'r': t.r = parseRotation(value); break;
      case 'bg':
        if (!/^[0-9a-fA-F]{6}$/.test(value)) throw badValue(key, value);
        t.bg = value.toLowerCase(); break;
    }
  }
  validateBounds(t);
  return t;
}

function validateBounds(t) {
  const dpr = t.dpr === undefined ? 100 : t.dpr;
  for (const key of ['w', 'h']) {
    const v = t[key];
    if (v === undefined) continue;
    const scaled = scaleByDpr(v, dpr);
    if (scaled > MAX_SIDE) {
      throw new TransformError(t.dpr !== undefined ? 'dpr' : key,
        `${key} x dpr = ${v} x ${fmtHundredths(dpr)} = ${scaled} exceeds ${MAX_SIDE} px; each side after dpr must be at most ${MAX_SIDE} px`);
    }
  }
  if (t.w !== undefined && t.h !== undefined) {
    const w = scaleByDpr(t.w, dpr);
    const h = scaleByDpr(t.h, dpr);
    if (w * h > MAX_PIXELS) {
      throw new TransformError(t.dpr !== undefined ? 'dpr' : 'w',
        `w x h after dpr = ${w} x ${h} = ${w * h} px exceeds the ${MAX_PIXELS} px (16 MP) limit`);
    }
  }
}

function print(t) {
  const out = [];
  if (t.w !== undefined) out.push(`w_${t.w}`);
  if (t.h !== undefined) out.push(`h_${t.h}`);
  if (t.c !== undefined) out.push(`c_${t.c}`);
  if (t.q !== undefined) out.push(`q_${t.q}`);
  if (t.f !== undefined) out.push(`f_${t.f}`);
  if (t.dpr !== undefined) out.push(`dpr_${fmtHundredths(t.dpr)}`);
  if (t.gr) out.push('gr_1');
  if (t.bl !== undefined) out.push(`bl_${fmtHundredths(t.bl)}`);
  if (t.r !== undefined) out.push(`r_${t.r}`);
  if (t.bg !== undefined) out.push(`bg_${t.bg}`);
  return out.join(',');
}

// One value of the object form, spelled as the string grammar would spell it.
function valueText(key, v) {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw badValue(key, String(v));
    if (Object.is(v, -0)) return '0';
    if (key === 'dpr' || key === 'bl') {
      const hundredths = Math.round(v * 100);
      if (Math.abs(v * 100 - hundredths) > 1e-6 || hundredths < 0) throw badValue(key, String(v));
      return fmtHundredths(hundredths);
    }
    if (key === 'gr') return String(v);
    if (!Number.isInteger(v)) throw badValue(key, String(v));
    return String(v);
  }
  if (typeof v === 'boolean' && key === 'gr') return v ? '1' : null;
  if (typeof v === 'string') {
    if (v.includes(',')) throw badValue(key, v);
    return v;
  }
  throw badValue(key, String(v));
}

/**
 * The server's canonical transform string for a transform given as an object
 * ({ w: 400, c: 'fill' }) or as a string in any item order. Throws TransformError.
 */
function canonicalTransform(input) {
  if (input === undefined || input === null) return '';
  if (typeof input === 'string') return print(parse(input));
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError('transform must be an object like { w: 400 } or a string like "w_400"');
  }
  const items = [];
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) {
      throw new TransformError(key, `unknown transform key '${shown(key)}' (known: ${KEYS.join(', ')})`);
    }
  }
  for (const key of KEYS) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    const text = valueText(key, v);
    if (text === null) continue;
    if (text === '') throw new TransformError(key, `missing value for '${key}': ${key} must be ${RANGE[key]}, as in ${key}_<value>`);
    items.push(`${key}_${text}`);
  }
  return print(parse(items.join(',')));
}

module.exports = { TransformError, canonicalTransform, TRANSFORM_KEYS: KEYS };
