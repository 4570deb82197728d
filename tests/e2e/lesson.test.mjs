// One lesson end to end through the real server (issue #3): the /teacher
// page and 3 /classroom pages of one browser (small pictures) over the lesson
// WebSocket. Asserts from getStats that every classroom decodes the teacher
// camera and courseware and receives the teacher audio and that the teacher
// decodes every classroom; that the teacher camera goes out as three
// simulcast layers which Ketang tells apart (its receiver reports cover each)
// and that classrooms keep decoding it across the courseware renegotiations; raise hand → stage → the other classrooms receive
// the staged room → unstage stops it; mute stops a room's audio; a reloaded
// classroom rejoins; the network dropping and returning (loopback down/up in
// the test's namespace) brings every page back within 5 s; a classroom
// token cannot act as teacher. Prints the time from opening a classroom link
// to its first decoded teacher frame and the rejoin time; saves screenshots
// to $KETANG_E2E_ARTIFACTS.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and
// tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { request, sdpHeaders } from './lib/http.mjs';
import { assertLessonReceives, cameraLayers, lessonInbound, makeOffer, openClassroom, openLessonTeacher, participantId,
	rejoinedAt, waitForLessonState, waitLessonStops } from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const run = promisify(execFile);
const LESSON = 'e2e-lesson-ui';
const ROOMS = ['Room A', 'Room B', '双峰二小 Room C'];
const ARTIFACTS = process.env.KETANG_E2E_ARTIFACTS || join(tmpdir(), 'ketang-e2e-artifacts');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A raw lesson socket (as a misbehaving page would use it): join, then send. */
async function rawSocket(origin, token) {
	const ws = new WebSocket(`${origin.replace(/^https/, 'wss')}/ws`, 'ketang.v1', { rejectUnauthorized: false });
	const inbox = [];
	ws.on('message', (data) => inbox.push(JSON.parse(String(data))));
	await new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('error', reject);
	});
	const reply = async (id) => {
		const deadline = Date.now() + 5000;
		while (Date.now() < deadline) {
			const found = inbox.find((m) => m.id === id && ['ok', 'error', 'joined', 'publish_answer'].includes(m.type));
			if (found)
				return found;
			await sleep(50);
		}
		throw new Error(`no reply to request ${id}: ${JSON.stringify(inbox)}`);
	};
	const send = (msg) => {
		ws.send(JSON.stringify(msg));
		return reply(msg.id);
	};
	const joined = await send({ type: 'join', id: 1, token });
	assert.equal(joined.type, 'joined', JSON.stringify(joined));
	return { ws, send, inbox, close: () => ws.close() };
}

