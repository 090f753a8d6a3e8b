'use strict';
// A 40 MB file is streamed: the uploading process's peak memory stays flat.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawnSync } = require('node:child_process');
const h = require('./helpers');

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(bufs) {
  let crc = 0xffffffff;
  for (const b of bufs) for (let i = 0; i < b.length; i++) crc = CRC_TABLE[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
function writeChunk(fd, type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const t = Buffer.from(type);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32([t, data]));
  fs.writeSync(fd, len); fs.writeSync(fd, t); fs.writeSync(fd, data); fs.writeSync(fd, crc);
}

/** A valid RGB PNG of about w*h*3 bytes (stored deflate), written row by row in many IDAT chunks. */
function writeBigPng(file, w, h) {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  writeChunk(fd, 'IHDR', ihdr);
  const rowsPerBlock = 64;
  const block = Buffer.alloc((1 + w * 3) * rowsPerBlock);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31) & 0xff;
  for (let r = 0; r < rowsPerBlock; r++) block[r * (1 + w * 3)] = 0; // filter type: none
  const z = zlib.createDeflate({ level: 0 });
  let rowsLeft = h;
  const chunks = [];
  z.on('data', (d) => chunks.push(d));
  while (rowsLeft > 0) {
    const n = Math.min(rowsPerBlock, rowsLeft);
    z.write(block.subarray(0, n * (1 + w * 3)));
    rowsLeft -= n;
  }
  return new Promise((resolve) => {
    z.end(() => {
      for (const d of chunks) writeChunk(fd, 'IDAT', d);
      writeChunk(fd, 'IEND', Buffer.alloc(0));
      fs.closeSync(fd);
      resolve();
    });
  });
}

test('a 40 MB file uploads from a path and from a stream with flat memory', async (t) => {
  const server = await h.startServer();
  t.after(() => server.stop());
  const key = await h.mintKey(server.base);
  const big = path.join(server.dir, 'big.png');
  await writeBigPng(big, 3700, 3610);
  const size = fs.statSync(big).size;
  assert.ok(size > 40e6, `file is ${size} bytes`);
  const small = path.join(server.dir, 'small.jpg');
  h.makeJpeg(small);

  const script = `
    const fs = require('node:fs');
    const cli = require(${JSON.stringify(h.SDK_DIR)}).createClient({ baseUrl: process.env.B, keyId: process.env.K, keySecret: process.env.S, timeout: 300000 });
    const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.external; };
    (async () => {
      await cli.upload(${JSON.stringify(small)});
      gc();
      const before = used();
      let peak = before;
      // Sample live memory (after a full GC) all through the uploads: garbage is not retention.
      const timer = setInterval(() => { gc(); peak = Math.max(peak, used()); }, 25);
      const a = await cli.upload(${JSON.stringify(big)}, { public_id: 'big/path' });
      const b = await cli.upload(fs.createReadStream(${JSON.stringify(big)}), { public_id: 'big/stream' });
      clearInterval(timer);
      console.log(JSON.stringify({ before, peak, a: a.bytes, b: b.bytes, w: a.width, h: a.height }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
    encoding: 'utf8', timeout: 300000,
    env: { PATH: process.env.PATH, B: server.base, K: key.keyId, S: key.keySecret },
  });
  assert.equal(res.status, 0, res.stderr);
  const r = JSON.parse(res.stdout.trim());
  assert.equal(r.a, size);
  assert.equal(r.b, size);
  assert.equal(r.w, 3700);
  assert.equal(r.h, 3610);
  const growthMb = (r.peak - r.before) / 1024 / 1024;
  // Reading the file whole would add at least its 40 MB; streaming stays well under that.
  assert.ok(growthMb < 20, `live memory grew by ${growthMb.toFixed(1)} MB while uploading ${(size / 1e6).toFixed(1)} MB twice`);
});
