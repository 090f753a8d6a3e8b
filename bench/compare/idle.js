#!/usr/bin/env node
// Waits for the machine to be quiet (CPU < 15% busy over a second), up to a limit, so that other
// jobs (builds, load tests) do not pollute benchmark numbers. As a script: `node idle.js [max_seconds]`
// (exit 0 either way; prints what it saw). As a module: cpuBusy(), waitIdle().
'use strict';

const fs = require('fs');

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Share of all CPUs' time not idle over `ms`, from /proc/stat (every process counts). */
function cpuBusy(ms = 1000) {
  const read = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  sleep(ms);
  const b = read();
  return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/** Polls every 15 s until the CPU is < `threshold` busy or `maxSeconds` passed; returns the last reading. */
function waitIdle(label, maxSeconds = 600, threshold = 0.15) {
  let busy = cpuBusy();
  const deadline = Date.now() + maxSeconds * 1000;
  while (busy > threshold && Date.now() < deadline) {
    console.error(`  [${label}] machine ${(busy * 100).toFixed(0)}% busy; waiting for it to settle ...`);
    sleep(15000);
    busy = cpuBusy();
  }
  if (busy > threshold) console.error(`  [${label}] still ${(busy * 100).toFixed(0)}% busy after ${maxSeconds} s; measuring anyway`);
  return busy;
}

module.exports = { cpuBusy, waitIdle };

if (require.main === module) {
  const b = waitIdle('idle', Number(process.argv[2] || 600));
  console.error(`  CPU ${(b * 100).toFixed(0)}% busy`);
}
