// user.js - a person's page: profile picture, activity timeline of a day,
// top applications, their devices and their screenshots (viewing one is an
// audited request).
import { api, blobUrl, get, put, qs } from './api.js';
import { addDays, card, clear, errorBox, fmtBytes, fmtTime, h, link, utcDay } from './dom.js';
import { barList, METRICS, timeline } from './chart.js';
import { deviceTable } from './node.js';
import { session } from './session.js';
import { downloadsCard } from './downloads.js';
import { zoneSelect } from './zone.js';

const enc = encodeURIComponent;

// One's preferred time zone (PATCH /me {tz}): the views' default zone;
// unset, they use the browser's.
function zonePref(user) {
	const cur = typeof user.tz === 'string' ? user.tz : null;
	const sel = zoneSelect('pref-tz-select', cur || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
	const msg = h('span', { id: 'pref-tz-msg', class: 'muted' }, cur ? '' : 'not set: the browser\'s zone is used');
	const save = h('button', { type: 'button', id: 'pref-tz-save' }, 'Save');
	save.addEventListener('click', async () => {
		clear(msg);
		try {
			const r = await api('PATCH', '/me', { body: { tz: sel.value } });
			session.me.user.tz = r.tz;
			msg.append(`saved: ${r.tz}`);
		} catch (e) {
			msg.append(errorBox(e));
		}
	});
	return h('p', { class: 'row', id: 'pref-tz' }, 'Time zone', sel, save, msg);
}

function avatarCard(user, isSelf) {
	const img = h('img', { class: 'avatar', id: 'avatar', alt: `picture of ${user.name}` });
	const msg = h('div', {});
	img.hidden = true;
	async function load() {
		try {
			const url = await blobUrl(`/users/${enc(user.id)}/avatar`);
			if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
			img.src = url;
			img.hidden = false;
		} catch (e) {
			img.hidden = true;
			clear(msg).append(e.status === 404 ? h('p', { class: 'muted' }, 'No picture.') : errorBox(e));
		}
	}
	const out = h('div', {}, img, msg);
	if (isSelf) {
		const file = h('input', { type: 'file', id: 'avatar-file', accept: 'image/png,image/jpeg,image/webp' });
		file.addEventListener('change', async () => {
			const f = file.files[0];
			if (!f) return;
			clear(msg);
			try {
				await put(`/users/${enc(user.id)}/avatar`, f, { type: f.type });
				await load();
				msg.append(h('p', { class: 'ok' }, 'Picture updated.'));
			} catch (e) {
				msg.append(errorBox(e, 'Upload refused'));
			}
			file.value = '';
		});
		out.append(h('label', { class: 'row' }, 'Upload a new picture (PNG, JPEG or WebP, at most 1 MiB):', file));
	}
	load();
	return out;
}

function activityCard(user, dayInput) {
	const metric = h('select', { id: 'act-metric' }, Object.entries(METRICS).map(([k, v]) => h('option', { value: k }, v)));
	const body = h('div', { id: 'activity' });
	let last = null;
	function draw() {
		const r = last;
		const t = r.totals;
		const rows = r.series.filter((p) => p.records > 0).map((p) => h('tr', {},
			h('td', {}, `${p.start.slice(11, 16)}–${new Date(Date.parse(p.start) + r.step * 1000).toISOString().slice(11, 16)}`),
			h('td', { class: 'num' }, String(p.keys)), h('td', { class: 'num' }, String(p.clicks)),
			h('td', { class: 'num' }, String(p.moves)), h('td', { class: 'num' }, String(p.active_s)),
			h('td', { class: 'num' }, String(p.interval_s))));
		clear(body).append(
			h('dl', { class: 'totals', id: 'act-totals' },
				h('dt', {}, 'keys'), h('dt', {}, 'clicks'), h('dt', {}, 'mouse moves'), h('dt', {}, 'active seconds'),
				h('dd', { dataset: { k: 'keys' } }, String(t.keys)), h('dd', { dataset: { k: 'clicks' } }, String(t.clicks)),
				h('dd', { dataset: { k: 'moves' } }, String(t.moves)), h('dd', { dataset: { k: 'active_s' } }, String(t.active_s))),
			timeline(r.series, metric.value),
			rows.length
				? h('table', { id: 'act-intervals' }, h('tr', {}, h('th', {}, 'hour (UTC)'), h('th', { class: 'num' }, 'keys'),
					h('th', { class: 'num' }, 'clicks'), h('th', { class: 'num' }, 'moves'), h('th', { class: 'num' }, 'active s'),
					h('th', { class: 'num' }, 'recorded s')), rows)
				: h('p', { class: 'muted' }, 'No activity recorded this day.'));
	}
	async function load() {
		const day = dayInput.value;
		clear(body).append(h('p', { class: 'muted' }, 'Loading…'));
		try {
			last = await get(`/users/${enc(user.id)}/activity${qs({ from: `${day}T00:00:00Z`, to: `${addDays(day, 1)}T00:00:00Z` })}`);
			draw();
		} catch (e) {
			last = null;
			clear(body).append(errorBox(e));
		}
	}
	metric.addEventListener('change', () => last && draw());
	return { el: card('Activity (UTC day, per hour)', h('div', { class: 'row' }, 'chart:', metric), body), load };
}

function appsCard(user, dayInput) {
	const body = h('div', { id: 'user-apps' });
	async function load() {
		const day = dayInput.value;
		try {
			const r = await get(`/apps/top${qs({ user_id: user.id, from: `${day}T00:00:00Z`, to: `${addDays(day, 1)}T00:00:00Z`, limit: 15 })}`);
			clear(body).append(r.apps.length ? barList(r.apps) : h('p', { class: 'muted' }, 'No applications recorded this day.'));
		} catch (e) {
			clear(body).append(errorBox(e));
		}
	}
	return { el: card('Top applications (focus time)', body), load };
}

function shotsCard(user, dayInput) {
	const body = h('div', { id: 'shots' });
	const viewer = h('div', { id: 'shot-viewer' });
	async function view(shot, btn) {
		clear(viewer).append(h('p', { class: 'muted' }, 'Loading…'));
		btn.disabled = true;
		try {
			const url = await blobUrl(`/screenshots/${enc(shot.id)}/image`);
			const img = h('img', { class: 'shot', alt: `screenshot ${shot.id} taken ${shot.taken_at}` });
			img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
			img.src = url;
			clear(viewer).append(h('p', {}, `Screenshot taken ${fmtTime(shot.taken_at)}; this view was written to the audit log.`), img);
		} catch (e) {
			clear(viewer).append(errorBox(e, 'Cannot show the screenshot'));
		} finally {
			btn.disabled = false;
		}
	}
	async function load() {
		const day = dayInput.value;
		clear(viewer);
		try {
			const r = await get(`/screenshots${qs({ user_id: user.id, from: `${day}T00:00:00Z`, to: `${addDays(day, 1)}T00:00:00Z` })}`);
			const rows = r.screenshots.map((sh) => {
				const btn = h('button', { type: 'button', class: 'view-shot' }, 'View (logged)');
				btn.addEventListener('click', () => view(sh, btn));
				return h('tr', { dataset: { id: sh.id } }, h('td', {}, fmtTime(sh.taken_at)), h('td', {}, sh.monitor || '—'),
					h('td', {}, `${sh.width}×${sh.height}`), h('td', {}, fmtBytes(sh.size)), h('td', {}, btn));
			});
			clear(body).append(rows.length
				? h('table', { id: 'shots-list' }, h('tr', {}, ['taken (UTC)', 'monitor', 'size', 'bytes', ''].map((t) => h('th', {}, t))), rows)
				: h('p', { class: 'muted' }, 'No screenshots this day.'));
			if (r.truncated) body.append(h('p', { class: 'notice' }, 'Only the first 1000 are listed.'));
		} catch (e) {
			clear(body).append(e.status === 403 ? h('p', { class: 'muted' }, `Screenshots are not available to you: ${e.message}`) : errorBox(e));
		}
	}
	const el = card('Screenshots',
		h('p', { class: 'notice', id: 'shots-audit-note' }, 'Every screenshot you view is recorded in the audit log under your name, with the time and the screenshot.'),
		body, viewer);
	return { el, load };
}

function devicesCard(user) {
	const body = h('div', { id: 'user-devices' }, h('p', { class: 'muted' }, 'Loading…'));
	(async () => {
		try {
			const own = user.id === session.me.user.id;
			const r = await get(`/devices${own || !user.team_id ? '' : qs({ node_id: user.team_id })}`);
			const mine = r.devices.filter((d) => d.owner_id === user.id);
			clear(body).append(mine.length ? await deviceTable(mine, { [user.id]: user.name || user.email }) : h('p', { class: 'muted' }, 'No device is assigned to this person.'));
		} catch (e) {
			clear(body).append(e.status === 403 ? h('p', { class: 'muted' }, `Devices are not available to you: ${e.message}`) : errorBox(e));
		}
	})();
	return card('Devices owned', body);
}

export async function userView(id) {
	let user;
	try {
		user = await get(`/users/${enc(id)}`);
	} catch (e) {
		return h('div', { id: 'user-page' }, h('h1', {}, 'Person'), errorBox(e, 'This person cannot be shown'));
	}
	const isSelf = user.id === session.me.user.id;
	const dayInput = h('input', { type: 'date', id: 'day', value: utcDay(new Date()) });
	const act = activityCard(user, dayInput);
	const apps = appsCard(user, dayInput);
	const shots = shotsCard(user, dayInput);
	const show = h('button', { type: 'button', id: 'day-show', class: 'primary' }, 'Show');
	const loadAll = () => Promise.all([act.load(), apps.load(), shots.load()]);
	show.addEventListener('click', loadAll);
	dayInput.addEventListener('change', loadAll);
	loadAll();
	const teamLink = user.team_id ? link(`#/node/${user.team_id}`, user.team_id) : null;
	if (teamLink) {
		if (session.me.team && session.me.team.id === user.team_id) teamLink.textContent = session.me.team.name;
		else get(`/nodes/${enc(user.team_id)}`).then((n) => { teamLink.textContent = n.name; }, () => {});
	}
	return h('div', { id: 'user-page', dataset: { id: user.id } },
		h('h1', {}, user.name || user.email),
		h('div', { class: 'grid' },
			card('Profile', avatarCard(user, isSelf),
				h('p', {}, `${user.email} · login ${user.login || '—'}${user.disabled ? ' · disabled' : ''}`),
				teamLink ? h('p', {}, 'Team: ', teamLink) : '',
				isSelf ? zonePref(user) : '',
				h('p', {}, link(`#/apps/user/${enc(user.id)}`, 'Applications over a range'))),
			devicesCard(user)),
		h('div', { class: 'row' }, 'Day (UTC):', dayInput, show, h('button', { type: 'button', onclick: () => { dayInput.value = addDays(dayInput.value, -1); loadAll(); } }, '◀ previous'),
			h('button', { type: 'button', onclick: () => { dayInput.value = addDays(dayInput.value, 1); loadAll(); } }, 'next ▶'),
			h('a', { id: 'day-link', href: `#/user/${user.id}/day/${dayInput.value}`, onclick: (ev) => { ev.preventDefault(); location.hash = `#/user/${user.id}/day/${dayInput.value}`; } }, 'the day on one time axis ▸')),
		act.el, apps.el, downloadsCard({ user_id: user.id }), shots.el);
}
