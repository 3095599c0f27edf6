// zone.js - days and times in the viewer's (or a chosen) IANA time zone, for
// every view: the viewer's zone, the zone selector, the instant a zoned day
// starts, and formatting. Only Intl: no time zone data of our own.
import { addDays, h } from './dom.js';
import { session } from './session.js';

// The zone the browser runs in ('UTC' when Intl cannot say).
function browserZone() {
	try {
		return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
	} catch (e) {
		return 'UTC';
	}
}

// The viewer's zone: their preferred one (GET /me user.tz) when set and
// known to Intl, else the browser's.
export function defaultZone() {
	const me = session.me;
	if (me && me.user && zoneValid(me.user.tz)) return me.user.tz;
	return browserZone();
}

// Whether Intl knows zone z.
export function zoneValid(z) {
	if (typeof z !== 'string' || !z) return false;
	try {
		new Intl.DateTimeFormat('en', { timeZone: z });
		return true;
	} catch (e) {
		return false;
	}
}

// True when zone z is UTC (the API's default: no `tz` parameter then).
export function isUtc(z) {
	return z === 'UTC' || z === 'Etc/UTC';
}

const parts = new Map(); // zone -> Intl.DateTimeFormat
function fmt(zone) {
	if (!parts.has(zone))
		parts.set(zone, new Intl.DateTimeFormat('en-CA', {
			timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
			hour: '2-digit', minute: '2-digit', second: '2-digit',
		}));
	return parts.get(zone);
}

// {y, mo, d, h, mi, s} of Unix ms t in zone.
function fields(t, zone) {
	const o = {};
	for (const p of fmt(zone).formatToParts(new Date(t))) o[p.type] = Number(p.value);
	return { y: o.year, mo: o.month, d: o.day, h: o.hour % 24, mi: o.minute, s: o.second };
}

// The zone's offset from UTC at Unix ms t, in ms (east positive).
function offsetAt(t, zone) {
	const f = fields(t, zone);
	return Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s) - Math.floor(t / 1000) * 1000;
}

// Unix ms where day 'YYYY-MM-DD' starts in zone: its 00:00 (the first of
// two when clocks go back over it), or the first instant after a gap that
// skips it (America/Santiago's spring), as the server's tz_midnight().
export function dayStart(day, zone = defaultZone()) {
	const [y, m, d] = day.split('-').map(Number);
	const guess = Date.UTC(y, m - 1, d);
	const a = guess - offsetAt(guess, zone);
	const b = guess - offsetAt(a, zone); // once more across a change of offset
	const on = [a, b].filter((t) => dayOf(t, zone) === day);
	return on.length ? Math.min(...on) : b;
}

// 'YYYY-MM-DD' of Unix ms t in zone.
export function dayOf(t, zone = defaultZone()) {
	const f = fields(t, zone);
	return `${f.y}-${String(f.mo).padStart(2, '0')}-${String(f.d).padStart(2, '0')}`;
}

// Today's date 'YYYY-MM-DD' in zone.
export function today(zone = defaultZone()) {
	return dayOf(Date.now(), zone);
}

// The calendar day n days after day (YYYY-MM-DD; n may be negative).
export const shiftDay = addDays;

// The days from..to (inclusive), at most max.
export function daysBetween(from, to, max) {
	const out = [];
	for (let d = from; d <= to && out.length < max; d = shiftDay(d, 1)) out.push(d);
	return out;
}

const p2 = (n) => String(n).padStart(2, '0');

// Unix ms of t (Unix ms or an RFC 3339 time), NaN when it is neither.
function msOf(t) {
	return typeof t === 'number' ? t : Date.parse(t);
}

// 'YYYY-MM-DD HH:MM' (with ':SS' when asked) of t (Unix ms or RFC 3339) in
// zone; '—' for none, t itself when it is not a time.
export function fmtAt(t, zone = defaultZone(), withSeconds = false) {
	if (t === null || t === undefined || t === '') return '—';
	const ms = msOf(t);
	if (Number.isNaN(ms)) return String(t);
	const f = fields(ms, zone);
	return `${f.y}-${p2(f.mo)}-${p2(f.d)} ${p2(f.h)}:${p2(f.mi)}${withSeconds ? `:${p2(f.s)}` : ''}`;
}

// 'HH:MM:SS' (or 'HH:MM') of t (Unix ms or RFC 3339) in zone.
export function clockAt(t, zone = defaultZone(), withSeconds = true) {
	const f = fields(msOf(t), zone);
	return `${p2(f.h)}:${p2(f.mi)}${withSeconds ? `:${p2(f.s)}` : ''}`;
}

// A <select> of zones: UTC, the viewer's default, the browser's, then every
// zone Intl knows.
export function zoneSelect(id, value) {
	let all = [];
	try {
		if (Intl.supportedValuesOf) all = Intl.supportedValuesOf('timeZone');
	} catch (e) { /* UTC */ }
	const zones = [...new Set(['UTC', value, defaultZone(), browserZone(), ...all])];
	return h('select', { id, 'aria-label': 'time zone' },
		zones.map((z) => h('option', { value: z, selected: z === value }, z)));
}

// The API's answer to a zone it does not take yet (until time zones land).
export function zoneRefused(e) {
	return e && e.status === 400 && /time zone/i.test(e.message || '');
}
