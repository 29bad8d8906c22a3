#!/usr/bin/env node
// A headless Chromium WebRTC peer for Sipline's interop tests, driven over stdin/stdout with
// one JSON object per line: {"id":1,"cmd":"answer","sdp":"..."} -> {"id":1,"ok":true,"result":...}
// Commands: setup, offer, answer {sdp}, applyAnswer {sdp}, stats, dtmf {tones}, receivedDtmf,
// loopbackTiming {runs}, quit. Chromium is the system one (/usr/bin/chromium or $CHROMIUM); nothing is downloaded.
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const readline = require('readline');
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

function log(...args) {
  process.stderr.write(`[browser-peer] ${args.join(' ')}\n`);
}

function bundleJsSip() {
  // npm's jssip ships CommonJS only; its browser bundle is built here, as upstream's gulp does.
  const result = esbuild.buildSync({
    entryPoints: [require.resolve('jssip')],
    bundle: true,
    format: 'iife',
    globalName: 'JsSIP',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

async function main() {
  const files = {
    '/': '<!doctype html><meta charset="utf-8"><title>sipline peer</title>' +
      '<script src="/jssip.js"></script><script src="/page.js"></script>',
    '/jssip.js': bundleJsSip(),
    '/page.js': fs.readFileSync(path.join(__dirname, 'page.js'), 'utf8'),
  };
  // Served on loopback so the page is a secure context (getUserMedia needs one).
  const server = http.createServer((req, res) => {
    const body = files[req.url];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const type = req.url === '/' ? 'text/html' : 'text/javascript';
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;

  const profile = fs.mkdtempSync(path.join(process.env.SIPLINE_RUN_DIR || os.tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (msg) => log('console', msg.type(), msg.text()));
  page.on('pageerror', (err) => log('pageerror', err.message));
  await page.goto(url);

  const shutdown = async () => {
    await context.close().catch(() => {});
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };

  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let request;
    try {
      request = JSON.parse(line);
    } catch (err) {
      process.stdout.write(JSON.stringify({ ok: false, error: `bad JSON: ${err.message}` }) + '\n');
      continue;
    }
    if (request.cmd === 'quit') break;
    let reply;
    try {
      const result = await page.evaluate(
        ([cmd, arg]) => window.peer[cmd](arg),
        [request.cmd, request.sdp ?? request.tones ?? request.runs ?? null],
      );
      reply = { id: request.id, ok: true, result };
    } catch (err) {
      reply = { id: request.id, ok: false, error: String(err.message || err) };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
  await shutdown();
}

main().catch((err) => {
  log('fatal', err.stack || err);
  process.exit(1);
});
