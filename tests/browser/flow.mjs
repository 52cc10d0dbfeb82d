// flow.mjs — a person using the browsable API (contract §6, §2) in Debian's
// Chromium, driven by playwright-core. Run by tests/http/test_browser.py;
// by hand:
//   STOCKROOM_BROWSER_PASSWORD=secret node tests/browser/flow.mjs \
//       --base http://127.0.0.1:8000 --user alice --out /tmp/shots
// The user must exist (`stockroom user create CUSTOMER alice`) and own no
// order numbered like the ones made here. Every step is asserted on what
// the page shows and leaves a full-page PNG in --out (NN-step.png); on a
// failure the page at that moment is kept too (failure.png, failure.html).
// Exit status: 0 when every step passed, 1 on the first that did not.
// Environment: STOCKROOM_BROWSER_PASSWORD (required), CHROMIUM (the browser,
// default /usr/bin/chromium).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
    options: { base: { type: 'string' }, user: { type: 'string' }, out: { type: 'string' } },
});
const password = process.env.STOCKROOM_BROWSER_PASSWORD;
if (!opts.base || !opts.user || !opts.out || !password) {
    console.error('usage: STOCKROOM_BROWSER_PASSWORD=... node flow.mjs --base URL --user NAME --out DIR');
    process.exit(2);
}
const base = opts.base.replace(/\/+$/, '');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(opts.out, { recursive: true });

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);

// A step's expectation not met: reported by its message alone.
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

// Click what submits a form or follows a link; the response the browser
// ended on (after any redirects).
async function clickAndLoad(page, locator) {
    // Together, so that a failed load (the server gone) is this step's error.
    const [response] = await Promise.all([page.waitForNavigation(), locator.click()]);
    check(response, 'the click did not load a page');
    return response;
}

async function statusLine(page) {
    return (await page.locator('pre.response b').first().textContent()).trim();
}

async function responseText(page) {
    return await page.locator('pre.response').textContent();
}

// A page answered with `status` and shows it as DRF does ("HTTP 201 Created").
async function expectPage(page, response, status, line, what) {
    checkEqual(response.status(), status, `${what}: HTTP status`);
    checkEqual(await statusLine(page), line, `${what}: the status line the page shows`);
}

// An anonymous look at the list: the browser is sent (302) to the login
// page, with next back to the list.
async function expectLoggedOut(page, what) {
    const response = await page.goto(`${base}/api/orders/`);
    checkEqual(response.status(), 200, `${what}: HTTP status of the page reached`);
    const redirect = response.request().redirectedFrom();
    check(redirect !== null, `${what}: not redirected`);
    checkEqual((await redirect.response()).status(), 302, `${what}: the redirect's status`);
    const url = new URL(page.url());
    checkEqual(url.pathname, '/api/auth/login/', `${what}: the page reached`);
    checkEqual(url.searchParams.get('next'), '/api/orders/', `${what}: next`);
    checkEqual(await page.locator('#user').count(), 0, `${what}: a user shown in the header`);
}

async function fillLogin(page, username, pass) {
    await page.locator('#id_username').fill(username);
    await page.locator('#id_password').fill(pass);
    return await clickAndLoad(page, page.locator('#submit-id-submit'));
}

async function expectLoggedIn(page, what) {
    checkEqual((await page.locator('#user').textContent()).trim(), opts.user, `${what}: the user in the header`);
    check(await page.locator('#logout-button').isVisible(), `${what}: no visible "Log out" button`);
    checkEqual(await page.locator('#login-link').count(), 0, `${what}: "Log in" links`);
}

// Fill the raw-data form and press Send.
async function sendRaw(page, method, content, beforeSend) {
    await page.locator('#raw-method').selectOption(method);
    await page.locator('#raw-type').selectOption('application/json');
    if (content !== null)
        await page.locator('#raw-content').fill(content);
    if (beforeSend)
        await beforeSend();
    return await clickAndLoad(page, page.locator('form.raw button.primary'));
}

