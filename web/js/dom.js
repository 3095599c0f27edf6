// dom.js - building the page without HTML parsing: every string becomes a
// text node, so names, titles and hostnames from the API are never markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
		else if (k === 'dataset') Object.assign(el.dataset, v);
		else if (k === 'value' && 'value' in el) el.value = v;
		else if (k === 'checked' || k === 'disabled') el[k] = !!v;
		else el.setAttribute(k, v === true ? '' : String(v));
	}
	append(el, children);
	return el;
}

// Append children: nodes as they are, anything else as text.
export function append(el, children) {
	for (const c of [children].flat(Infinity)) {
		if (c === undefined || c === null || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

// h('tag', {attr: value, onclick: fn}, child, ...): an HTML element.
export function h(tag, attrs, ...children) {
	return build(document.createElement(tag), attrs, children);
}

// s('rect', {...}, ...): an SVG element.
export function s(tag, attrs, ...children) {
	return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
	el.replaceChildren();
	return el;
}

// An error box with the API's message (or any Error's).
export function errorBox(err, prefix) {
	const msg = err && err.message ? err.message : String(err);
	return h('p', { class: 'error', role: 'alert' }, prefix ? `${prefix}: ${msg}` : msg);
}

export function card(title, ...children) {
	return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

export function link(href, text) {
	return h('a', { href }, text);
}

// Date helpers (UTC days: the API's days are UTC).
export function utcDay(d) {
	return d.toISOString().slice(0, 10);
}
export function addDays(day, n) {
	const d = new Date(`${day}T00:00:00Z`);
	d.setUTCDate(d.getUTCDate() + n);
	return utcDay(d);
}
export function fmtTime(iso) {
	if (!iso) return '—';
	return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
export function fmtDuration(sec) {
	sec = Math.round(Number(sec) || 0);
	const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s2 = sec % 60;
	if (h) return `${h} h ${String(m).padStart(2, '0')} min`;
	if (m) return `${m} min ${String(s2).padStart(2, '0')} s`;
	return `${s2} s`;
}
export function fmtBytes(n) {
	if (n === null || n === undefined) return '—';
	const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	n = Number(n);
	while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
	return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}
