// Scheduling lessons and reading the recordings catalog through the real server's API,
// for the recording tests.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { launchBrowser } from './browser.mjs';
import { request } from './http.mjs';
import { download } from './media.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a scheduled lesson through the API; resolves its JSON. */
export async function schedule(server, fields) {
	const admin = await server.token('', 'admin');
	const res = await request(`${server.origin}/api/lessons`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ starts_at: new Date().toISOString(), ...fields }),
	});
	assert.equal(res.status, 201, res.body);
	return JSON.parse(res.body);
}

/** The catalog's recordings of @lesson (archivist token). */
export async function recordingsOf(server, token, lesson) {
	const res = await request(`${server.origin}/api/recordings?lesson=${lesson}&limit=100`,
		{ headers: { Authorization: `Bearer ${token}` } });
	assert.equal(res.status, 200, res.body);
	return JSON.parse(res.body).recordings;
}

/** Polls until @done(rows) holds; resolves the rows, or fails with what was seen. */
export async function waitForRows(server, token, lesson, done, timeoutMs, what) {
	const deadline = Date.now() + timeoutMs;
	let rows = [];
	while (Date.now() < deadline) {
		rows = await recordingsOf(server, token, lesson);
		if (done(rows))
			return rows;
		await sleep(50);
	}
	assert.fail(`${what} not within ${timeoutMs} ms: ${JSON.stringify(rows.map((r) => [r.stream, r.state]))}`);
}

/** Downloads a recording's media into @dir through the archive API. */
export async function fetchMedia(server, token, row, dir) {
	const path = join(dir, `${row.id}-${row.file_name.replace(/[^\w.-]/g, '_')}`);
	const res = await download(`${server.origin}${row.media_url}${row.media_url.includes('?') ? '&' : '?'}` +
		`token=${encodeURIComponent(token)}`, path);
	assert.equal(res.status, 200, `${row.stream}: GET media ${res.status}`);
	return path;
}

/**
 * Registers a suite's before/after hooks: one browser (autoplay allowed) and a scratch dir
 * for downloaded recordings, kept when KETANG_E2E_KEEP is set. Returns { browser, scratch },
 * filled in once the hooks ran.
 */
export function useBrowserAndScratch() {
	const ctx = { browser: null, scratch: null };
	before(async () => {
		ctx.scratch = await mkdtemp(join(tmpdir(), 'ketang-rec-'));
		ctx.browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
	});
	after(async () => {
		await ctx.browser?.close();
		if (ctx.scratch && !process.env.KETANG_E2E_KEEP)
			await rm(ctx.scratch, { recursive: true, force: true });
	});
	return ctx;
}
