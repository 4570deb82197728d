// A full disk while a lesson is recorded (issue #4): the data dir is a small tmpfs in the
// test's own mount namespace (tests/netns-run.sh with KETANG_NETNS_MOUNT=1). Once the
// lesson records, a filler file takes all but a few hundred KB; the recordings hit ENOSPC.
// Asserts: the teacher page is told (`recording` event), the lesson goes on (the classroom
// keeps decoding the teacher), the server answers, the catalog marks what stopped as
// failed, and every file that was written decodes without an error.
//
// Run inside tests/netns-run.sh with KETANG_NETNS_MOUNT=1; needs KETANG_BIN, ffmpeg,
// mount/fallocate and tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { request } from './lib/http.mjs';
import { decodeErrors, download } from './lib/media.mjs';
import { assertLessonReceives, lessonInbound, openClassroom, openLessonTeacher, waitForLessonState }
	from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const run = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const LESSON = 'fulldisk1';

describe('recording onto a full disk', () => {
	let browser, server, dataDir, scratch;

	before(async () => {
		dataDir = await mkdtemp(join(tmpdir(), 'ketang-disk-'));
		scratch = await mkdtemp(join(tmpdir(), 'ketang-disk-out-'));
		await run('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0700', 'tmpfs', dataDir]);
		browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
		server = await startServer({ dataDir });
	});

	after(async () => {
		await browser?.close();
		await server?.stop({ keepData: true });
		await run('umount', [dataDir]).catch(() => {});
		await rm(dataDir, { recursive: true, force: true });
		await rm(scratch, { recursive: true, force: true });
	});

	it('stops the recordings cleanly; the lesson goes on; what was written plays', async () => {
		const teacher = await browser.newPage('teacher');
		await openLessonTeacher(teacher, server.origin, LESSON, await server.token(LESSON, 'teacher'));
		await teacher.click('#share');
		await teacher.waitForFunction(() => window.ketang.publishPc?.connectionState === 'connected', null,
			{ timeout: 15000 });
		const room = await browser.newPage('Room A');
		await openClassroom(room, server.origin, LESSON, await server.token(LESSON, 'classroom'), 'Room A');
		const teacherId = await room.evaluate(() =>
			Object.values(window.ketang.participants).find((p) => p.role === 'teacher').id);
		await assertLessonReceives(room, teacherId, 'camera');
		await sleep(2000); // every recording has bytes on disk

		const fs = await statfs(dataDir);
		const free = fs.bavail * fs.bsize;
		const filler = join(dataDir, 'filler');
		await run('fallocate', ['-l', String(free - 256 * 1024), filler]);
		const filledAt = Date.now();
		await teacher.waitForFunction(() => window.ketang.recordingEvents.length > 0, null, { timeout: 30000 });
		const events = await teacher.evaluate(() => window.ketang.recordingEvents);
		console.log(`disk full -> first recording event after ${Date.now() - filledAt} ms: ` +
			`${events.map((e) => `${e.stream}: ${e.message}`).join('; ')}`);
		assert.match(await teacher.textContent('#notice'), /Recording of .* stopped/);

		// The lesson goes on: the classroom keeps decoding the teacher.
		const before = (await lessonInbound(room, teacherId, 'camera')).framesDecoded;
		await sleep(2000);
		const later = (await lessonInbound(room, teacherId, 'camera')).framesDecoded;
		console.log(`classroom decoded ${later - before} teacher frames in the 2 s after the disk filled`);
		assert.ok(later - before >= 10, `the classroom's picture stalled (${before} -> ${later})`);
		assert.equal((await request(`${server.origin}/healthz`)).status, 200);

		// Room again, the lesson ends: what stopped is marked failed, everything written decodes.
		await rm(filler);
		await teacher.click('#end');
		await teacher.click('#end-confirm');
		await waitForLessonState(teacher, 'ended', 5000);
		const archivist = await server.token('', 'archivist');
		let rows = [];
		const deadline = Date.now() + 10000;
		while (Date.now() < deadline) {
			const { body } = await request(`${server.origin}/api/recordings?lesson=${LESSON}`,
				{ headers: { Authorization: `Bearer ${archivist}` } });
			rows = JSON.parse(body).recordings;
			if (rows.length && rows.every((r) => r.state !== 'recording'))
				break;
			await sleep(100);
		}
		console.log(`catalog: ${rows.map((r) => `${r.stream} ${r.state}`).join(', ')}`);
		const failed = rows.filter((r) => r.state === 'failed');
		for (const e of events)
			assert.ok(failed.some((r) => r.stream === e.stream), `${e.stream} stopped but is not marked failed`);
		for (const row of rows) {
			const path = join(scratch, `${row.id}`);
			const res = await download(`${server.origin}${row.media_url}?token=${encodeURIComponent(archivist)}`, path);
			assert.equal(res.status, 200);
			assert.ok(res.size > 0, `${row.stream}: empty file`);
			assert.equal(await decodeErrors(path), '', `${row.stream}: the file written before the disk filled does not decode cleanly`);
		}
	});
});
