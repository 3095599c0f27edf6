// chart.js - the two charts of the dashboard, drawn with inline SVG and
// plain elements (no chart library): the activity timeline of a day and a
// bar list of applications.
import { fmtDuration, h, s } from './dom.js';

export const METRICS = {
	active_s: 'active seconds',
	keys: 'keys',
	clicks: 'clicks',
	moves: 'mouse moves',
};

// One bar per point of the series (an hour by default), height by metric.
// Each bar has a <title> with every counter of its interval.
export function timeline(series, metric) {
	const W = 960, H = 200, padL = 44, padB = 22, padT = 8;
	const n = series.length || 1;
	const bw = (W - padL) / n;
	let max = 0;
	for (const p of series) max = Math.max(max, Number(p[metric]) || 0);
	const top = metric === 'active_s' ? Math.max(max, 1) : Math.max(max, 1);
	const svg = s('svg', { class: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${METRICS[metric]} per interval` });
	svg.append(s('line', { class: 'axis', x1: padL, y1: H - padB, x2: W, y2: H - padB }));
	svg.append(s('text', { x: padL - 4, y: padT + 8, 'text-anchor': 'end' }, String(top)));
	svg.append(s('text', { x: padL - 4, y: H - padB, 'text-anchor': 'end' }, '0'));
	series.forEach((p, i) => {
		const v = Number(p[metric]) || 0;
		const bh = ((H - padB - padT) * v) / top;
		const x = padL + i * bw;
		const hour = p.start.slice(11, 16);
		const r = s('rect', {
			class: 'bar', x: x + 1, y: H - padB - bh, width: Math.max(bw - 2, 1), height: bh,
			dataset: { start: p.start, value: v },
		}, s('title', {}, `${hour} UTC: ${p.keys} keys, ${p.clicks} clicks, ${p.moves} moves, ${p.active_s} s active of ${p.interval_s} s`));
		svg.append(r);
		if (n <= 24 ? i % 3 === 0 : i % Math.ceil(n / 8) === 0)
			svg.append(s('text', { x: x + bw / 2, y: H - 6, 'text-anchor': 'middle' }, hour));
	});
	return svg;
}

// A bar list of {app, focus_s}, longest first (as the API answers).
export function barList(apps) {
	const max = Math.max(1, ...apps.map((a) => Number(a.focus_s) || 0));
	return h('div', { class: 'bars' }, apps.map((a) => {
		const fill = h('div', { class: 'bar-fill' });
		fill.style.width = `${(100 * (Number(a.focus_s) || 0)) / max}%`;
		return h('div', { class: 'bar-row', dataset: { app: a.app } },
			h('span', { class: 'bar-name', title: a.app }, a.app),
			h('div', { class: 'bar-track' }, fill),
			h('span', { class: 'bar-val', dataset: { seconds: a.focus_s } }, fmtDuration(a.focus_s)));
	}));
}
