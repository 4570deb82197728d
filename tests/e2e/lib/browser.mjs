// Launches Debian's chromium through playwright-core (never a downloaded
// browser) with the flags PLATFORM.md lists for WebRTC tests on loopback.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.KETANG_CHROMIUM || '/usr/bin/chromium';

export const FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--use-fake-device-for-media-stream',
	'--use-fake-ui-for-media-stream',
	// Only loopback exists in the test namespace: without this Chromium
	// gathers no ICE candidate at all.
	'--allow-loopback-in-peer-connection',
	// The server's certificate is self-signed, made on first start.
	'--ignore-certificate-errors',
	// Pages of one browser share the CPU: keep hidden ones running.
	'--disable-renderer-backgrounding',
	'--disable-background-timer-throttling',
	'--disable-backgrounding-occluded-windows',
];

/** playwright-core, or an error telling how to install it. */
export async function loadPlaywright() {
	try {
		return await import('playwright-core');
	} catch (err) {
		throw new Error('playwright-core is not installed (tests/e2e/node_modules is missing). ' +
			'Run `make test` (it runs `npm ci` in tests/e2e), or `cd tests/e2e && npm ci`. ' +
			`(${err.message})`);
	}
}

/**
 * Starts one headless chromium with a fresh profile. Returns { context,
 * newPage(name), problems, close() }: newPage logs the page's console to
 * stderr (prefixed by name) and records uncaught errors and CSP refusals in
 * problems, which a test should find empty.
 */
export async function launchBrowser({ args = [] } = {}) {
	const { chromium } = await loadPlaywright();
	const userDataDir = await mkdtemp(join(tmpdir(), 'ketang-chromium-'));
	const context = await chromium.launchPersistentContext(userDataDir, {
		executablePath: CHROMIUM,
		headless: true,
		ignoreHTTPSErrors: true,
		args: FLAGS.concat(args),
		viewport: { width: 1000, height: 800 },
	});
	const problems = [];

	async function newPage(name) {
		const page = await context.newPage();
		page.on('console', (msg) => {
			const text = msg.text();
			if (process.env.KETANG_E2E_VERBOSE || msg.type() === 'error')
				process.stderr.write(`[${name} console.${msg.type()}] ${text}\n`);
			if (/Content Security Policy|Refused to/.test(text))
				problems.push(`${name}: ${text}`);
		});
		page.on('pageerror', (err) => problems.push(`${name}: uncaught ${err.message}`));
		return page;
	}

	async function close() {
		await context.close();
		await rm(userDataDir, { recursive: true, force: true });
	}

	return { context, newPage, problems, close };
}
