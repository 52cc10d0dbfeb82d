// wall.mjs — a whole pick cycle on the device wall (contract §8.2) in
// Debian's Chromium, driven by playwright-core, with no hardware. Run by
// tests/http/test_wall.py; by hand:
//   STOCKROOM_BROWSER_PASSWORD=secret STOCKROOM_API_KEY=key node tests/browser/wall.mjs \
//       --base http://127.0.0.1:8000 --user alice --order ORDER --out /tmp/shots \
//       [--big-user bob]
// The user's customer must have the order (several items over several
// devices, not launched) and the key must be that customer's. Steps: log
// in, open the wall, launch the order through the API and see the tiles
// light without a reload, press main on each lit tile until the order is
// complete, light a flash of 2 seconds and see it go dark by itself. With
// --big-user (a customer with many devices, same password) the wall is
// opened for it too and its load time printed. Each step leaves a PNG in
// --out (NN-step.png); a failure keeps failure.png and failure.html.
// Exit status 0 when every step passed.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
    options: {
        base: { type: 'string' }, user: { type: 'string' }, order: { type: 'string' },
        out: { type: 'string' }, 'big-user': { type: 'string' },
    },
});
const password = process.env.STOCKROOM_BROWSER_PASSWORD;
const apiKey = process.env.STOCKROOM_API_KEY;
if (!opts.base || !opts.user || !opts.order || !opts.out || !password || !apiKey) {
    console.error('usage: STOCKROOM_BROWSER_PASSWORD=... STOCKROOM_API_KEY=... node wall.mjs '
                  + '--base URL --user NAME --order NUMBER --out DIR [--big-user NAME]');
    process.exit(2);
}
const base = opts.base.replace(/\/+$/, '');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(opts.out, { recursive: true });

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);

class CheckFailed extends Error {}
function check(ok, what) {
    if (!ok)
        throw new CheckFailed(what);
}
function checkEqual(actual, expected, what) {
    check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

let shots = 0;
async function screenshot(page, name) {
    shots++;
    const file = path.join(opts.out, `${String(shots).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    log(`  screenshot ${file}`);
}

// The API, as the integration calls it (its key, not the browser's session).
async function api(method, url, body) {
    const r = await fetch(base + url, {
        method,
        headers: { API_KEY: apiKey, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    check(r.ok, `${method} ${url}: HTTP ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
}

async function login(page, user) {
    await page.goto(`${base}/api/auth/login/?next=/api/wall/`);
    await page.locator('#id_username').fill(user);
    await page.locator('#id_password').fill(password);
    await Promise.all([page.waitForNavigation(), page.locator('#submit-id-submit').click()]);
    checkEqual(new URL(page.url()).pathname, '/api/wall/', `${user}: the page after logging in`);
}

// The wall drawn and its stream open; the milliseconds it took from the
// navigation's start.
async function wallReady(page) {
    await page.waitForSelector('body[data-stream="open"]', { timeout: 15000 });
    return await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        return { drawn: Number(document.body.dataset.drawn), drawMs: Number(document.body.dataset.drawMs),
                 loadMs: nav ? nav.loadEventEnd - nav.startTime : NaN };
    });
}

