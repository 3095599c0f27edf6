// day.js - a person's day (#/user/<id>/day/<YYYY-MM-DD>): one SVG time
// axis with lanes for the focused applications, activity per 10-minute
// slot, idle spans and screenshot markers (GET /api/v1/users/{id}/day and
// GET /api/v1/screenshots), beside it the processes that used the most CPU
// and the machines used. Under the axis a strip of screenshot thumbnails
// (GET /api/v1/screenshots/{id}/thumb: 96 px, too coarse to read, each
// audited as screenshot.thumb), aligned by time, for at most THUMBS_MAX
// shots and loaded as they scroll into view; a screenshot's image is
// loaded only when opened: every load is an audited view.
import { blobUrl, get, qs } from './api.js';
import { addDays, card, clear, errorBox, fmtBytes, fmtDuration, h, link, s } from './dom.js';
import { clockAt as clock, defaultZone, isUtc } from './zone.js';

const enc = encodeURIComponent;
// Thumbnails on one day at most (beyond: markers only); in flight at once.
export const THUMBS_MAX = 48;
const THUMBS_PARALLEL = 4;
const THUMB_W = 48; // CSS pixels a thumbnail is shown at (the image: <= 96)
const THUMB_ROW_H = 40; // CSS pixels of a row of the strip

const PALETTE = ['#2f6fde', '#e8590c', '#2b8a3e', '#ae3ec9', '#c2255c', '#0b7285', '#e67700', '#5f3dc4', '#5c940d', '#862e9c'];

