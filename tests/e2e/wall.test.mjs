// The classroom wall in a lesson (issue 6): the /teacher page and 3 /classroom
// pages of one browser through the real server. The teacher switches to the
// wall: from getStats it then decodes exactly one classroom video, the wall,
// at the configured [wall] size with frames rising, and still receives every
// classroom's audio. A 4th classroom joins: the `wall` layout message goes from
// 3 to 4 tiles and the 4th tile's region of the picture (drawn into a canvas)
// goes from black to the classroom's camera. Marks follow a raised hand and the
// stage; a click on the wall picks that classroom's tile. Back to individual: 4
// classroom video tracks again. Saves screenshots of the teacher page in wall
// view to $KETANG_E2E_ARTIFACTS.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and
// tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { assertLessonReceives, openClassroom, openLessonTeacher, participantId } from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-wall';
const ROOMS = ['Room A', 'Room B', '双峰二小 Room C'];
const FOURTH = 'Room D';
const WALL = { width: 640, height: 360 }; // small: one browser decodes it beside 4 cameras
const ARTIFACTS = process.env.KETANG_E2E_ARTIFACTS || join(tmpdir(), 'ketang-e2e-artifacts');

/**
 * The teacher's decoding video receivers: inbound-rtp video stats whose
 * framesDecoded grows between two getStats 1.5 s apart (after a
 * renegotiation, a stopped mid's stats linger without growing):
 * [{ mid, frames, frameWidth, frameHeight }].
 */
function decodingVideo(page) {
	return page.evaluate(async () => {
		const read = async () => {
			const out = new Map();
			(await window.ketang.subscribePc.getStats()).forEach((r) => {
				if (r.type === 'inbound-rtp' && r.kind === 'video')
					out.set(r.id, r);
			});
			return out;
		};
		const first = await read();
		await new Promise((resolve) => setTimeout(resolve, 1500));
		const later = await read();
		return [...later.values()]
			.filter((r) => (r.framesDecoded || 0) > (first.get(r.id)?.framesDecoded || 0))
			.map((r) => ({ mid: r.mid, frames: r.framesDecoded, frameWidth: r.frameWidth,
				frameHeight: r.frameHeight }));
	});
}

/**
 * Installs window.wallBrightness(box) in the teacher page: the mean brightness
 * (0..255) of a region of the wall picture as the page shows it, the <video>
 * drawn into a canvas at its own size; -1 before its first frame. @box is in
 * picture pixels; only its middle half is read (tiles are letterboxed and
 * bordered).
 */
function installBrightness(page) {
	return page.evaluate(() => {
		window.wallBrightness = (box) => {
			const v = document.getElementById('wall-video');
			if (!v.videoWidth)
				return -1;
			const c = document.createElement('canvas');
			c.width = v.videoWidth;
			c.height = v.videoHeight;
			const ctx = c.getContext('2d', { willReadFrequently: true });
			ctx.drawImage(v, 0, 0);
			const x = Math.round(box.x + box.width / 4), y = Math.round(box.y + box.height / 4);
			const { data } = ctx.getImageData(x, y, Math.round(box.width / 2), Math.round(box.height / 2));
			let sum = 0;
			for (let i = 0; i < data.length; i += 4)
				sum += (data[i] + data[i + 1] + data[i + 2]) / 3;
			return sum / (data.length / 4);
		};
	});
}

const regionBrightness = (page, box) => page.evaluate((b) => window.wallBrightness(b), box);

