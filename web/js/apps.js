// apps.js - the applications view (#/apps/node/<id>, #/apps/user/<id>): the
// applications with the most focus time over a range with their share of
// the total (GET /api/v1/apps/top), and the focus time of the top five per
// day of the range (one /apps/top call a day, at most 31 days).
import { get, qs } from './api.js';
import { clear, errorBox, fmtDuration, h, link, s } from './dom.js';
import { dayOf, dayStart, daysBetween, defaultZone, shiftDay, zoneSelect } from './zone.js';

const enc = encodeURIComponent;
const LIST = 15;      // applications listed
const ALL = 100;      // applications read for the total (the API's most)
const TREND = 5;      // applications with a per-day trend
const DAYS_MAX = 31;  // days of a trend
const PARALLEL = 4;   // per-day requests at once
const COLORS = ['c0', 'c1', 'c2', 'c3', 'c4'];

// Run fn over items with at most n at once; results in order.
async function pool(items, n, fn) {
	const out = new Array(items.length);
	let next = 0;
	async function worker() {
		while (next < items.length) {
			const i = next++;
			out[i] = await fn(items[i], i);
		}
	}
	await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
	return out;
}

// Lines of focus seconds per day, one per application (values[a][d]).
export function trendChart(apps, days, values) {
	const W = 960, H = 220, padL = 76, padB = 24, padT = 10, padR = 24;
	let max = 1;
	for (const v of values) for (const x of v) max = Math.max(max, x);
	const xAt = (d) => padL + (days.length > 1 ? (d * (W - padL - padR)) / (days.length - 1) : (W - padL - padR) / 2);
	const yAt = (v) => H - padB - ((H - padB - padT) * v) / max;
	const svg = s('svg', { class: 'trend', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'focus time per day' });
	svg.append(s('line', { class: 'axis', x1: padL, y1: H - padB, x2: W - padR, y2: H - padB }));
	svg.append(s('text', { x: padL - 4, y: padT + 8, 'text-anchor': 'end' }, fmtDuration(max)));
	svg.append(s('text', { x: padL - 4, y: H - padB, 'text-anchor': 'end' }, '0'));
	days.forEach((d, i) => {
		if (days.length <= 8 || i % Math.ceil(days.length / 8) === 0)
			svg.append(s('text', { x: xAt(i), y: H - 6, 'text-anchor': 'middle' }, d.slice(5)));
	});
	apps.forEach((a, k) => {
		const pts = values[k].map((v, i) => `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`).join(' ');
		svg.append(s('polyline', { class: `line ${COLORS[k]}`, points: pts, dataset: { app: a } }));
		values[k].forEach((v, i) => svg.append(s('circle', { class: `pt ${COLORS[k]}`, cx: xAt(i), cy: yAt(v), r: 3, dataset: { app: a, day: days[i], value: v } },
			s('title', {}, `${a}, ${days[i]}: ${fmtDuration(v)} (${v} s)`))));
	});
	return svg;
}

