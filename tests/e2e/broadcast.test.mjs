// The HLS broadcast of a lesson (issue 6, "Broadcast"): a teacher publishes through WHIP;
// the lesson's program comes out as HLS at /live/LESSON/index.m3u8. The playlist and its
// segments validate with ffprobe and decode without an error, segments roll, the token is
// carried to every segment URL, bad requests are refused, /watch plays the broadcast in
// Chromium (natively and through hls.js), a public lesson needs no token, and the broadcast
// is gone once the lesson ends.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN, tests/e2e/node_modules
// and web/node_modules (`make test` runs `npm ci` in both).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { assertRefused, request } from './lib/http.mjs';
import { decodeErrors, download, probe } from './lib/media.mjs';
import { startPublisher } from './lib/pages.mjs';
import { schedule } from './lib/recordings.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-broadcast';
const OTHER = 'e2e-other';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The playlist's media sequence and segment URIs. */
function parsePlaylist(text) {
	const lines = text.split('\n');
	const seq = lines.find((l) => l.startsWith('#EXT-X-MEDIA-SEQUENCE:'));
	return {
		sequence: seq ? Number(seq.split(':')[1]) : -1,
		target: Number((lines.find((l) => l.startsWith('#EXT-X-TARGETDURATION:')) || ':0').split(':')[1]),
		segments: lines.filter((l) => l && !l.startsWith('#')),
		ended: lines.includes('#EXT-X-ENDLIST'),
	};
}

/** Polls @url until it answers 200 with at least @min segments (a condition, 40 s at most). */
async function awaitPlaylist(url, min, what) {
	const deadline = Date.now() + 40000;
	let last;
	for (;;) {
		last = await request(url);
		if (last.status === 200) {
			const p = parsePlaylist(last.body);
			if (p.segments.length >= min)
				return p;
		}
		assert.ok(Date.now() < deadline, `${what}: no playlist with ${min} segments: ${last.status} ${last.body}`);
		await sleep(500);
	}
}

/** Waits until the page's video has played @seconds of the broadcast (its clock is the
 * lesson's, so it is measured from when it started playing). */
async function assertPlays(page, seconds, what) {
	const seen = () => page.evaluate(() => {
		const v = document.getElementById('video');
		return { t: v.currentTime, width: v.videoWidth, height: v.videoHeight, paused: v.paused,
			state: window.ketang.state, player: window.ketang.player,
			status: document.getElementById('status').textContent };
	});
	try {
		await page.waitForFunction(() => {
			const v = document.getElementById('video');
			return !v.paused && v.videoWidth > 0 && v.currentTime > 0;
		}, null, { timeout: 40000, polling: 100 });
		const start = (await seen()).t;
		await page.waitForFunction((t) => document.getElementById('video').currentTime >= t,
			start + seconds, { timeout: 20000 + 2000 * seconds, polling: 250 });
	} catch {
		assert.fail(`${what}: the broadcast did not play ${seconds} s: ${JSON.stringify(await seen())}`);
	}
	return seen();
}

