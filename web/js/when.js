// when.js - times in the viewer's time zone: the user's preferred zone
// (GET /me `user.tz`, when the server has it), else the browser's.
import { session } from './session.js';

// The zone to show times in (an IANA name).
export function viewerTz() {
	const me = session.me;
	if (me && me.user && typeof me.user.tz === 'string' && me.user.tz) return me.user.tz;
	try {
		return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
	} catch (e) {
		return 'UTC';
	}
}

const fmts = new Map();
function formatter(tz, withSeconds) {
	const k = `${tz}|${withSeconds}`;
	if (!fmts.has(k)) {
		fmts.set(k, new Intl.DateTimeFormat('sv-SE', {
			timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
			hour: '2-digit', minute: '2-digit', second: withSeconds ? '2-digit' : undefined, hourCycle: 'h23',
		}));
	}
	return fmts.get(k);
}

// "YYYY-MM-DD HH:MM" (with seconds when asked) of an RFC 3339 time or Unix
// ms in zone tz; '—' for none.
export function fmtAt(t, tz = viewerTz(), withSeconds = false) {
	if (t === null || t === undefined || t === '') return '—';
	const d = new Date(typeof t === 'number' ? t : Date.parse(t));
	if (Number.isNaN(d.getTime())) return String(t);
	return formatter(tz, withSeconds).format(d);
}

// The offset of zone tz from UTC at instant ms, in ms.
function offsetAt(ms, tz) {
	const p = {};
	for (const x of formatter(tz, true).formatToParts(new Date(ms))) p[x.type] = x.value;
	const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
	return asUtc - Math.floor(ms / 1000) * 1000;
}

// The instant (RFC 3339 UTC) where day "YYYY-MM-DD" starts in zone tz.
export function dayStart(day, tz = viewerTz()) {
	const guess = Date.parse(`${day}T00:00:00Z`);
	if (tz === 'UTC' || tz === 'Etc/UTC') return new Date(guess).toISOString();
	let t = guess - offsetAt(guess, tz);
	t = guess - offsetAt(t, tz);
	return new Date(t).toISOString();
}

// Today's date "YYYY-MM-DD" in zone tz.
export function today(tz = viewerTz()) {
	return fmtAt(Date.now(), tz).slice(0, 10);
}

// True when tz is UTC (the API's default: no `tz` parameter then).
export function isUtc(tz) {
	return tz === 'UTC' || tz === 'Etc/UTC';
}
