// downloads.js - a "Downloads" card for a person's or a node's page: the
// reports (GET /api/v1/reports/{activity,apps}.{csv,json}) over a range of
// days, fetched with the bearer token into a blob and saved with
// a.download (a plain link could not carry the token).
import { api, qs } from './api.js';
import { addDays, card, clear, errorBox, h } from './dom.js';
import { dayStart, defaultZone, isUtc, today } from './zone.js';

const FILES = ['activity.csv', 'activity.json', 'apps.csv', 'apps.json'];
const STEPS = [[3600, 'hour'], [86400, 'day'], [604800, 'week']];

// The file name from Content-Disposition (filename="..."), else fallback.
function fileName(res, fallback) {
	const cd = res.headers.get('Content-Disposition') || '';
	const m = cd.match(/filename="([A-Za-z0-9._-]{1,200})"/);
	return m ? m[1] : fallback;
}

// target: {user_id} or {node_id}. The range is whole days in the chosen
// zone; `tz` is sent only when it is not UTC (the API's default).
export function downloadsCard(target) {
	const idOf = target.user_id || target.node_id;
	const vtz = defaultZone();
	const zones = isUtc(vtz) ? ['UTC'] : [vtz, 'UTC'];
	const tz = h('select', { id: 'dl-tz' }, zones.map((z) => h('option', { value: z }, z)));
	const end = today(vtz);
	const from = h('input', { type: 'date', id: 'dl-from', value: addDays(end, -6) });
	const to = h('input', { type: 'date', id: 'dl-to', value: end });
	const step = h('select', { id: 'dl-step' }, STEPS.map(([v, t]) => h('option', { value: v }, t)));
	const msg = h('div', { id: 'dl-msg' });

	async function download(file, btn) {
		clear(msg);
		if (!from.value || !to.value || from.value > to.value) {
			msg.append(errorBox('Pick a first day on or before the last day.'));
			return;
		}
		const z = tz.value;
		const iso = (d) => new Date(dayStart(d, z)).toISOString();
		const q = { ...target, from: iso(from.value), to: iso(addDays(to.value, 1)) };
		if (file.startsWith('activity')) q.step = step.value;
		if (!isUtc(z)) q.tz = z;
		btn.disabled = true;
		try {
			const res = await api('GET', `/reports/${file}${qs(q)}`, { raw: true });
			const [kind, ext] = file.split('.');
			const name = fileName(res, `actlog-${kind}-${idOf}-${from.value}-${addDays(to.value, 1)}.${ext}`);
			const url = URL.createObjectURL(await res.blob());
			const a = h('a', { href: url, download: name, hidden: true });
			document.body.append(a);
			a.click();
			a.remove();
			setTimeout(() => URL.revokeObjectURL(url), 60000);
			msg.append(h('p', { class: 'ok' }, `Saved ${name}.`));
		} catch (e) {
			msg.append(errorBox(e, `${file} not downloaded`));
		} finally {
			btn.disabled = false;
		}
	}
	const buttons = FILES.map((f) => {
		const b = h('button', { type: 'button', dataset: { file: f } }, f);
		b.addEventListener('click', () => download(f, b));
		return b;
	});
	return card('Downloads',
		h('div', { class: 'row' }, 'from', from, 'to', to, 'per', step, 'time zone', tz),
		h('div', { class: 'row', id: 'downloads' }, buttons),
		h('p', { class: 'muted' }, 'Activity per person and step, applications per person with focus time and share. Every download is written to the audit log.'),
		msg);
}
