#!/usr/bin/env node
// A JsSIP user agent in headless Chromium for Sipline's call tests (sip-ua/tests/browser_calls.rs),
// driven over stdin/stdout with one JSON object per line:
// {"id":1,"cmd":"start","wsUrl":"ws://127.0.0.1:8080/ws","uri":"sip:5812@127.0.0.1","password":"..."}
// -> {"id":1,"ok":true,"result":...}. Commands are the methods of `window.agent` in ua-page.js
// (start, call, answer, hangup, dtmf, waitEvent, receivedDtmf, stats, stop), each given the
// request object; plus quit. Chromium is the system one (/usr/bin/chromium or $CHROMIUM);
// nothing is downloaded. The page (ua-page.js with JsSIP) is bundled by esbuild at start.
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const readline = require('readline');
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// As peer.js: loopback ICE needs --allow-loopback-in-peer-connection; the fake devices give a
// beeping microphone without a permission prompt. The page plays the remote audio without a
// user gesture.
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
  '--autoplay-policy=no-user-gesture-required',
];

function log(...args) {
  process.stderr.write(`[browser-ua] ${args.join(' ')}\n`);
}

function bundlePage() {
  const result = esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'ua-page.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

async function main() {
  const files = {
    '/': '<!doctype html><meta charset="utf-8"><title>sipline JsSIP agent</title>' +
      '<script src="/ua-page.js"></script>',
    '/ua-page.js': bundlePage(),
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

  const profile = fs.mkdtempSync(path.join(process.env.SIPLINE_RUN_DIR || os.tmpdir(), 'chromium-ua-'));
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
    await page.evaluate(() => window.agent.stop()).catch(() => {});
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
      const result = await page.evaluate(([cmd, arg]) => {
        if (typeof window.agent[cmd] !== 'function') throw new Error(`unknown command ${cmd}`);
        return window.agent[cmd](arg);
      }, [request.cmd, request]);
      reply = { id: request.id, ok: true, result: result ?? null };
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