describe('the classroom wall: teacher + 3 classrooms, then a 4th', () => {
	let server;
	let browser;
	let teacher;
	const rooms = {}; // name -> page
	const ids = {};

	before(async () => {
		await mkdir(ARTIFACTS, { recursive: true });
		server = await startServer({ extraConfig:
			`[wall]\nwidth=${WALL.width}\nheight=${WALL.height}\nfps=10\nkbps=500\n` });
		browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop();
	});

	it('the teacher and 3 classrooms join; the teacher decodes each classroom camera', async () => {
		teacher = await browser.newPage('teacher');
		await openLessonTeacher(teacher, server.origin, LESSON, await server.token(LESSON, 'teacher'));
		for (const name of ROOMS) {
			rooms[name] = await browser.newPage(name);
			await openClassroom(rooms[name], server.origin, LESSON, await server.token(LESSON, 'classroom'), name);
		}
		await teacher.waitForFunction((n) => document.querySelectorAll('#gallery .tile').length === n, ROOMS.length);
		for (const name of ROOMS) {
			ids[name] = await participantId(teacher, name);
			await assertLessonReceives(teacher, ids[name], 'camera');
		}
		// 3 classrooms: individual by default (the wall is the default above 4).
		assert.equal(await teacher.evaluate(() => window.ketang.view.mode), 'individual');
	});

	it('switched to the wall, the teacher decodes one video: the wall, at the [wall] size', async () => {
		await teacher.click('#view-wall');
		await teacher.waitForFunction(() => window.ketang.view.mode === 'wall', null, { timeout: 10000 });
		// The subscribe connection is offered again: the wall in, the classroom cameras out.
		await teacher.waitForFunction(() => {
			const video = window.ketang.streams.filter((s) => s.kind === 'video');
			return video.length === 1 && video[0].source === 'wall';
		}, null, { timeout: 15000, polling: 100 });
		const wallMid = await teacher.evaluate(() => window.ketang.streams.find((s) => s.source === 'wall').mid);
		let decoding = [];
		const deadline = Date.now() + 20000;
		while (Date.now() < deadline) {
			decoding = await decodingVideo(teacher);
			if (decoding.length === 1 && decoding[0].mid === wallMid && decoding[0].frameWidth === WALL.width)
				break;
		}
		console.log(`teacher decodes in wall view: ${JSON.stringify(decoding)}`);
		assert.equal(decoding.length, 1, `not exactly one decoding video: ${JSON.stringify(decoding)}`);
		assert.equal(decoding[0].mid, wallMid);
		assert.equal(decoding[0].frameWidth, WALL.width);
		assert.equal(decoding[0].frameHeight, WALL.height);
		const again = await decodingVideo(teacher);
		assert.ok(again.length === 1 && again[0].frames > decoding[0].frames, `wall frames not rising: ${JSON.stringify(again)}`);
		// Audio is unchanged: every classroom is still heard.
		for (const name of ROOMS)
			await assertLessonReceives(teacher, ids[name], 'audio');
	});

	it('the wall layout names the 3 classrooms; a 4th joining makes it 4 tiles and fills the 4th', async () => {
		await teacher.waitForFunction((n) => window.ketang.view.layout?.tiles.length === n, ROOMS.length,
			{ timeout: 10000 });
		const three = await teacher.evaluate(() => window.ketang.view.layout);
		assert.equal(three.width, WALL.width);
		assert.equal(three.height, WALL.height);
		assert.deepEqual(three.tiles.map((t) => t.name), ROOMS);
		assert.deepEqual(three.tiles.map((t) => t.participant), ROOMS.map((n) => ids[n]));
		// 3 inputs use a 2x2 grid: the bottom-right tile is empty, black.
		const fourth = { x: WALL.width / 2, y: WALL.height / 2, width: WALL.width / 2, height: WALL.height / 2 };
		await installBrightness(teacher);
		await teacher.waitForFunction(() => document.getElementById('wall-video').videoWidth > 0, null,
			{ timeout: 10000 });
		const before = await regionBrightness(teacher, fourth);
		const filled = await regionBrightness(teacher, three.tiles[0]);
		console.log(`wall brightness: 4th tile empty ${before.toFixed(1)}, 1st tile ${filled.toFixed(1)}`);
		assert.ok(before >= 0 && before < 8, `the empty 4th tile is not black: ${before}`);
		await teacher.screenshot({ path: join(ARTIFACTS, 'wall-teacher-3.png'), fullPage: true });

		rooms[FOURTH] = await browser.newPage(FOURTH);
		await openClassroom(rooms[FOURTH], server.origin, LESSON, await server.token(LESSON, 'classroom'), FOURTH);
		ids[FOURTH] = await participantId(teacher, FOURTH);
		await teacher.waitForFunction((n) => window.ketang.view.layout?.tiles.length === n, ROOMS.length + 1,
			{ timeout: 15000 });
		const four = await teacher.evaluate(() => window.ketang.view.layout);
		const tile = four.tiles.find((t) => t.participant === ids[FOURTH]);
		assert.ok(tile, `no tile for ${FOURTH}: ${JSON.stringify(four)}`);
		assert.deepEqual({ x: tile.x, y: tile.y }, { x: fourth.x, y: fourth.y }, JSON.stringify(four));
		const counts = await teacher.evaluate(() => window.ketang.wallLayouts.map((l) => l.tiles.length));
		console.log(`wall layouts seen by the teacher (tiles): ${counts.join(' -> ')}`);
		// The picture follows: the 4th tile shows its camera (Chromium's fake camera, not black).
		try {
			await teacher.waitForFunction((box) => window.wallBrightness(box) >= 30, tile,
				{ timeout: 15000, polling: 200 });
		} catch {
			// Reported below with the value seen.
		}
		const after = await regionBrightness(teacher, tile);
		console.log(`wall brightness: 4th tile with ${FOURTH} ${after.toFixed(1)}`);
		assert.ok(after >= 30, `the 4th tile stayed dark: ${after}`);
		await teacher.screenshot({ path: join(ARTIFACTS, 'wall-teacher.png'), fullPage: true });
	});

	it('the wall marks follow the roster: a raised hand, then the stage', async () => {
		const a = ids[ROOMS[0]];
		const markOf = (id) => teacher.evaluate((p) =>
			window.ketang.view.layout?.tiles.find((t) => t.participant === p)?.mark, id);
		await rooms[ROOMS[0]].click('#hand');
		await teacher.waitForFunction((p) => window.ketang.view.layout.tiles.find((t) => t.participant === p)
			?.mark === 'hand', a, { timeout: 10000 });
		await teacher.click(`#hands li[data-participant="${a}"] button`);
		await teacher.waitForFunction((p) => window.ketang.view.layout.tiles.find((t) => t.participant === p)
			?.mark === 'stage', a, { timeout: 10000 });
		await teacher.click('#unstage');
		await teacher.waitForFunction((p) => window.ketang.view.layout.tiles.find((t) => t.participant === p)
			?.mark === 'none', a, { timeout: 10000 });
		assert.equal(await markOf(ids[ROOMS[1]]), 'none');
		// A click on a classroom's place on the wall picks its tile below (its buttons).
		await teacher.click(`#wall-tiles .wall-tile[data-participant="${ids[ROOMS[2]]}"]`);
		await teacher.waitForSelector(`#gallery .tile.tile-picked[data-participant="${ids[ROOMS[2]]}"]`,
			{ timeout: 5000 });
	});

	it('back to individual: the teacher decodes the 4 classroom cameras again', async () => {
		await teacher.click('#view-individual');
		await teacher.waitForFunction(() => window.ketang.view.mode === 'individual', null, { timeout: 10000 });
		await teacher.waitForFunction((n) => {
			const video = window.ketang.streams.filter((s) => s.kind === 'video');
			return video.length === n && video.every((s) => s.source === 'camera');
		}, ROOMS.length + 1, { timeout: 15000, polling: 100 });
		for (const name of [...ROOMS, FOURTH])
			await assertLessonReceives(teacher, ids[name], 'camera');
		assert.equal(await teacher.isHidden('#wall-view'), true);
	});

	it('no page broke the CSP or threw', () => {
		assert.deepEqual(browser.problems, []);
	});
});