export async function appsView(kind, id) {
	const zone0 = defaultZone();
	const today = dayOf(Date.now(), zone0);
	const fromIn = h('input', { type: 'date', id: 'apps-from', value: shiftDay(today, -6) });
	const toIn = h('input', { type: 'date', id: 'apps-to', value: today });
	const zoneSel = zoneSelect('apps-tz', zone0);
	const topBody = h('div', { id: 'apps-top' });
	const trendBody = h('div', { id: 'apps-trend' });
	const title = h('h1', {}, 'Applications');
	const who = kind === 'user' ? { user_id: id } : { node_id: id };
	const back = kind === 'user' ? link(`#/user/${enc(id)}`, 'Person page') : link(`#/node/${enc(id)}`, 'Node page');

	get(kind === 'user' ? `/users/${enc(id)}` : `/nodes/${enc(id)}`).then(
		(x) => { title.textContent = `Applications: ${x.name || x.email || id}`; }, () => {});

	async function load() {
		const zone = zoneSel.value;
		if (toIn.value < fromIn.value) toIn.value = fromIn.value;
		const days = daysBetween(fromIn.value, toIn.value, DAYS_MAX);
		if (days[days.length - 1] !== toIn.value) toIn.value = days[days.length - 1];
		const range = (d0, d1) => ({ from: new Date(dayStart(d0, zone)).toISOString(), to: new Date(dayStart(shiftDay(d1, 1), zone)).toISOString() });
		clear(topBody).append(h('p', { class: 'muted' }, 'Loading…'));
		clear(trendBody);
		let r;
		try {
			r = await get(`/apps/top${qs({ ...who, ...range(days[0], days[days.length - 1]), limit: ALL })}`);
		} catch (e) {
			clear(topBody).append(e.status === 403 ? h('p', { class: 'error', role: 'alert', id: 'apps-error' }, `Not available to you: ${e.message}`) : errorBox(e));
			return;
		}
		const total = r.apps.reduce((t, a) => t + a.focus_s, 0);
		const listed = r.apps.slice(0, LIST);
		const rows = listed.map((a) => {
			const share = total > 0 ? a.focus_s / total : 0;
			const fill = h('div', { class: 'bar-fill' });
			fill.style.width = `${(100 * share).toFixed(2)}%`;
			return h('tr', { dataset: { app: a.app } },
				h('td', { class: 'app-name' }, a.app),
				h('td', { class: 'num app-focus', dataset: { value: a.focus_s } }, fmtDuration(a.focus_s)),
				h('td', { class: 'num app-share', dataset: { value: share } }, `${(100 * share).toFixed(1)} %`),
				h('td', { class: 'app-bar' }, h('div', { class: 'bar-track' }, fill)));
		});
		clear(topBody).append(
			h('p', { class: 'muted', id: 'apps-total', dataset: { value: total } },
				`Share of ${fmtDuration(total)}: the focus time of the ${r.apps.length < ALL ? 'applications recorded' : `top ${ALL} applications`} in ${days[0]} – ${days[days.length - 1]} (${zone}).`),
			r.truncated ? h('p', { class: 'notice' }, 'More applications were seen than the server sums; some are left out.') : '',
			listed.length
				? h('table', { id: 'apps-table' }, h('tr', {}, h('th', {}, 'application'), h('th', { class: 'num' }, 'focus time'), h('th', { class: 'num' }, 'share'), h('th', {}, '')), rows)
				: h('p', { class: 'muted' }, 'No applications recorded in this range.'));
		const top = r.apps.slice(0, TREND).map((a) => a.app);
		if (!top.length) return;
		trendBody.append(h('p', { class: 'muted' }, 'Loading the days…'));
		let perDay;
		try {
			perDay = await pool(days, PARALLEL, (d) => get(`/apps/top${qs({ ...who, ...range(d, d), limit: ALL })}`));
		} catch (e) {
			clear(trendBody).append(errorBox(e));
			return;
		}
		const values = top.map((a) => perDay.map((p) => {
			const x = p.apps.find((y) => y.app === a);
			return x ? x.focus_s : 0;
		}));
		clear(trendBody).append(
			trendChart(top, days, values),
			h('p', { class: 'legend' }, top.map((a, k) => h('span', { class: `key ${COLORS[k]}` }, a))),
			h('table', { id: 'apps-days' },
				h('tr', {}, h('th', {}, 'application'), days.map((d) => h('th', { class: 'num' }, d.slice(5)))),
				top.map((a, k) => h('tr', { dataset: { app: a } }, h('td', {}, a),
					values[k].map((v, i) => h('td', { class: 'num', dataset: { day: days[i], value: v } }, v ? fmtDuration(v) : '—'))))));
	}

	const go = h('button', { type: 'button', id: 'apps-show', class: 'primary', onclick: load }, 'Show');
	zoneSel.addEventListener('change', load);
	load();
	return h('div', { id: 'apps-page', dataset: { kind, id } }, title,
		h('p', {}, back, kind === 'node' ? [' · ', link(`#/overview/${enc(id)}`, 'Team overview')] : ''),
		h('section', { class: 'card' },
			h('div', { class: 'row' }, 'from', fromIn, 'to', toIn, 'time zone', zoneSel, go),
			h('h2', {}, 'Top applications'), topBody),
		h('section', { class: 'card' }, h('h2', {}, `Top ${TREND} per day`), trendBody));
}