describe('HLS broadcast', () => {
	let server;
	let browser;
	let dir;
	const tokens = {};
	let live; // the playlist URL with the observer's token
	let teacher; // the publishing page

	before(async () => {
		server = await startServer({ extraConfig: '[lesson]\nempty_timeout = 0\n' });
		browser = await launchBrowser();
		dir = await mkdtemp(join(tmpdir(), 'kt-broadcast-'));
		tokens.teacher = await server.token(LESSON, 'teacher');
		tokens.observer = await server.token(LESSON, 'observer');
		tokens.classroom = await server.token(LESSON, 'classroom');
		tokens.other = await server.token(OTHER, 'observer');
		live = `${server.origin}/live/${LESSON}/index.m3u8?token=${tokens.observer}`;
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop();
		if (dir)
			await rm(dir, { recursive: true, force: true });
	});

	it('the teacher publishes; the playlist appears with 2 s segments', async () => {
		teacher = await browser.newPage('teacher');
		await startPublisher(teacher, server.origin, LESSON, tokens.teacher);
		const p = await awaitPlaylist(live, 2, 'first segments');
		assert.equal(p.target, 2);
		assert.equal(p.ended, false);
		for (const uri of p.segments)
			assert.match(uri, new RegExp(`^segment\\d{5}\\.ts\\?token=${tokens.observer}$`));
	});

	it('segments are MPEG-TS of H.264 1280x720 and AAC that decode cleanly', async () => {
		const p = parsePlaylist((await request(live)).body);
		for (const uri of p.segments.slice(0, 2)) {
			const file = join(dir, uri.split('?')[0]);
			const seg = await download(`${server.origin}/live/${LESSON}/${uri}`, file);
			assert.equal(seg.status, 200);
			assert.equal(seg.headers['content-type'], 'video/mp2t');
			const info = await probe(file);
			assert.equal(info.video?.codec, 'h264', JSON.stringify(info.streams));
			assert.equal(info.video.width, 1280);
			assert.equal(info.video.height, 720);
			assert.equal(info.audio?.codec, 'aac', JSON.stringify(info.streams));
			assert.ok(info.duration > 1 && info.duration < 3.5, `segment of ${info.duration} s`);
			assert.equal(await decodeErrors(file), '', `${uri} decodes with errors`);
		}
	});

	it('segments roll through a sliding window', async () => {
		const first = parsePlaylist((await request(live)).body);
		const deadline = Date.now() + 30000;
		let now = first;
		while (now.sequence < first.sequence + 2 || now.segments.length < 3) {
			assert.ok(Date.now() < deadline, `the window did not move: ${JSON.stringify(now)}`);
			await sleep(500);
			now = parsePlaylist((await request(live)).body);
		}
		assert.ok(now.segments.length <= 6, `${now.segments.length} segments listed (window 6)`);
		assert.notEqual(now.segments.at(-1), first.segments.at(-1));
	});

	it('bad requests are refused', async () => {
		const base = `${server.origin}/live/${LESSON}`;
		assertRefused(await request(`${base}/index.m3u8`), 401, 'no token');
		assertRefused(await request(`${base}/index.m3u8?token=garbage`), 401, 'forged token');
		assertRefused(await request(`${base}/index.m3u8?token=${tokens.other}`), 403,
			'another lesson\'s token');
		assertRefused(await request(`${base}/segment00000.ts`), 401, 'segment without token');
		for (const path of ['/live/', `/live/${LESSON}`, `/live/${LESSON}/`, `/live/${LESSON}/x.ts`,
			`/live/${LESSON}/segment.ts`, `/live/${LESSON}/segment00001.mp4`,
			`/live/${LESSON}/index.m3u8/more`, '/live/bad%20id/index.m3u8',
			`/live/${LESSON}/segment${'1'.repeat(12)}.ts`])
			assertRefused(await request(`${server.origin}${path}?token=${tokens.observer}`), 404, path);
		assertRefused(await request(`${server.origin}/live/${OTHER}/index.m3u8?token=${tokens.other}`),
			404, 'a lesson not broadcast');
		assertRefused(await request(`${base}/segment99999.ts?token=${tokens.observer}`), 404,
			'a segment that is not there');
		const post = await request(`${base}/index.m3u8?token=${tokens.observer}`, { method: 'POST' });
		assert.equal(post.status, 405);
		// Any role of the lesson may watch.
		assert.equal((await request(`${base}/index.m3u8?token=${tokens.classroom}`)).status, 200);
		// Nothing of this disturbed the broadcast.
		await awaitPlaylist(live, 3, 'after bad requests');
	});

	it('/watch plays the broadcast natively', async () => {
		const page = await browser.newPage('watch-native');
		await page.goto(`${server.origin}/watch#lesson=${LESSON}&token=${tokens.observer}&mode=hls`);
		const seen = await assertPlays(page, 3, 'native');
		assert.equal(seen.player, 'native');
		assert.equal(seen.width, 1280);
		assert.equal(seen.height, 720);
		assert.equal(seen.state, 'live');
		await page.screenshot({ path: join(process.env.KETANG_ARTIFACTS || dir, 'watch-hls.png') });
		await page.close();
	});

	it('/watch plays the broadcast through hls.js', async () => {
		const page = await browser.newPage('watch-hlsjs');
		await page.goto(`${server.origin}/watch#lesson=${LESSON}&token=${tokens.observer}` +
			'&mode=hls&player=hls.js');
		const seen = await assertPlays(page, 3, 'hls.js');
		assert.equal(seen.player, 'hls.js');
		assert.equal(seen.width, 1280);
		await page.close();
	});

	it('a lesson scheduled with "broadcast_public": true needs no token', async () => {
		const lesson = await schedule(server, { title: 'Open lesson', broadcast_public: true });
		assert.equal(lesson.broadcast_public, true);
		assert.match(lesson.broadcast_url, /\/watch#lesson=.*&mode=hls$/);
		const teacherToken = await server.token(lesson.id, 'teacher');
		const page = await browser.newPage('teacher-2');
		await startPublisher(page, server.origin, lesson.id, teacherToken);
		const url = `${server.origin}/live/${lesson.id}/index.m3u8`;
		const p = await awaitPlaylist(url, 1, 'public playlist');
		assert.match(p.segments[0], /^segment\d{5}\.ts$/, 'no token to carry');
		const seg = await download(`${server.origin}/live/${lesson.id}/${p.segments[0]}`,
			join(dir, 'public.ts'));
		assert.equal(seg.status, 200);
		assert.ok(seg.size > 1000);
		await page.close({ runBeforeUnload: true });
	});

	it('the broadcast ends with the lesson', async () => {
		// [lesson] empty_timeout = 0: the teacher leaving (WHIP DELETE) ends the lesson.
		await teacher.close({ runBeforeUnload: true });
		const deadline = Date.now() + 15000;
		let last;
		do {
			assert.ok(Date.now() < deadline, `still broadcast: ${last?.status}`);
			await sleep(250);
			last = await request(live);
		} while (last.status === 200);
		assertRefused(last, 404, 'after the lesson');
	});
});
