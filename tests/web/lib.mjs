// tests/web/lib.mjs - what every dashboard test in tests/web/ shares: the
// environment the shell test passes (WEB_URL, WEB_OUT, CHROMIUM,
// ACTLOG_NODE_DIR), the assertions (each into $WEB_OUT/results.json as
// {name, ok, detail}, which the shell test prints as PASS/FAIL lines:
// tests/web.sh), a few waits, and Debian's Chromium launched headless
// through playwright-core (no browser download).
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const env = process.env;
const require = createRequire(path.join(env.ACTLOG_NODE_DIR || '/opt/actlog-test', 'node_modules', '/'));
export const { chromium } = require('playwright-core');

export const URL0 = env.WEB_URL;
export const OUT = env.WEB_OUT;
export const T = 30000; // generous: a loaded 2-core machine
export const results = [];

export function check(name, ok, detail) {
	results.push({ name, ok: !!ok, detail: ok ? '' : String(detail ?? '') });
	console.log(`${ok ? 'ok' : 'NOT OK'}: ${name}${ok ? '' : ` (${detail})`}`);
}

// got === want; objects (arrays included) compare as their JSON. A string
// never equals a number here: '5' is not 5.
export function eq(name, got, want) {
	const obj = (v) => v !== null && typeof v === 'object';
	const same = obj(got) && obj(want) ? JSON.stringify(got) === JSON.stringify(want) : got === want;
	const show = (v) => (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 400);
	check(name, same, `got '${show(got)}', want '${show(want)}'`);
}

// The trimmed text of the first element sel matches, once it is there.
export async function text(page, sel) {
	const l = page.locator(sel).first();
	await l.waitFor({ timeout: T });
	return (await l.textContent()).trim();
}

// Whether the first element sel matches becomes visible within T.
export async function visible(page, sel) {
	try {
		await page.locator(sel).first().waitFor({ state: 'visible', timeout: T });
		return true;
	} catch (e) {
		return false;
	}
}

// Write the assertions so far to $WEB_OUT/results.json.
export function save() {
	writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 1));
}

// Debian's Chromium, headless, as the tests run it.
export function launch() {
	return chromium.launch({
		executablePath: env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
		headless: true,
	});
}