// The day's applications by focus time, longest first: [[app, seconds]].
function rankApps(r) {
	const per = new Map();
	for (const f of r.focus) per.set(f.app, (per.get(f.app) || 0) + f.focus_s);
	return [...per.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

// A colour per application, by rank: the day's first ten are distinct.
function colours(ranked) {
	return new Map(ranked.map(([app], i) => [app, PALETTE[i % PALETTE.length]]));
}

// The day in the viewer's zone; a zone the server does not know (a browser's
// zone missing from its tables) falls back to UTC, and the page says so.
async function fetchDay(uid, day, tz) {
	const path = `/users/${enc(uid)}/day`;
	if (isUtc(tz)) return get(`${path}${qs({ date: day })}`);
	try {
		return await get(`${path}${qs({ date: day, tz })}`);
	} catch (e) {
		if (e.status !== 400 || !/time zone/i.test(e.message)) throw e;
		const r = await get(`${path}${qs({ date: day })}`);
		r.tz_wanted = tz;
		return r;
	}
}

// The time axis: lanes of focus, activity, idle and screenshots over
// [r.from, r.to). onShot(shot) opens a screenshot.
function dayAxis(r, shots, hosts, colour, onShot) {
	const W = 1000, padL = 92, padR = 8;
	const lanes = { focus: [6, 30], act: [44, 56], idle: [108, 14], shots: [130, 16] };
	const H = 172;
	const t0 = Date.parse(r.from), t1 = Date.parse(r.to);
	// a record that ends after midnight is cut at the axis' end
	const x = (iso) => padL + Math.min(Math.max((Date.parse(iso) - t0) / (t1 - t0), 0), 1) * (W - padL - padR);
	const tz = r.tz;
	const svg = s('svg', { class: 'day-axis', id: 'day-axis', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'the day on one time axis' });
	for (const [k, label] of [['focus', 'applications'], ['act', 'activity'], ['idle', 'idle'], ['shots', 'screenshots']]) {
		const [y, hh] = lanes[k];
		svg.append(s('rect', { class: 'lane', x: padL, y, width: W - padL - padR, height: hh }),
			s('text', { class: 'lane-label', x: padL - 6, y: y + hh / 2 + 4, 'text-anchor': 'end' }, label));
	}
	// hour ticks every 2 hours of the zone shown
	for (let t = Math.ceil(t0 / 3600e3) * 3600e3; t <= t1; t += 3600e3) {
		const iso = new Date(t).toISOString();
		const hx = x(iso);
		svg.append(s('line', { class: 'tick', x1: hx, y1: 4, x2: hx, y2: H - 20 }));
		const hhmm = clock(iso, tz, false);
		if (Number(hhmm.slice(0, 2)) % 2 === 0 && t < t1) svg.append(s('text', { class: 'tick-label', x: hx, y: H - 6, 'text-anchor': 'middle' }, hhmm));
	}
	for (const f of r.focus) {
		const x0 = x(f.start), w = Math.max(x(f.end) - x0, 0.8);
		svg.append(s('rect', {
			class: 'span-focus', x: x0, y: lanes.focus[0], width: w, height: lanes.focus[1], fill: colour.get(f.app),
			dataset: { app: f.app, start: f.start, end: f.end, value: f.focus_s, device: f.device_id },
		}, s('title', {}, `${f.app}: ${f.focus_s} s focused, ${clock(f.start, tz)}–${clock(f.end, tz)} on ${hosts[f.device_id] || f.device_id}`)));
	}
	const SLOT = 600;
	for (const a of r.activity) {
		if (!a.records) continue;
		const x0 = x(a.start), x1 = x(new Date(Date.parse(a.start) + SLOT * 1000).toISOString());
		const bh = (lanes.act[1] * Math.min(a.active_s, SLOT)) / SLOT;
		svg.append(s('rect', {
			class: 'slot', x: x0 + 0.3, y: lanes.act[0] + lanes.act[1] - bh, width: Math.max(x1 - x0 - 0.6, 0.5), height: Math.max(bh, 0.5),
			dataset: { start: a.start, value: a.active_s, keys: a.keys, clicks: a.clicks, moves: a.moves, scrolls: a.scrolls, interval: a.interval_s },
		}, s('title', {}, `${clock(a.start, tz, false)}: ${a.active_s} s active of ${a.interval_s} s recorded, ${a.keys} keys, ${a.clicks} clicks, ${a.moves} moves, ${a.scrolls} scrolls`)));
	}
	for (const i of r.idle) {
		const x0 = x(i.start);
		svg.append(s('rect', {
			class: 'span-idle', x: x0, y: lanes.idle[0], width: Math.max(x(i.end) - x0, 0.8), height: lanes.idle[1],
			dataset: { start: i.start, end: i.end, device: i.device_id },
		}, s('title', {}, `idle ${clock(i.start, tz)}–${clock(i.end, tz)} on ${hosts[i.device_id] || i.device_id}`)));
	}
	for (const sh of shots) {
		const sx = x(sh.taken_at), y = lanes.shots[0];
		const m = s('path', {
			class: 'shot-marker', d: `M${sx} ${y + 2} l6 12 h-12 z`, tabindex: 0, role: 'button',
			dataset: { id: sh.id, taken: sh.taken_at },
		}, s('title', {}, `screenshot ${clock(sh.taken_at, tz)} (${sh.width}×${sh.height}); open it: the view is logged`));
		m.addEventListener('click', () => onShot(sh));
		m.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') onShot(sh); });
		svg.append(m);
	}
	return svg;
}

// The shots given thumbnails: all when there are at most THUMBS_MAX, else
// THUMBS_MAX spread evenly over the day (the first and the last included).
export function thumbPick(shots) {
	if (shots.length <= THUMBS_MAX) return shots;
	const out = [];
	for (let i = 0; i < THUMBS_MAX; i++) out.push(shots[Math.round((i * (shots.length - 1)) / (THUMBS_MAX - 1))]);
	return out;
}

// The strip of thumbnails under the axis: each centred on its time (the
// same x as the axis, as a fraction of its width), in the first of a few
// rows where it does not cover the one before. An image is fetched
// (with the bearer token, into a blob: URL) only once it is near the
// viewport, THUMBS_PARALLEL at a time; a failed one keeps its place and
// says why in its title. onShot(shot) opens a screenshot.
function thumbStrip(r, shots, onShot) {
	const W = 1000, padL = 92, padR = 8, ROWS = 3;
	const t0 = Date.parse(r.from), t1 = Date.parse(r.to);
	const frac = (iso) => (padL + Math.min(Math.max((Date.parse(iso) - t0) / (t1 - t0), 0), 1) * (W - padL - padR)) / W;
	const strip = h('div', { class: 'day-thumbs', id: 'day-thumbs' });
	const rowEnd = new Array(ROWS).fill(-1);
	const queue = [];
	let running = 0;
	const pump = () => {
		while (running < THUMBS_PARALLEL && queue.length) {
			const [img, sh] = queue.shift();
			running++;
			blobUrl(`/screenshots/${enc(sh.id)}/thumb`)
				.then((url) => {
					img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
					img.src = url;
				})
				.catch((e) => {
					img.closest('button').classList.add('failed');
					img.closest('button').title = `thumbnail not available: ${e.message}`;
				})
				.finally(() => { running--; pump(); });
		}
	};
	const seen = 'IntersectionObserver' in window
		? new IntersectionObserver((entries, obs) => {
			for (const e of entries) {
				if (!e.isIntersecting) continue;
				obs.unobserve(e.target);
				queue.push([e.target.querySelector('img'), e.target.shot]);
			}
			pump();
		}, { rootMargin: '200px' })
		: null;
	let rows = 1;
	for (const sh of shots) {
		const f = frac(sh.taken_at);
		// the strip is about 1000 CSS pixels wide or less: a fraction of
		// THUMB_W / 700 keeps neighbours apart on most screens
		let row = rowEnd.findIndex((end) => f - end >= THUMB_W / 700);
		if (row < 0) row = rowEnd.indexOf(Math.min(...rowEnd));
		rowEnd[row] = f;
		rows = Math.max(rows, row + 1);
		const img = h('img', { class: 'shot-thumb', alt: '', width: THUMB_W });
		const b = h('button', {
			type: 'button', class: 'shot-thumb', dataset: { id: sh.id, taken: sh.taken_at, row }, 'aria-label': `screenshot ${clock(sh.taken_at, r.tz)}`,
			title: `screenshot ${clock(sh.taken_at, r.tz)} (${sh.width}×${sh.height}); open it: the view is logged`,
			onclick: () => onShot(sh),
		}, img);
		// placed through the CSSOM (the CSP allows no inline style attribute)
		b.style.left = `${(f * 100).toFixed(3)}%`;
		b.style.top = `${row * THUMB_ROW_H}px`;
		b.shot = sh;
		strip.append(b);
		if (seen) seen.observe(b);
		else queue.push([img, sh]);
	}
	strip.style.height = `${rows * THUMB_ROW_H}px`;
	if (!seen) pump();
	return strip;
}

function sum(list, k) {
	return list.reduce((a, x) => a + (Number(x[k]) || 0), 0);
}

// Focus per app over the day, longest first: the legend.
function legend(ranked, colour) {
	return h('ul', { class: 'day-legend', id: 'day-legend' }, ranked.map(([app, sec]) => {
		const sw = s('svg', { class: 'swatch', viewBox: '0 0 10 10', width: 10, height: 10 }, s('rect', { width: 10, height: 10, fill: colour.get(app) }));
		return h('li', { dataset: { app, value: Math.round(sec * 1000) / 1000 } }, sw, ' ', h('span', { class: 'app' }, app), ' ', h('span', { class: 'muted' }, fmtDuration(sec)));
	}));
}

function totals(r) {
	const items = [
		['focus_s', 'focused', Math.round(sum(r.focus, 'focus_s') * 1000) / 1000, fmtDuration],
		['active_s', 'active', sum(r.activity, 'active_s'), fmtDuration],
		['keys', 'keys', sum(r.activity, 'keys'), String],
		['clicks', 'clicks', sum(r.activity, 'clicks'), String],
		['idle_s', 'idle', r.idle.reduce((a, i) => a + (Date.parse(i.end) - Date.parse(i.start)) / 1000, 0), fmtDuration],
	];
	return h('dl', { class: 'totals', id: 'day-totals' },
		items.map(([k, label]) => h('dt', {}, label)),
		items.map(([k, , v, fmt]) => h('dd', { dataset: { k, value: v } }, fmt(v))));
}

function cpuTable(r) {
	if (!r.top_cpu.length) return h('p', { class: 'muted' }, 'No process use recorded this day.');
	return h('table', { id: 'day-cpu' },
		h('tr', {}, h('th', {}, 'application'), h('th', {}, 'program'), h('th', { class: 'num' }, 'CPU time')),
		r.top_cpu.map((p) => h('tr', { dataset: { app: p.app, exe: p.exe } },
			h('td', {}, p.app || '—'), h('td', { class: 'exe' }, p.exe || '—'),
			h('td', { class: 'num cpu', dataset: { value: p.cpu_s }, title: `${p.cpu_s} s` }, fmtDuration(p.cpu_s)))));
}

function devicesTable(r, tz) {
	if (!r.devices.length) return h('p', { class: 'muted' }, 'No machine used this day.');
	return h('table', { id: 'day-devices' },
		h('tr', {}, h('th', {}, 'machine'), h('th', {}, 'first'), h('th', {}, 'last')),
		r.devices.map((d) => h('tr', { dataset: { id: d.device_id } },
			h('td', { class: 'hostname' }, link(`#/machine/${d.device_id}`, d.hostname || d.device_id)),
			h('td', { class: 'first', dataset: { value: d.first } }, clock(d.first, tz)),
			h('td', { class: 'last', dataset: { value: d.last } }, clock(d.last, tz)))));
}

export async function dayView(uid, day) {
	const tz = defaultZone();
	const go = (d) => { location.hash = `#/user/${uid}/day/${d}`; };
	const date = h('input', { type: 'date', id: 'day-date', value: day, onchange: () => date.value && go(date.value) });
	const nav = h('div', { class: 'row', id: 'day-nav' },
		h('button', { type: 'button', id: 'day-prev', onclick: () => go(addDays(day, -1)) }, '◀ previous day'),
		date,
		h('button', { type: 'button', id: 'day-next', onclick: () => go(addDays(day, 1)) }, 'next day ▶'));
	let user = null, r;
	try {
		[user, r] = await Promise.all([get(`/users/${enc(uid)}`).catch(() => null), fetchDay(uid, day, tz)]);
	} catch (e) {
		return h('div', { id: 'day-page' }, h('h1', {}, 'A day'), nav, errorBox(e, 'This day cannot be shown'));
	}
	const name = user ? user.name || user.email : uid;
	const hosts = Object.fromEntries(r.devices.map((d) => [d.device_id, d.hostname]));
	const viewer = h('div', { id: 'day-shot-viewer' });
	const shotsBody = h('div', { id: 'day-shots' });
	const axisBox = h('div', { id: 'day-axis-box' }, h('p', { class: 'muted' }, 'Loading…'));
	let shots = [], thumbed = [];
	async function open(sh) {
		clear(viewer).append(h('p', { class: 'muted' }, 'Loading…'));
		try {
			const url = await blobUrl(`/screenshots/${enc(sh.id)}/image`);
			const img = h('img', { class: 'shot', alt: `screenshot ${sh.id} taken ${sh.taken_at}` });
			img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
			img.src = url;
			clear(viewer).append(h('p', {}, `Screenshot taken at ${clock(sh.taken_at, r.tz)} (${sh.monitor || 'screen'}, ${sh.width}×${sh.height}, ${fmtBytes(sh.size)}); this view was written to the audit log.`), img);
		} catch (e) {
			clear(viewer).append(errorBox(e, 'Cannot show the screenshot'));
		}
	}
	try {
		const l = await get(`/screenshots${qs({ user_id: uid, from: r.from, to: r.to })}`);
		shots = l.screenshots;
		thumbed = thumbPick(shots);
		const n = `${shots.length} screenshot${shots.length > 1 ? 's' : ''}${l.truncated ? ' (the first 1000)' : ''}`;
		const which = shots.length > THUMBS_MAX
			? `thumbnails of ${THUMBS_MAX} of them, spread over the day, under the axis; the others as markers only`
			: 'as thumbnails under the axis';
		clear(shotsBody).append(shots.length
			? h('p', { class: 'muted', id: 'day-shots-note' }, `${n}, ${which}: open one from its thumbnail or marker. `
				+ 'Every thumbnail shown is recorded in the audit log under your name as screenshot.thumb (96 pixels wide: too coarse to read), '
				+ 'and every screenshot opened as screenshot.view.')
			: h('p', { class: 'muted' }, 'No screenshots this day.'));
	} catch (e) {
		clear(shotsBody).append(e.status === 403 ? h('p', { class: 'muted' }, `Screenshots are not available to you: ${e.message}`) : errorBox(e));
	}
	const ranked = rankApps(r), colour = colours(ranked);
	clear(axisBox).append(dayAxis(r, shots, hosts, colour, open), thumbed.length ? thumbStrip(r, thumbed, open) : '');
	const zoneNote = r.tz_wanted
		? h('p', { class: 'notice', id: 'day-tz-note' }, `Times in ${r.tz}: the server does not take the time zone ${r.tz_wanted} yet.`)
		: '';
	const truncated = r.truncated || r.devices_truncated
		? h('p', { class: 'notice', id: 'day-truncated' }, 'Not everything of this day could be read (too many records or machines): what is shown is partial.')
		: '';
	return h('div', { id: 'day-page', dataset: { id: uid, day, tz: r.tz } },
		h('h1', {}, link(`#/user/${uid}`, name), ` — ${day}`),
		nav,
		h('p', { class: 'muted', id: 'day-tz' }, `Times in ${r.tz}.`), zoneNote, truncated,
		card('The day', totals(r), axisBox, legend(ranked, colour), shotsBody, viewer),
		h('div', { class: 'grid' },
			card('Processes with the most CPU time', cpuTable(r)),
			card('Machines used', devicesTable(r, r.tz))));
}
