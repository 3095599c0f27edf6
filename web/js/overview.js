// overview.js - the team overview (#/overview/<node id>): one row per person
// below a node (GET /api/v1/nodes/{id}/overview) with whether they are
// online, their active time and activity % over the range, a heat strip of
// their active seconds per step, their top application and the share of
// synthetic input when the rollups carry it. Sortable by every column.
import { get, qs } from './api.js';
import { clear, errorBox, fmtDuration, h, link, s } from './dom.js';
import { dayOf, dayStart, defaultZone, fmtAt, shiftDay, zoneRefused, zoneSelect } from './zone.js';

const enc = encodeURIComponent;
const SVG_NS = 'http://www.w3.org/2000/svg';
const SYNTHETIC_FLAG = 0.2; // a share of synthetic active time worth a look

// The heat strip of a row: one cell per step, shaded by active_s / step,
// each with its exact seconds in a <title>. labels[i]: step i's start as
// text (made once per answer: formatting in a zone is the costly part).
export function heatStrip(series, startMs, stepS, labels) {
	const n = series.active_s.length;
	const svg = s('svg', {
		class: 'heat', viewBox: `0 0 ${Math.max(n, 1)} 1`, preserveAspectRatio: 'none',
		role: 'img', 'aria-label': 'active seconds per step',
	});
	// plain DOM calls: a 200-person week is 33 600 cells
	const proto = document.createElementNS(SVG_NS, 'rect');
	proto.setAttribute('y', '0');
	proto.setAttribute('width', '1');
	proto.setAttribute('height', '1');
	proto.append(document.createElementNS(SVG_NS, 'title'));
	const frag = document.createDocumentFragment();
	for (let i = 0; i < n; i++) {
		const a = Number(series.active_s[i]) || 0, iv = Number(series.interval_s[i]) || 0;
		const r = proto.cloneNode(true);
		r.setAttribute('class', a > 0 ? 'cell' : 'cell empty');
		r.setAttribute('x', String(i));
		if (a > 0) r.setAttribute('fill-opacity', Math.max(0.12, Math.min(1, a / stepS)).toFixed(3));
		r.dataset.value = a;
		r.dataset.interval = iv;
		r.dataset.start = startMs + i * stepS * 1000;
		r.firstChild.textContent = `${labels[i]}: ${a} s active of ${iv} s recorded`;
		frag.append(r);
	}
	svg.append(frag);
	return svg;
}

// The share of synthetic active time of totals, or null when the rollups
// carry no such counter.
function syntheticShare(totals) {
	if (!totals || totals.synthetic_active_s === undefined) return null;
	return totals.active_s > 0 ? totals.synthetic_active_s / totals.active_s : 0;
}

const COLUMNS = [
	['name', 'person', (p) => (p.name || p.email || '').toLowerCase()],
	['online', 'online', (p) => (p.online ? 1 : 0)],
	['team', 'team', (p) => (p.team_name || '').toLowerCase()],
	['active', 'active time', (p) => p.totals.active_s],
	['pct', 'activity %', (p) => p.activity_pct],
	['heat', 'activity per step', null],
	['top', 'top application', (p) => (p.top_app ? p.top_app.focus_s : null)],
	['synthetic', 'synthetic', (p) => syntheticShare(p.totals)],
	['last', 'last record', (p) => p.last_record],
];

function row(p, r, zone, day, labels) {
	const start = Date.parse(r.start);
	const pct = p.activity_pct;
	const syn = syntheticShare(p.totals);
	const synCell = h('td', { class: 'num ov-synthetic', dataset: { value: syn === null ? '' : syn } });
	if (syn === null) synCell.append('—');
	else {
		synCell.append(`${(100 * syn).toFixed(1)} %`);
		if (syn > SYNTHETIC_FLAG) {
			synCell.classList.add('flag');
			synCell.title = 'more than 20 % of the active time came from synthetic input';
			synCell.append(' ⚑');
		}
	}
	return h('tr', { dataset: { userId: p.user_id } },
		h('td', { class: 'ov-name' }, link(`#/user/${enc(p.user_id)}/day/${day}`, p.name || p.email || p.user_id),
			p.disabled ? h('span', { class: 'type' }, 'disabled') : ''),
		h('td', { class: 'ov-online', dataset: { value: p.online } },
			h('span', { class: p.online ? 'dot on' : 'dot off', title: p.online ? 'online' : 'offline' }),
			h('span', { class: 'sr' }, p.online ? 'online' : 'offline')),
		h('td', { class: 'ov-team' }, p.team_name || p.team_id),
		h('td', { class: 'num ov-active', dataset: { value: p.totals.active_s } }, fmtDuration(p.totals.active_s)),
		h('td', { class: 'num ov-pct', dataset: { value: pct === null ? '' : pct } }, pct === null ? '—' : `${pct.toFixed(1)} %`),
		h('td', { class: 'ov-heat' }, h('div', { class: 'heat-wrap' }, heatStrip(p.series, start, r.step, labels))),
		h('td', { class: 'ov-top', dataset: p.top_app ? { app: p.top_app.app, value: p.top_app.focus_s } : { app: '', value: '' } },
			p.top_app ? [h('span', { class: 'app' }, p.top_app.app), ' ', h('span', { class: 'muted' }, fmtDuration(p.top_app.focus_s))] : '—'),
		synCell,
		h('td', { class: 'ov-last', dataset: { value: p.last_record === null ? '' : p.last_record } }, fmtAt(p.last_record, zone)));
}

