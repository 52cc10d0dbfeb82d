// The device wall (contract §8.2; src/api/wall.h): tiles drawn like the
// devices, kept live from GET /api/events/, with each device's buttons.
'use strict';

const wall = document.getElementById('wall');
const filter = document.getElementById('filter');
const streamState = document.getElementById('stream');
const count = document.getElementById('count');
const log = document.getElementById('log');
const tiles = new Map();   // device_id -> {el, dev}

// The LED: a colour letter, a combination of r, g and b, or a name.
const CHANNELS = { r: [1, 0, 0], g: [0, 1, 0], b: [0, 0, 1], c: [0, 1, 1], m: [1, 0, 1], y: [1, 1, 0], w: [1, 1, 1] };
const NAMES = { red: 'r', green: 'g', blue: 'b', cyan: 'c', magenta: 'm', yellow: 'y', white: 'w' };
function ledColor(color) {
    const c = NAMES[(color || '').toLowerCase()] || (color || '').toLowerCase();
    if (!c) return null;
    const rgb = [0, 0, 0];
    for (const letter of c) {
        const ch = CHANNELS[letter];
        if (ch) ch.forEach((v, i) => { rgb[i] = Math.max(rgb[i], v); });
    }
    return `rgb(${rgb.map((v) => (v ? 255 : 40)).join(',')})`;
}

const ARROWS = {
    up: '↑', top: '↑', down: '↓', bottom: '↓', left: '←', right: '→',
    topleft: '↖', topright: '↗', bottomleft: '↙', bottomright: '↘',
};

function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : '';
}

function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
}

// A tile's content for the device as GET answers it.
function draw(tile, dev) {
    const shown = dev.display;
    const statics = dev.statics || {};
    tile.replaceChildren();
    tile.dataset.id = dev.device_id;
    tile.dataset.location = [dev.location, statics.locationoverride].filter(Boolean).join(' ');
    tile.classList.toggle('idle', !shown);
    tile.classList.toggle('lit', !!shown);

    const head = el('div', 'head');
    head.append(el('span', 'id', dev.device_id), el('span', 'where', dev.location || ''));
    if (dev.commands && dev.commands.length > 1)
        head.append(el('span', 'stack', `+${dev.commands.length - 1}`));

    const led = el('div', 'led');
    const color = shown ? ledColor(shown.color) : null;
    if (color) led.style.background = color;
    if (shown && shown.command === 'flash') led.classList.add('blink');

    const screen = el('div', 'screen');
    const lines = shown
        ? [shown.line1, shown.line2, shown.line3, shown.line4, shown.line5]
        : [statics.statica, statics.staticb, statics.staticc, statics.staticd, statics.statice];
    lines.forEach((text, i) => screen.append(el('div', `line line${i + 1}`, text || '')));

    const foot = el('div', 'foot');
    const arrow = shown ? shown.arrow : statics.arrow;
    const quantity = shown ? shown.quantity : statics.quantity;
    foot.append(el('span', 'arrow', ARROWS[arrow] || ''),
                el('span', 'quantity', quantity === null || quantity === undefined ? '' : quantity));
    if (shown && shown.nonce) foot.append(el('span', 'nonce', shown.nonce));

    const buttons = el('div', 'buttons');
    for (const [button, label] of [['down', '−'], ['main', '●'], ['up', '+']]) {
        const b = el('button', `press ${button}`, label);
        b.type = 'button';
        b.dataset.button = button;
        b.title = `${button} button`;
        buttons.append(b);
    }
    tile.append(head, led, screen, foot, buttons);
    applyFilter(tile);
}

function update(dev) {
    let t = tiles.get(dev.device_id);
    if (!t) {
        t = { el: el('article', 'tile') };
        tiles.set(dev.device_id, t);
        insertSorted(t.el, dev.device_id);
    }
    t.dev = dev;
    draw(t.el, dev);
    showCount();
}

function insertSorted(tileEl, id) {
    for (const other of wall.children)
        if (other.dataset.id > id) { wall.insertBefore(tileEl, other); return; }
    wall.append(tileEl);
}

function remove(id) {
    const t = tiles.get(id);
    if (!t) return;
    t.el.remove();
    tiles.delete(id);
    showCount();
}

function applyFilter(tile) {
    const want = filter.value.trim().toLowerCase();
    tile.hidden = want !== '' && !tile.dataset.location.toLowerCase().includes(want);
}

function showCount() {
    count.textContent = `${tiles.size} device${tiles.size === 1 ? '' : 's'}`;
}

function logCallback(cb) {
    const what = cb.order_event || cb.acknack;
    const who = cb.deviceid || (cb.sequence !== undefined ? `sequence ${cb.sequence}` : cb.order_number || '');
    const item = el('li', `callback ${what}`);
    item.dataset.id = cb.id;
    item.append(el('span', 'what', what), el('span', 'who', who), el('span', 'nonce', cb.nonce || ''));
    if (cb.qty !== undefined && cb.qty !== null) item.append(el('span', 'qty', `qty ${cb.qty}`));
    log.prepend(item);
    while (log.children.length > 50) log.lastChild.remove();
}

// The buttons: one listener for the whole wall.
wall.addEventListener('click', async (event) => {
    const b = event.target.closest('button.press');
    if (!b) return;
    const id = b.closest('.tile').dataset.id;
    b.disabled = true;
    try {
        const r = await fetch(`/api/device/${encodeURIComponent(id)}/press/`, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
            body: JSON.stringify({ button: b.dataset.button }),
        });
        if (r.ok) update(await r.json());
        else b.closest('.tile').classList.add('error');
    } finally {
        b.disabled = false;
    }
});

filter.addEventListener('input', () => { for (const t of tiles.values()) applyFilter(t.el); });

// First draw, from the page's own data.
const started = performance.now();
const fragment = document.createDocumentFragment();
for (const dev of JSON.parse(document.getElementById('wall-devices').textContent)) {
    const t = { el: el('article', 'tile'), dev };
    tiles.set(dev.device_id, t);
    draw(t.el, dev);
    fragment.append(t.el);
}
wall.append(fragment);
showCount();
const params = new URLSearchParams(location.search);
if (params.get('location')) {
    filter.value = params.get('location');
    for (const t of tiles.values()) applyFilter(t.el);
}
document.body.dataset.drawn = String(tiles.size);
document.body.dataset.drawMs = (performance.now() - started).toFixed(1);

// Then live: the event stream (EventSource resumes with Last-Event-ID by itself).
const events = new EventSource('/api/events/');
events.addEventListener('open', () => {
    streamState.textContent = 'live';
    streamState.className = 'open';
    document.body.dataset.stream = 'open';
});
events.addEventListener('error', () => {
    streamState.textContent = 'reconnecting';
    streamState.className = 'closed';
    document.body.dataset.stream = 'closed';
});
events.addEventListener('device', (e) => update(JSON.parse(e.data)));
events.addEventListener('device_deleted', (e) => remove(JSON.parse(e.data).device_id));
events.addEventListener('callback', (e) => logCallback(JSON.parse(e.data)));
