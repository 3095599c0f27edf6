// linechart.js - a small line chart over time in inline SVG (no library):
// one polyline per series, a dot per point with its time and raw value in
// data-t / data-value and a <title>, the top of the scale and 0 on the
// left, a few times below, a legend.
import { h, s } from './dom.js';
import { fmtAt } from './zone.js';

// series: [{name, points: [[ms, value], ...]}] (value null: a gap);
// opts: {from, to (ms), fmt (value -> text), max (fixed top, e.g. 100),
// label (aria), id}. An empty chart says so.
export function lineChart(series, opts) {
	const W = 960, H = 180, padL = 72, padR = 10, padT = 10, padB = 22;
	const from = opts.from, to = Math.max(opts.to, opts.from + 1);
	const fmt = opts.fmt || String;
	let top = opts.max || 0;
	if (!opts.max) for (const se of series) for (const [, v] of se.points) if (v !== null && v > top) top = v;
	if (!top) top = 1;
	const X = (t) => padL + ((W - padL - padR) * (t - from)) / (to - from);
	const Y = (v) => H - padB - ((H - padB - padT) * v) / top;
	const svg = s('svg', { class: 'linechart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || '', id: opts.id });
	svg.append(s('line', { class: 'axis', x1: padL, y1: H - padB, x2: W - padR, y2: H - padB }),
		s('line', { class: 'grid', x1: padL, y1: padT, x2: W - padR, y2: padT }),
		s('text', { x: padL - 4, y: padT + 4, 'text-anchor': 'end' }, fmt(top)),
		s('text', { x: padL - 4, y: H - padB, 'text-anchor': 'end' }, fmt(0)));
	for (let i = 0; i <= 4; i++) {
		const t = from + ((to - from) * i) / 4;
		svg.append(s('text', { x: X(t), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, fmtAt(t).slice(5)));
	}
	let any = false;
	series.forEach((se, k) => {
		const g = s('g', { class: `series s${k % 6}`, dataset: { name: se.name } });
		let run = [];
		const flush = () => {
			if (run.length > 1) g.append(s('polyline', { points: run.join(' ') }));
			run = [];
		};
		for (const [t, v] of se.points) {
			if (v === null || v === undefined || t < from || t > to) {
				flush();
				continue;
			}
			any = true;
			const x = X(t).toFixed(1), y = Y(v).toFixed(1);
			run.push(`${x},${y}`);
			g.append(s('circle', { cx: x, cy: y, r: 2.5, dataset: { t: new Date(t).toISOString(), value: v } },
				s('title', {}, `${se.name}: ${fmt(v)} at ${fmtAt(t)}`)));
		}
		flush();
		svg.append(g);
	});
	const legend = h('div', { class: 'legend' }, series.map((se, k) =>
		h('span', { class: `key s${k % 6}` }, h('span', { class: 'swatch' }), se.name)));
	return h('div', { class: 'linechart-box' }, any ? [svg, series.length > 1 ? legend : ''] : h('p', { class: 'muted' }, 'No values in this range.'));
}