// Sort people by column key (dir 1 ascending, -1 descending); nulls last.
export function sortPeople(people, key, dir) {
	const col = COLUMNS.find((c) => c[0] === key);
	if (!col || !col[2]) return people;
	const f = col[2];
	return people.slice().sort((a, b) => {
		const x = f(a), y = f(b);
		if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
		if (y === null || y === undefined) return -1;
		if (x < y) return -dir;
		if (x > y) return dir;
		return 0;
	});
}

export async function teamOverviewView(nodeId) {
	const zone0 = defaultZone();
	const today = dayOf(Date.now(), zone0);
	const fromIn = h('input', { type: 'date', id: 'ov-from', value: today });
	const toIn = h('input', { type: 'date', id: 'ov-to', value: today });
	const zoneSel = zoneSelect('ov-tz', zone0);
	const body = h('div', { id: 'ov-body' });
	const title = h('h1', {}, 'Team overview');
	let sortKey = 'name', sortDir = 1, last = null;

	get(`/nodes/${enc(nodeId)}`).then((n) => { title.textContent = `Team overview: ${n.name}`; }, () => {});

	function render() {
		const { r, zone, day, note, labels } = last;
		const ths = COLUMNS.map(([key, label, f]) => {
			if (!f) return h('th', {}, label);
			const b = h('button', { type: 'button', class: 'link sort', dataset: { sort: key } }, label,
				key === sortKey ? (sortDir > 0 ? ' ▲' : ' ▼') : '');
			b.addEventListener('click', () => {
				sortDir = key === sortKey ? -sortDir : 1;
				sortKey = key;
				render();
			});
			return h('th', { 'aria-sort': key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none',
				class: ['active', 'pct', 'synthetic'].includes(key) ? 'num' : undefined }, b);
		});
		const people = sortPeople(r.people, sortKey, sortDir);
		const table = h('table', { id: 'overview-table', dataset: { from: r.from, tz: zone, rows: people.length, sort: `${sortKey}:${sortDir > 0 ? 'asc' : 'desc'}` } },
			h('thead', {}, h('tr', {}, ths)),
			h('tbody', {}, people.map((p) => row(p, r, zone, day, labels))));
		clear(body).append(
			note ? h('p', { class: 'notice', id: 'ov-note' }, note) : '',
			r.truncated ? h('p', { class: 'notice' }, 'Only the first 1000 people are shown.') : '',
			h('p', { class: 'muted', id: 'ov-summary' },
				`${r.people.length} people · one cell per ${r.step >= 86400 ? 'day' : r.step === 3600 ? 'hour' : `${r.step / 60} min`} · times in ${zone} · activity % is active time over recorded time`),
			people.length ? table : h('p', { class: 'muted' }, 'Nobody here whose activity you may read.'));
	}

	async function load() {
		const zone = zoneSel.value;
		if (toIn.value < fromIn.value) toIn.value = fromIn.value;
		const from = dayStart(fromIn.value, zone), to = dayStart(shiftDay(toIn.value, 1), zone);
		// one day: 10-minute cells; up to a week: hours; longer: local days
		const days = Math.round((to - from) / 86400e3);
		const step = days <= 1 ? 600 : days <= 7 ? 3600 : 86400;
		const q = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), step };
		if (zone !== 'UTC') q.tz = zone;
		clear(body).append(h('p', { class: 'muted' }, 'Loading…'));
		let r, note = '';
		try {
			try {
				r = await get(`/nodes/${enc(nodeId)}/overview${qs(q)}`);
			} catch (e) {
				if (!q.tz || !zoneRefused(e)) throw e;
				delete q.tz; // the server does not take zones yet: same instants, UTC hours
				r = await get(`/nodes/${enc(nodeId)}/overview${qs(q)}`);
				note = `The server computes steps in UTC for now; the range is ${zone}'s days.`;
			}
		} catch (e) {
			clear(body).append(e.status === 403 ? h('p', { class: 'error', role: 'alert', id: 'ov-error' }, `Not available to you: ${e.message}`) : errorBox(e));
			return;
		}
		const start = Date.parse(r.start);
		// each step's start as the API gives it (local days may be 23 or 25 hours)
		const labels = Array.from({ length: r.points }, (_, i) => fmtAt(r.starts ? Date.parse(r.starts[i]) : start + i * r.step * 1000, zone));
		last = { r, zone, day: fromIn.value, note, labels };
		render();
	}

	const go = h('button', { type: 'button', id: 'ov-show', class: 'primary', onclick: load }, 'Show');
	zoneSel.addEventListener('change', load);
	load();
	return h('div', { id: 'overview-page', dataset: { id: nodeId } }, title,
		h('p', {}, link(`#/node/${enc(nodeId)}`, 'Node page'), ' · ', link(`#/apps/node/${enc(nodeId)}`, 'Applications')),
		h('section', { class: 'card' },
			h('div', { class: 'row' }, 'from', fromIn, 'to', toIn, 'time zone', zoneSel, go), body));
}
