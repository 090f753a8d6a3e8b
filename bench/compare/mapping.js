// How an imgcloud transform string maps onto sharp settings, for the subset the benchmark uses
// (w, h, c, f, q). Anything else is refused so the comparison can never silently differ.
//
// Geometry
//   w_W,h_H,c_fill|c_cover  -> resize({ width, height, fit: 'cover', position: 'centre' })
//   w_W and/or h_H (no c, c_fit, c_inside) -> resize({ width, height, fit: 'inside',
//                                                      withoutEnlargement: true })
//   Both sides use Lanczos3 (sharp's default kernel; the engine's fast_image_resize filter) and
//   shrink JPEGs on load (libjpeg DCT scaling on both sides: sharp's libvips and the engine's mozjpeg crate).
//   Alpha is premultiplied for resizing on both sides.
// Encoders (engine defaults: q 80 for jpg/webp, 50 for avif; ravif speed 9, 8-bit)
//   f_jpg  -> jpeg({ quality, mozjpeg: false, chromaSubsampling: 4:2:0 below q 90 else 4:4:4,
//                    progressive: true })
//            (the engine's output: libjpeg-turbo settings, progressive, optimised Huffman tables.
//             sharp's bundled libjpeg is mozjpeg; mozjpeg: false selects the same fastest profile.)
//   f_webp -> webp({ quality, effort: 4, alphaQuality: 100, smartSubsample: false })
//            (libwebp on both sides; the engine's WebPEncodeRGB(A)-style call uses method 4 and
//             lossless alpha, which is what these options ask sharp for.)
//   f_avif -> avif({ quality, effort: AVIF_EFFORT, chromaSubsampling: '4:4:4' })
//            sharp's effort 0..9 (lower is faster) drives aom's cpu-used = 9 - effort. The engine
//            uses ravif (rav1e) speed 9 on a 1..10 scale (10 fastest), 8-bit like aom here.
//            Speed scales do not map across encoders, so compare.js reports bytes and PSNR next
//            to every time, plus sharp at effort 1 and the engine at speed 8 as second reference
//            points. Both encode 4:4:4.
//   f_png  -> png() (zlib level 6, sharp defaults); not used by the default paths.
// Metadata: sharp strips it unless asked (withMetadata); the engine never writes any.
'use strict';

const AVIF_EFFORT = 2;

function parse(transform) {
  const t = {};
  for (const item of transform.split(',').filter(Boolean)) {
    const i = item.indexOf('_');
    const k = i < 0 ? item : item.slice(0, i);
    const v = i < 0 ? '' : item.slice(i + 1);
    if (!['w', 'h', 'c', 'f', 'q'].includes(k)) throw new Error(`mapping: unsupported key ${k} in ${transform}`);
    t[k] = k === 'w' || k === 'h' || k === 'q' ? Number(v) : v;
  }
  return t;
}

function defaults(t) {
  const f = t.f === 'jpeg' ? 'jpg' : t.f || 'jpg';
  const q = t.q || (f === 'avif' ? 50 : 80);
  return { f, q };
}

/** Applies `transform` to a sharp instance; `opts.avifEffort` overrides the mapped effort. */
function sharpPipeline(img, transform, opts = {}) {
  const t = parse(transform);
  const { f, q } = defaults(t);
  if (t.w || t.h) {
    const c = t.c || 'fit';
    if (c === 'fill' || c === 'cover') {
      if (!(t.w && t.h)) throw new Error('mapping: c_fill needs w and h here');
      img = img.resize({ width: t.w, height: t.h, fit: 'cover', position: 'centre' });
    } else if (c === 'fit' || c === 'inside') {
      img = img.resize({ width: t.w || null, height: t.h || null, fit: 'inside', withoutEnlargement: true });
    } else {
      throw new Error(`mapping: unsupported crop mode c_${c}`);
    }
  }
  switch (f) {
    case 'jpg':
      return img.jpeg({ quality: q, mozjpeg: false, chromaSubsampling: q >= 90 ? '4:4:4' : '4:2:0', progressive: true });
    case 'webp':
      return img.webp({ quality: q, effort: 4, alphaQuality: 100, smartSubsample: false });
    case 'avif':
      return img.avif({ quality: q, effort: opts.avifEffort ?? AVIF_EFFORT, chromaSubsampling: '4:4:4' });
    case 'png':
      return img.png();
    default:
      throw new Error(`mapping: unsupported format f_${f}`);
  }
}

/** A one-line human description of the sharp settings used for `transform`. */
function describe(transform) {
  const t = parse(transform);
  const { f, q } = defaults(t);
  const parts = [];
  if (t.w || t.h) {
    const c = t.c || 'fit';
    parts.push(
      c === 'fill' || c === 'cover'
        ? `resize(${t.w}, ${t.h}, cover, centre)`
        : `resize(${t.w || 'auto'}, ${t.h || 'auto'}, inside)`,
    );
  }
  if (f === 'jpg') parts.push(`jpeg(q ${q}, mozjpeg off, ${q >= 90 ? '4:4:4' : '4:2:0'}, progressive)`);
  if (f === 'webp') parts.push(`webp(q ${q}, effort 4)`);
  if (f === 'avif') parts.push(`avif(q ${q}, effort ${AVIF_EFFORT}, 4:4:4)`);
  if (f === 'png') parts.push('png()');
  return parts.join(' + ');
}

module.exports = { sharpPipeline, describe, AVIF_EFFORT };