describe('a lesson: teacher + 3 classrooms through ketang', () => {
	let server;
	let browser;
	let teacher;
	const rooms = {}; // name -> page
	const ids = {};
	const firstFrameMs = [];

	before(async () => {
		await mkdir(ARTIFACTS, { recursive: true });
		server = await startServer();
		browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop();
	});

	it('the teacher starts the lesson with camera, microphone and courseware', async () => {
		teacher = await browser.newPage('teacher');
		// 960x540: the smallest camera Chromium sends all three simulcast layers of.
		await openLessonTeacher(teacher, server.origin, LESSON, await server.token(LESSON, 'teacher'),
			{ size: '960x540' });
		await teacher.waitForFunction(() => window.ketang.timings.published, null, { timeout: 15000 });
		await teacher.click('#share');
		await teacher.waitForFunction(() => window.ketang.publishPc &&
			window.ketang.publishPc.getTransceivers().filter((t) => t.currentDirection === 'sendonly').length === 3,
		null, { timeout: 15000 });
		await teacher.waitForFunction(() => window.ketang.publishPc.connectionState === 'connected', null, { timeout: 15000 });
	});

	it('3 classrooms open their links and decode the teacher camera, courseware and audio', async () => {
		for (const name of ROOMS) {
			rooms[name] = await browser.newPage(name);
			await openClassroom(rooms[name], server.origin, LESSON, await server.token(LESSON, 'classroom'), name);
		}
		ids.teacher = await rooms[ROOMS[0]].evaluate(() =>
			Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id);
		assert.ok(ids.teacher, 'classroom does not see the teacher');
		for (const name of ROOMS) {
			const page = rooms[name];
			await assertLessonReceives(page, ids.teacher, 'camera');
			await assertLessonReceives(page, ids.teacher, 'courseware');
			await assertLessonReceives(page, ids.teacher, 'audio');
			const t = await page.evaluate(() => window.ketang.timings);
			assert.ok(t.firstTeacherFrame, `${name}: no firstTeacherFrame`);
			firstFrameMs.push(t.firstTeacherFrame - t.joinStart);
		}
		console.log(`classroom link -> first teacher frame: median ${Math.round(median(firstFrameMs))} ms ` +
			`(${firstFrameMs.map(Math.round).join(', ')})`);
	});

	it('the teacher camera reaches ketang as three simulcast layers', async () => {
		const answer = await teacher.evaluate(() => window.ketang.publishPc.remoteDescription.sdp);
		assert.match(answer, /a=simulcast:recv f;h;q\r\n/, 'the answer does not receive the three layers');
		// The top layer starts once the browser's bandwidth estimate has grown to it.
		const deadline = Date.now() + 20000;
		let layers = {};
		const ready = (l) => ['f', 'h', 'q'].every((rid) => l[rid] && l[rid].framesEncoded >= 10 && l[rid].acked);
		const heights = (l) => ['f', 'h', 'q'].map((rid) => l[rid]?.frameHeight ?? 0);
		// Sizes as one sample shows them: Chromium under CPU load drops the top layer for a
		// while (its frameHeight then reads 0), so wait for a sample with all three sized.
		const sized = (l) => { const h = heights(l); return h[0] > h[1] && h[1] > h[2] && h[2] > 0; };
		while (!(ready(layers) && sized(layers)) && Date.now() < deadline) {
			await sleep(500);
			layers = await cameraLayers(teacher);
		}
		console.log(`teacher camera layers: ${JSON.stringify(layers)}`);
		assert.ok(ready(layers), `not every layer was sent and acknowledged: ${JSON.stringify(layers)}`);
		assert.ok(sized(layers), `layer sizes ${heights(layers)}`);
	});

	it('the teacher sees a tile per classroom and decodes all 3', async () => {
		await teacher.waitForFunction((n) => document.querySelectorAll('#gallery .tile').length === n, ROOMS.length);
		for (const name of ROOMS) {
			ids[name] = await participantId(teacher, name);
			assert.ok(ids[name], `teacher does not list ${name}`);
			await assertLessonReceives(teacher, ids[name], 'camera');
			await assertLessonReceives(teacher, ids[name], 'audio');
		}
		await teacher.waitForSelector('.tile .q-dot:not(.q-unknown)', { timeout: 10000 });
		// Real figures from RTCP: every classroom's uplink bitrate, a
		// round-trip time once its subscribe connection answered our SRs, and
		// the bandwidth estimate from its transport-wide feedback.
		await teacher.waitForFunction(() => [...document.querySelectorAll('#gallery .tile .quality')]
			.every((q) => /Bitrate [1-9]\d* kbps/.test(q.title) && /RTT \d+ ms/.test(q.title) &&
				/Downlink estimate [1-9]\d* kbps/.test(q.title)),
		null, { timeout: 15000 });
		const details = await teacher.$$eval('#gallery .tile .quality', (qs) => qs.map((q) => q.title));
		console.log(`link quality seen by the teacher: ${details.join(' | ')}`);
		for (const d of details)
			assert.match(d, /Loss 0\.\d %/, `loopback should lose nothing: ${d}`);
	});

	it('courseware stops and starts again mid-lesson: classrooms follow, nobody reconnects', async () => {
		await teacher.evaluate(() => { window.ketang.publishPc.ketangMark = 'same-pc'; });
		await teacher.click('#share'); // stop sharing: a new publish offer without it
		const stopped = new Map();
		for (const page of Object.values(rooms)) {
			assert.ok(await waitLessonStops(page, ids.teacher, 'courseware'),
				'courseware still flowing after the teacher stopped it');
			stopped.set(page, await lessonInbound(page, ids.teacher, 'courseware'));
		}
		await teacher.click('#share'); // share again: renegotiated on the same connection
		for (const page of Object.values(rooms)) {
			await assertLessonReceives(page, ids.teacher, 'courseware', { since: stopped.get(page) });
			await assertLessonReceives(page, ids.teacher, 'camera');
		}
		assert.equal(await teacher.evaluate(() => window.ketang.publishPc.ketangMark), 'same-pc',
			'the teacher page reconnected instead of renegotiating');
	});

	it('raise hand → queue → stage: the other two decode the staged room; unstage stops it', async () => {
		const [a, b, c] = ROOMS;
		await rooms[a].click('#hand');
		await teacher.waitForSelector(`#hands li[data-participant="${ids[a]}"]`);
		await teacher.click(`#hands li[data-participant="${ids[a]}"] button`);
		await rooms[a].waitForSelector('#banner-stage:not([hidden])');
		for (const other of [b, c]) {
			await assertLessonReceives(rooms[other], ids[a], 'camera');
			await assertLessonReceives(rooms[other], ids[a], 'audio');
			await rooms[other].waitForSelector('#onstage:not([hidden])');
		}
		await teacher.screenshot({ path: join(ARTIFACTS, 'lesson-teacher.png'), fullPage: true });
		await rooms[b].screenshot({ path: join(ARTIFACTS, 'lesson-classroom.png'), fullPage: true });
		await teacher.click('#unstage');
		await rooms[a].waitForSelector('#banner-stage', { state: 'hidden' });
		for (const other of [b, c])
			assert.ok(await waitLessonStops(rooms[other], ids[a], 'camera'), `${other} still decodes ${a}`);
	});

	it('mute stops that classroom’s audio reaching the others', async () => {
		const [a, b, c] = ROOMS;
		await teacher.click(`.tile[data-participant="${ids[c]}"] .stage-btn`);
		await assertLessonReceives(rooms[a], ids[c], 'audio');
		await teacher.click(`.tile[data-participant="${ids[c]}"] .mute-btn`);
		await rooms[c].waitForSelector('#banner-muted:not([hidden])');
		for (const page of [rooms[a], rooms[b], teacher])
			assert.ok(await waitLessonStops(page, ids[c], 'audio'), 'muted audio still flows');
		await assertLessonReceives(rooms[a], ids[c], 'camera'); // the picture stays
		await teacher.click(`.tile[data-participant="${ids[c]}"] .mute-btn`);
		await rooms[c].waitForSelector('#banner-muted', { state: 'hidden' });
		await assertLessonReceives(rooms[a], ids[c], 'audio');
		await teacher.click('#unstage');
	});

	it('a classroom token cannot act as teacher; nothing changes', async () => {
		const sock = await rawSocket(server.origin, await server.token(LESSON, 'classroom'));
		try {
			for (const [i, msg] of [{ type: 'stage', participant: ids[ROOMS[0]] }, { type: 'mute', participant: ids[ROOMS[1]] },
				{ type: 'unmute', participant: ids[ROOMS[1]] }, { type: 'unstage' }, { type: 'end_lesson' }].entries()) {
				const reply = await sock.send({ ...msg, id: 10 + i });
				assert.equal(reply.type, 'error', `${msg.type}: ${JSON.stringify(reply)}`);
				assert.equal(reply.code, 'wrong-role', `${msg.type}: ${JSON.stringify(reply)}`);
			}
		} finally {
			sock.close();
		}
		const whip = await request(`${server.origin}/whip/${LESSON}`, { method: 'POST',
			headers: sdpHeaders(await server.token(LESSON, 'classroom')), body: await makeOffer(teacher, 'sendonly') });
		assert.equal(whip.status, 403, whip.body);
		await sleep(500);
		for (const name of ROOMS) {
			assert.equal(await rooms[name].evaluate(() => window.ketang.state), 'joined');
			assert.equal(await rooms[name].isHidden('#banner-muted'), true);
			assert.equal(await rooms[name].isHidden('#banner-stage'), true);
		}
	});

	it('a reloaded classroom page rejoins and gets the teacher again', async () => {
		const page = rooms[ROOMS[1]];
		await page.reload();
		await waitForLessonState(page, 'joined');
		const teacherId = await page.evaluate(() =>
			Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id);
		await assertLessonReceives(page, teacherId, 'camera');
		await teacher.waitForFunction((n) => document.querySelectorAll('#gallery .tile').length === n, ROOMS.length);
		ids[ROOMS[1]] = await participantId(teacher, ROOMS[1]);
	});

	it('the network drops and returns: every page is back within 5 s', async () => {
		await run('ip', ['link', 'set', 'lo', 'down']);
		try {
			for (const page of [teacher, ...Object.values(rooms)])
				await waitForLessonState(page, 'reconnecting', 15000);
		} finally {
			await run('ip', ['link', 'set', 'lo', 'up']);
		}
		const back = Date.now();
		for (const page of [teacher, ...Object.values(rooms)])
			await waitForLessonState(page, 'joined', 5000);
		const ms = Math.max(...await Promise.all([teacher, ...Object.values(rooms)].map(rejoinedAt))) - back;
		console.log(`rejoin after the network returned (slowest page): ${Math.round(ms)} ms`);
		assert.ok(ms < 5000, `pages rejoined after ${ms} ms`);
		const page = rooms[ROOMS[0]];
		try {
			await page.waitForFunction(() => window.ketang.timings.teacherFrameAt > window.ketang.timings.rejoinedAt,
				null, { timeout: 15000 });
		} catch (err) {
			const seen = await page.evaluate(async () => {
				const k = window.ketang;
				const teacherId = Object.values(k.participants).find((p) => p.role === 'teacher')?.id;
				const inbound = [];
				(await k.subscribePc?.getStats())?.forEach((r) => {
					if (r.type === 'inbound-rtp')
						inbound.push({ mid: r.mid, kind: r.kind, frames: r.framesDecoded, packets: r.packetsReceived });
				});
				return { state: k.state, timings: k.timings, teacherId, inbound,
					streams: k.streams.map((x) => ({ p: x.participant, s: x.source, mid: x.mid })),
					pc: k.subscribePc?.connectionState };
			});
			throw new Error(`no teacher picture after the rejoin: ${JSON.stringify(seen)}\n` +
				`server log tail:\n${server.log().slice(-6000)}`, { cause: err });
		}
		const t = await page.evaluate(() => window.ketang.timings);
		console.log(`rejoin -> teacher picture again: ${Math.round(t.teacherFrameAt - t.rejoinedAt)} ms`);
		assert.ok(await lessonInbound(page, await page.evaluate(() =>
			Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id), 'camera'));
	});

	it('end lesson: every page shows the lesson-ended screen', async () => {
		await teacher.click('#end');
		await teacher.click('#end-confirm');
		for (const page of [teacher, ...Object.values(rooms)]) {
			await waitForLessonState(page, 'ended', 5000);
			await page.waitForSelector('#ended-screen:not([hidden])');
		}
	});

	it('attendance: who joined and left, with link quality, is stored with the lesson', async () => {
		const admin = await server.token('', 'admin');
		let rows = [];
		const deadline = Date.now() + 10000;
		while (Date.now() < deadline) {
			const res = await request(`${server.origin}/api/lessons/${LESSON}`,
				{ headers: { Authorization: `Bearer ${admin}` } });
			assert.equal(res.status, 200, res.body);
			rows = JSON.parse(res.body).attendance;
			if (rows.length > 0 && rows.every((r) => r.left_at))
				break;
			await sleep(200);
		}
		const classrooms = rows.filter((r) => r.role === 'classroom');
		// 3 rooms, one of them reloaded, all of them rejoined after the network drop.
		assert.ok(classrooms.length >= ROOMS.length, JSON.stringify(rows));
		for (const name of ROOMS)
			assert.ok(classrooms.some((r) => r.name === name), `${name} missing: ${JSON.stringify(rows)}`);
		assert.ok(rows.every((r) => r.joined_at && r.left_at), JSON.stringify(rows));
		assert.ok(classrooms.some((r) => r.bitrate_kbps > 0 && r.rtt_ms !== null),
			`no link quality recorded: ${JSON.stringify(classrooms)}`);
		console.log(`attendance rows: ${rows.length} (${classrooms.length} classroom sessions)`);
	});

	it('no page broke the CSP or threw', () => {
		assert.deepEqual(browser.problems, []);
	});
});
