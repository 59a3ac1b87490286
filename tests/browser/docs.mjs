// The docs in a real browser: Debian's headless Chromium, driven by playwright-core, over /docs of a
// running server. Started by run.sh, which builds and starts the server and seeds the demo site; by hand:
//
//   SHOPVO_URL=http://127.0.0.1:8080 SHOPVO_SITE=site_… SHOPVO_KEY=sk_test_… node docs.mjs
//
// Checks, in order (one browser page throughout):
//   1. every tag of /openapi.json (top-level tags and those the operations use) renders as a group;
//   2. the "Authorize" dialog takes the key for bearerAuth, and "Execute" on GET /api/v1/{siteId}/products
//      shows a 200 whose body is the site's products (the same ids the API gives this script directly);
//   3. no request of the page left the server's origin (every request and WebSocket is recorded);
// and leaves screenshots at SHOPVO_SCREENSHOT (default ../../target/docs.png: the page with its groups) and
// beside it, *-execute.png (the executed request and its response).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const base = new URL(required('SHOPVO_URL'));
const siteId = required('SHOPVO_SITE');
const key = required('SHOPVO_KEY');
const screenshot = resolve(process.env.SHOPVO_SCREENSHOT ?? join(here, '..', '..', 'target', 'docs.png'));
const executed = screenshot.replace(/(\.png)?$/, '-execute.png');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const timeout = 30_000;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set (run.sh sets it; see the top of docs.mjs)`);
    process.exit(2);
  }
  return value;
}

let userDataDir;
let context;
let page;
let openapi;
const requests = []; // every URL the page asked for, in order
const foreign = []; // those not on the server's origin

function record(url, what) {
  requests.push(`${what} ${url}`);
  const u = new URL(url);
  // data: and blob: URLs are made inside the page and never reach a network.
  if (u.protocol === 'data:' || u.protocol === 'blob:') return;
  if (u.origin !== base.origin) foreign.push(`${what} ${url}`);
}

before(async () => {
  openapi = await (await fetch(new URL('/openapi.json', base))).json();
  userDataDir = mkdtempSync(join(tmpdir(), 'shopvo-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 1000 },
  });
  context.setDefaultTimeout(timeout);
  context.on('request', (r) => record(r.url(), r.method()));
  context.on('page', (p) => p.on('websocket', (ws) => record(ws.url(), 'WS')));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('websocket', (ws) => record(ws.url(), 'WS'));
  page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('every tag of the document renders as a group on /docs', async () => {
  const response = await page.goto(new URL('/docs', base).href);
  assert.equal(response.status(), 200, 'GET /docs (after its redirect) answers 200');
  await page.locator('.swagger-ui .info .title').first().waitFor();
  const title = (await page.locator('.swagger-ui .info .title').first().innerText()).trim();
  assert.ok(title.startsWith(openapi.info.title), `page title "${title}" starts with "${openapi.info.title}"`);

  const tags = new Set((openapi.tags ?? []).map((t) => t.name));
  for (const item of Object.values(openapi.paths)) {
    for (const op of Object.values(item)) for (const t of op?.tags ?? []) tags.add(t);
  }
  assert.ok(tags.size > 0, 'the document has tags');
  await page.locator('.opblock-tag-section').first().waitFor();
  const rendered = await page.locator('.opblock-tag[data-tag]').evaluateAll((els) => els.map((e) => e.dataset.tag));
  const missing = [...tags].filter((t) => !rendered.includes(t));
  assert.deepEqual(missing, [], `tags missing from the page (rendered: ${rendered.join(', ')})`);
  for (const t of tags) {
    const heading = page.locator(`.opblock-tag[data-tag="${t.replaceAll('"', '\\"')}"]`);
    assert.ok(await heading.isVisible(), `tag "${t}" is visible`);
  }
  mkdirSync(dirname(screenshot), { recursive: true });
  // The info block is long: scroll so the picture shows the tag groups under it.
  await page.locator('.opblock-tag-section').first().evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: screenshot });
  console.log(`# screenshot: ${screenshot}`);
  console.log(`# ${tags.size} tags rendered: ${[...tags].join(', ')}`);
});

test('Authorize with the key, then Execute GET /api/v1/{siteId}/products shows the products', async () => {
  // What the API gives this script directly, to compare with what the page shows.
  const direct = await (
    await fetch(new URL(`/api/v1/${siteId}/products`, base), { headers: { authorization: `Bearer ${key}` } })
  ).json();
  assert.ok(direct.items?.length > 0, 'the seeded site has products');

  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();
  const bearer = dialog.locator('.auth-container', { hasText: 'bearerAuth' });
  await bearer.locator('input#auth-bearer-value').fill(key);
  await bearer.locator('button.authorize').click();
  await bearer.getByText('Authorized').waitFor();
  await dialog.locator('button.close-modal').click();
  await dialog.waitFor({ state: 'detached' });

  const op = page.locator('#operations-Products-products_list');
  await op.locator('.opblock-summary').first().click();
  await op.locator('.opblock-body').waitFor();
  // The server's config sets tryItOutEnabled, so the form is usually open already; click when it is not.
  const tryItOut = op.locator('button.try-out__btn', { hasText: 'Try it out' });
  if (await tryItOut.isVisible()) await tryItOut.click();
  await op.locator('tr[data-param-name="siteId"] input').fill(siteId);
  await op.locator('button.execute').click();

  const live = op.locator('.live-responses-table');
  await live.waitFor();
  const status = (await live.locator('tbody .response .response-col_status').first().innerText()).trim();
  const requestUrl = (await op.locator('.request-url pre').first().innerText()).trim();
  assert.equal(requestUrl, new URL(`/api/v1/${siteId}/products`, base).href, 'the request URL shown');
  const bodyText = await live.locator('.response-col_description pre').first().innerText();
  assert.equal(status, '200', `status shown (body: ${bodyText.slice(0, 300)})`);
  const curl = await op.locator('.curl-command').first().innerText();
  assert.match(curl, new RegExp(`Authorization: Bearer ${key}`), 'the curl shown carries the key');

  const body = JSON.parse(bodyText);
  assert.equal(body.success, true);
  assert.ok(Array.isArray(body.items) && body.items.length > 0, 'items is a non-empty array');
  for (const p of body.items) {
    assert.match(p.id, /^prd_/, 'a product id');
    assert.equal(typeof p.name, 'string');
  }
  assert.deepEqual(
    body.items.map((p) => p.id),
    direct.items.map((p) => p.id),
    'the page shows the products the API lists'
  );
  console.log(`# Execute showed ${status} with ${body.items.length} products: ${body.items.map((p) => p.name).join(', ')}`);

  await live.scrollIntoViewIfNeeded();
  await page.screenshot({ path: executed });
  console.log(`# screenshot: ${executed}`);
});

test('no request of the page left the server origin', async () => {
  assert.ok(requests.length > 0, 'requests were recorded');
  assert.ok(
    requests.some((r) => r.includes(`/api/v1/${siteId}/products`)),
    'the Execute request is among those recorded'
  );
  if (process.env.SHOPVO_SELFTEST_FOREIGN) {
    // Proves the recorder catches a request elsewhere (127.0.0.2 is loopback, yet another origin).
    await page.evaluate(() => fetch('http://127.0.0.2:9/').catch(() => {}));
  }
  assert.deepEqual(foreign, [], `requests to other origins than ${base.origin}`);
  for (const r of requests) console.log(`#   ${r}`);
  console.log(`# ${requests.length} requests, all to ${base.origin}`);
});
