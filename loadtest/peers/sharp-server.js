// A minimal sharp (libvips) image server: the peer loadtest/run.sh measures imgcloud's cold renders against.
//
//   node sharp-server.js PORT PHOTO_DIR
//   GET /fit/<W>x<H>/<format>/<quality>/<file>  ->  <file> auto-oriented, fit inside WxH (never
//   enlarged), metadata stripped, encoded as jpeg|webp|avif|png (quality ignored for png), the
//   same work as imgcloud's /v1/image/w_<W>,h_<H>,c_fit,f_<format>,q_<quality>/<id>.
// Encoder settings are sharp's defaults; the libvips operation cache is off so every request decodes.
'use strict';
const http = require('http');
const path = require('path');
const sharp = require('sharp');

const [port, dir] = process.argv.slice(2);
if (!port || !dir) throw new Error('usage: node sharp-server.js PORT PHOTO_DIR');
sharp.cache(false);
const TYPES = { jpeg: 'image/jpeg', webp: 'image/webp', avif: 'image/avif', png: 'image/png' };
const ROUTE = /^\/fit\/(\d{1,4})x(\d{1,4})\/(jpeg|webp|avif|png)\/(\d{1,3})\/([A-Za-z0-9._-]+)$/;

function fail(res, status, msg) {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(msg);
}

http
  .createServer(async (req, res) => {
    if (req.url === '/healthz') return fail(res, 200, 'ok');
    const m = ROUTE.exec(req.url);
    if (!m || m[5].startsWith('.')) return fail(res, 404, 'no route');
    const [w, h, fmt, q] = [+m[1], +m[2], m[3], +m[4]];
    try {
      const img = sharp(path.join(dir, m[5])).rotate().resize(w, h, { fit: 'inside', withoutEnlargement: true });
      const out = await (fmt === 'png' ? img.png() : img.toFormat(fmt, { quality: q })).toBuffer();
      res.writeHead(200, { 'content-type': TYPES[fmt], 'content-length': out.length });
      res.end(out);
    } catch (e) {
      fail(res, e.message.includes('missing') ? 404 : 500, e.message);
    }
  })
  .listen(+port, '127.0.0.1');