function order(number) {
    // The item's name is markup: the page must show it as text.
    return JSON.stringify({
        order_number: number,
        shipments: [{
            shipment_number: `${number}-1`,
            items: [
                { SKU: 'SKU-A', ordered_quantity: 3, name: 'Widget <b id="injected">bold</b> & co',
                  warehouse_location: 'Aisle 3' },
                { SKU: 'SKU-B', ordered_quantity: 1 },
            ],
        }],
    }, null, 4);
}

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--headless'] });
let exitCode = 0;
let page = null;  // the one tab, kept on a failure
try {
    log(`chromium ${browser.version()} from ${executablePath}; base ${base}`);
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    context.setDefaultTimeout(15000);
    page = await context.newPage();
    const tag = `${Date.now().toString(36)}-${process.pid}`;

    log('anonymous: the list sends the browser to the login page');
    await expectLoggedOut(page, 'anonymous list');
    await screenshot(page, 'anonymous-to-login');

    log('the login form, reached that way');
    let response;
    const form = page.locator('form#login-form');
    checkEqual(await form.getAttribute('method'), 'post', 'login form: method');
    checkEqual(await form.getAttribute('action'), '/api/auth/login/', 'login form: action');
    check((await form.locator('input[name=csrfmiddlewaretoken]').inputValue()).length > 0,
          'login form: no CSRF token');
    checkEqual(await form.locator('input[name=next]').inputValue(), '/api/orders/', 'login form: next');
    checkEqual((await page.locator('#submit-id-submit').textContent()).trim(), 'Log in', 'login button');
    await screenshot(page, 'login-form');

    log('a wrong password is refused on the same page');
    response = await fillLogin(page, opts.user, password + '-wrong');
    checkEqual(response.status(), 200, 'failed login: HTTP status');
    checkEqual(new URL(page.url()).pathname, '/api/auth/login/', 'failed login: the page');
    check(await page.locator('#login-error').isVisible(), 'failed login: no #login-error shown');
    check(!(await context.cookies()).some((c) => c.name === 'sessionid'), 'failed login: a session cookie was set');
    await screenshot(page, 'login-error');

    log('log in: redirected to the list with a session');
    response = await fillLogin(page, opts.user, password);
    const redirect = response.request().redirectedFrom();
    check(redirect, 'login: the browser was not redirected');
    checkEqual((await redirect.response()).status(), 302, 'login: the answer to the form');
    checkEqual(new URL(redirect.url()).pathname, '/api/auth/login/', 'login: what redirected');
    checkEqual(response.url(), `${base}/api/orders/`, 'login: where it lands');
    await expectPage(page, response, 200, 'HTTP 200 OK', 'list after login');
    await expectLoggedIn(page, 'list after login');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'sessionid');
    check(session, 'login: no sessionid cookie');
    check(session.httpOnly, 'login: sessionid is not HttpOnly');
    checkEqual(session.sameSite, 'Lax', 'login: sessionid SameSite');
    check(cookies.some((c) => c.name === 'csrftoken' && c.value), 'login: no csrftoken cookie');
    await screenshot(page, 'logged-in-list');

    log('create an order through the raw form');
    const number = `BROWSER-${tag}`;
    const rawToken = page.locator('form.raw input[type=hidden][name=csrfmiddlewaretoken]');
    checkEqual(await rawToken.count(), 1, 'raw form: hidden CSRF inputs');
    check((await rawToken.inputValue()).length > 0, 'raw form: empty CSRF token');
    response = await sendRaw(page, 'POST', order(number), () => screenshot(page, 'create-form'));
    await expectPage(page, response, 201, 'HTTP 201 Created', 'create');
    let shown = await responseText(page);
    check(shown.includes(`"order_number": "${number}"`), `create: order ${number} not shown: ${shown}`);
    check(shown.includes('Widget <b id=\\"injected\\">bold</b> & co'), 'create: the item name is not shown as text');
    checkEqual(await page.locator('#injected').count(), 0, 'create: markup from the data became elements');
    await screenshot(page, 'created-201');

    log("follow the new order's link");
    // The Location header and any url in the JSON: all the same order.
    const hrefs = await page.locator('pre.response a').evaluateAll((links) => links.map((a) => a.href));
    const orderHrefs = [...new Set(hrefs.filter((h) => /\/api\/orders\/[^/?#]+\/$/.test(h)))];
    checkEqual(orderHrefs.length, 1, `create: distinct links to an order among ${JSON.stringify(hrefs)}`);
    const orderUrl = orderHrefs[0];
    check(orderUrl.startsWith(`${base}/api/orders/`), `create: the order's link ${orderUrl}`);
    response = await clickAndLoad(page, page.locator('pre.response a').nth(hrefs.indexOf(orderUrl)));
    checkEqual(page.url(), orderUrl, "the order's page: its address");
    await expectPage(page, response, 200, 'HTTP 200 OK', "the order's page");
    shown = await responseText(page);
    check(shown.includes(`"order_number": "${number}"`), `the order's page: order ${number} not shown: ${shown}`);
    check(shown.includes('"SKU": "SKU-B"'), "the order's page: its items are not shown");
    await expectLoggedIn(page, "the order's page");
    await screenshot(page, 'order-200');

    log('delete it through the raw form');
    response = await sendRaw(page, 'DELETE', null, () => screenshot(page, 'delete-form'));
    checkEqual(await statusLine(page), 'HTTP 204 No Content', 'delete: the status line the page shows');
    check(response.ok(), `delete: the page came with HTTP ${response.status()}`);
    await screenshot(page, 'deleted-204');

    log('the order is gone');
    response = await page.goto(orderUrl);
    await expectPage(page, response, 404, 'HTTP 404 Not Found', 'the deleted order');
    await screenshot(page, 'gone-404');

    log('a POST without its CSRF token is refused');
    const csrfNumber = `CSRF-${tag}`;
    await page.goto(`${base}/api/orders/`);
    response = await sendRaw(page, 'POST', order(csrfNumber), () => page.evaluate(() => {
        document.querySelectorAll('form.raw input[name=csrfmiddlewaretoken]').forEach((i) => i.remove());
    }));
    await expectPage(page, response, 403, 'HTTP 403 Forbidden', 'POST without a CSRF token');
    check((await responseText(page)).includes('CSRF Failed'), 'POST without a CSRF token: no "CSRF Failed"');
    await screenshot(page, 'csrf-missing-403');

    log('a POST with a tampered CSRF token is refused');
    await page.goto(`${base}/api/orders/`);
    response = await sendRaw(page, 'POST', order(csrfNumber), () => page.evaluate(() => {
        const input = document.querySelector('form.raw input[name=csrfmiddlewaretoken]');
        const v = input.value;
        input.value = v.slice(0, -1) + (v.endsWith('a') ? 'b' : 'a');
    }));
    await expectPage(page, response, 403, 'HTTP 403 Forbidden', 'POST with a tampered CSRF token');
    check((await responseText(page)).includes('CSRF Failed'), 'POST with a tampered CSRF token: no "CSRF Failed"');
    await screenshot(page, 'csrf-tampered-403');
    const listed = await context.request.get(
        `${base}/api/orders/?order_number=${encodeURIComponent(csrfNumber)}&format=json`);
    checkEqual(listed.status(), 200, 'the list as JSON with the session: HTTP status');
    checkEqual((await listed.json()).count, 0, 'orders created by the refused POSTs');

    log('log out with the header button');
    const stolen = (await context.cookies()).filter((c) => c.name === 'sessionid' || c.name === 'csrftoken');
    await page.goto(`${base}/api/orders/`);
    response = await clickAndLoad(page, page.locator('#logout-button'));
    check(response.status() < 400, `logout: HTTP ${response.status()}`);
    await screenshot(page, 'logged-out');
    await expectLoggedOut(page, 'list after logout');
    await screenshot(page, 'after-logout-login');

    log('the old session cookie no longer works');
    await context.addCookies(stolen);
    await expectLoggedOut(page, 'list with the logged-out session cookie');
    await screenshot(page, 'old-session-login');

    log('log in again; GET /api/auth/logout/ logs out too');
    await context.clearCookies();
    response = await page.goto(`${base}/api/auth/login/?next=/api/orders/`);
    checkEqual(response.status(), 200, 'second login page: HTTP status');
    response = await fillLogin(page, opts.user, password);
    await expectPage(page, response, 200, 'HTTP 200 OK', 'list after the second login');
    await expectLoggedIn(page, 'list after the second login');
    response = await page.goto(`${base}/api/auth/logout/`);
    check(response.status() < 400, `GET logout: HTTP ${response.status()}`);
    await expectLoggedOut(page, 'list after GET logout');
    await screenshot(page, 'get-logout-login');

    log(`all steps passed; ${shots} screenshots in ${opts.out}`);
} catch (err) {
    exitCode = 1;
    console.error(`FAILED: ${err.message}`);
    if (page) {
        try {
            console.error(`  on ${page.url()}`);
            await page.screenshot({ path: path.join(opts.out, 'failure.png'), fullPage: true });
            fs.writeFileSync(path.join(opts.out, 'failure.html'), await page.content());
            console.error(`  the page is kept in ${opts.out}/failure.png and failure.html`);
        } catch (e) {
            console.error(`  (could not keep the page: ${e.message})`);
        }
    }
    if (!(err instanceof CheckFailed))
        console.error(err.stack);
} finally {
    await browser.close();
}
process.exit(exitCode);
