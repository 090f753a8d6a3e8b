// Thumbnail markup shared by the library grid and the asset page: our own transform URLs with a DPR srcset.

import { h } from './ui.js';
import { deliveryPath } from './api.js';

/**
 * An <img> of `asset` at `size` CSS px square, cropped by c_thumb, in the best format the browser
 * accepts (f_auto), with 2x/3x variants so high-DPI screens get sharp pixels without JS.
 * The URLs are versioned (`/v<version>/`): cacheable for a year, and an overwrite changes them.
 */
export function thumbImg(asset, size = 200, { lazy = true, crop = 'c_thumb' } = {}) {
  const base = `w_${size},h_${size},${crop},f_auto`;
  const src = (dpr) => deliveryPath(asset.public_id, dpr === 1 ? base : `${base},dpr_${dpr}`, asset.version);
  return h('img', {
    src: src(1),
    srcset: `${src(1)} 1x, ${src(2)} 2x, ${src(3)} 3x`,
    width: String(size),
    height: String(size),
    loading: lazy ? 'lazy' : null,
    decoding: 'async',
    alt: `${asset.public_id} (${asset.format}, ${asset.width}×${asset.height})`,
  });
}

/** A preview that keeps the aspect ratio (c_fit) inside `box` px, sized for the screen's DPR. */
export function previewImg(asset, box = 640) {
  const w = Math.min(box, asset.width || box);
  const ratio = asset.width && asset.height ? asset.height / asset.width : 1;
  const base = `w_${w},c_fit,f_auto`;
  // `vis` makes a visibility flip fetch afresh instead of reusing what the browser cached.
  const v = `?vis=${asset.visibility}`;
  const src = (dpr) => `${deliveryPath(asset.public_id, dpr === 1 ? base : `${base},dpr_${dpr}`, asset.version)}${v}`;
  return h('img', {
    class: 'preview-img',
    src: src(1),
    srcset: `${src(1)} 1x, ${src(2)} 2x`,
    width: String(w),
    height: String(Math.max(1, Math.round(w * ratio))),
    decoding: 'async',
    alt: `Preview of ${asset.public_id}`,
  });
}