const tile = (page, id) => page.locator(`article.tile[data-id="${id}"]`);

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--headless'] });
let exitCode = 0;
let page = null;
try {
    log(`chromium ${browser.version()} from ${executablePath}; base ${base}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15000);
    page = await context.newPage();

    log('log in and open the wall');
    await login(page, opts.user);
    const ready = await wallReady(page);
    const order = await api('GET', `/api/orders/${encodeURIComponent(opts.order)}/`);
    const items = order.shipments.flatMap((s) => s.items);
    const devices = [...new Set(items.map((i) => i.device))];
    check(items.length >= 2 && devices.length >= 2, 'the order has several items over several devices');
    for (const id of devices) {
        check(await tile(page, id).count() === 1, `no tile for ${id}`);
        check(await tile(page, id).evaluate((t) => t.classList.contains('idle')), `${id} is not idle at first`);
    }
    log(`  ${ready.drawn} tiles, drawn in ${ready.drawMs} ms`);
    await screenshot(page, 'wall-idle');

    log('launch the order through the API: the tiles light without a reload');
    const navigations = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
    await api('POST', `/api/orders/${encodeURIComponent(opts.order)}/launch/`, {});
    for (const id of devices)
        await page.waitForSelector(`article.tile.lit[data-id="${id}"]`, { timeout: 5000 });
    const first = await tile(page, devices[0]).locator('.line1').textContent();
    checkEqual(first, opts.order, 'line1 of a lit tile');
    await screenshot(page, 'wall-launched');

    log('press main on each lit tile until the order is complete');
    for (let round = 0; round < items.length + 2; round++) {
        const lit = await page.locator('article.tile.lit').evaluateAll((ts) => ts.map((t) => t.dataset.id));
        const ours = lit.filter((id) => devices.includes(id));
        if (ours.length === 0)
            break;
        for (const id of ours)
            await tile(page, id).locator('button.main').click();
        await page.waitForTimeout(300);
    }
    for (const id of devices)
        await page.waitForSelector(`article.tile.idle[data-id="${id}"]`, { timeout: 5000 });
    const after = await api('GET', `/api/orders/${encodeURIComponent(opts.order)}/`);
    checkEqual(after.status, 'complete', 'the order after every pick');
    for (const item of after.shipments.flatMap((s) => s.items))
        checkEqual(item.quantity_fulfilled, item.ordered_quantity, `item ${item.id} fulfilled`);
    await page.waitForSelector('#log li.callback.ack', { timeout: 5000 });
    await screenshot(page, 'wall-picked');

    log('a flash of 2 seconds goes dark by itself');
    const flashId = devices[0];
    await api('POST', `/api/device/${encodeURIComponent(flashId)}/`,
              { command: 'flash', line1: 'FLASH', color: 'r', seconds: 2, nonce: 'flash-2s' });
    await page.waitForSelector(`article.tile.lit[data-id="${flashId}"] .led.blink`, { timeout: 5000 });
    await screenshot(page, 'wall-flash');
    const lit = Date.now();
    await page.waitForSelector(`article.tile.idle[data-id="${flashId}"]`, { timeout: 6000 });
    log(`  dark ${((Date.now() - lit) / 1000).toFixed(2)} s after it showed`);
    await page.waitForSelector('#log li.callback.nack', { timeout: 5000 });
    await screenshot(page, 'wall-flash-gone');
    checkEqual(navigations.length, 0, 'page loads after the first');

    if (opts['big-user']) {
        log('a wall of many devices');
        const big = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const bigPage = await big.newPage();
        await login(bigPage, opts['big-user']);
        const t0 = Date.now();
        await bigPage.reload();
        const r = await wallReady(bigPage);
        log(`  wall of ${r.drawn} devices: load ${r.loadMs.toFixed(0)} ms (navigation to load event), `
            + `tiles drawn in ${r.drawMs} ms, stream open after ${Date.now() - t0} ms`);
        console.log(`WALL_LOAD devices=${r.drawn} load_ms=${r.loadMs.toFixed(0)} draw_ms=${r.drawMs}`);
        await bigPage.locator('#filter').fill('ROW-07');
        const shown = await bigPage.locator('article.tile:not([hidden])').count();
        log(`  filter "ROW-07": ${shown} tiles shown`);
        check(shown > 0 && shown < r.drawn, 'the location filter');
        await screenshot(bigPage, 'wall-many');
        await big.close();
    }
    log(`all steps passed; ${shots} screenshots in ${opts.out}`);
} catch (err) {
    exitCode = 1;
    console.error(`FAILED: ${err.message}`);
    if (page) {
        try {
            await page.screenshot({ path: path.join(opts.out, 'failure.png'), fullPage: true });
            fs.writeFileSync(path.join(opts.out, 'failure.html'), await page.content());
        } catch (e) {
            console.error(`(could not keep the page: ${e.message})`);
        }
    }
} finally {
    await browser.close();
}
process.exit(exitCode);
