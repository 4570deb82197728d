// The lesson pages (/teacher, /classroom) against the mock lesson server
// (lib/mock-lesson-server.mjs) with a relay page for the media: one teacher
// and two classrooms as pages of one browser. Joining shows the tiles and
// the pictures, raise hand reaches the teacher's queue, stage / unstage /
// mute update both sides, chat, link quality, a dropped connection shows the
// reconnecting state and the pages rejoin within 5 s, and the lesson-ended
// screen. Screenshots of both pages go to $KETANG_E2E_ARTIFACTS (default: a
// temporary directory, printed).
//
// Run inside tests/netns-run.sh like every media test.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { installRelay, startMockLessonServer } from './lib/mock-lesson-server.mjs';
import { assertLessonReceives as assertDecodes, openClassroom, openLessonTeacher, participantId as idOf,
	rejoinedAt, waitForLessonState } from './lib/pages.mjs';

await loadPlaywright(); // fails clearly when tests/e2e/node_modules is missing

const LESSON = 'ui-lesson';
const token = (role) => `v1.${LESSON}.${role}.9999999999.mock-mac`;
const ARTIFACTS = process.env.KETANG_E2E_ARTIFACTS || join(tmpdir(), 'ketang-e2e-artifacts');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lesson pages (mock lesson server)', () => {
	let browser;
	let mock;
	let teacher;
	let roomA;
	let roomB;
	const ids = {};

	before(async () => {
		await mkdir(ARTIFACTS, { recursive: true });
		browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
		mock = await startMockLessonServer();
		const relay = await browser.newPage('relay');
		await relay.goto(`${mock.origin}/`);
		await installRelay(relay);
		mock.relay = relay;
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (mock)
			await mock.close();
	});

	it('landing page explains how to join and links to /publish and /watch', async () => {
		const page = await browser.newPage('index');
		await page.goto(`${mock.origin}/`);
		const text = await page.textContent('main');
		assert.match(text, /教师|老师/);
		assert.match(text, /Classrooms/);
		const links = await page.$$eval('a', (as) => as.map((a) => a.getAttribute('href')));
		assert.ok(links.includes('/publish') && links.includes('/watch'), String(links));
		await page.close();
	});

	it('teacher starts the lesson: camera, microphone, then courseware', async () => {
		teacher = await browser.newPage('teacher');
		await openLessonTeacher(teacher, mock.origin, LESSON, token('teacher'));
		await teacher.waitForFunction(() => window.ketang.timings.published, null, { timeout: 15000 });
		await teacher.click('#share');
		await teacher.waitForFunction(() => document.getElementById('share').textContent.includes('Stop'));
		const deadline = Date.now() + 10000;
		let sources = [];
		while (Date.now() < deadline) {
			const offers = mock.log.filter((e) => e.role === 'teacher' && e.msg.type === 'publish_offer');
			sources = offers.length ? offers.at(-1).msg.tracks.map((t) => t.source).sort() : [];
			if (sources.length === 3)
				break;
			await sleep(100);
		}
		assert.deepEqual(sources, ['audio', 'camera', 'courseware']);
		const offer = mock.log.filter((e) => e.role === 'teacher' && e.msg.type === 'publish_offer').at(-1).msg;
		for (const t of offer.tracks)
			assert.match(offer.sdp, new RegExp(`a=mid:${t.mid}\\r?\\n`), `mid ${t.mid} not in the offer`);
		assert.ok(mock.log.some((e) => e.role === 'teacher' && e.msg.type === 'candidate' && e.msg.pc === 'publish'),
			'no trickled publish candidate');
	});

	it('two classrooms join by opening their links; the teacher sees a tile for each', async () => {
		roomA = await browser.newPage('room-a');
		roomB = await browser.newPage('room-b');
		await Promise.all([openClassroom(roomA, mock.origin, LESSON, token('classroom'), 'Room A'),
			openClassroom(roomB, mock.origin, LESSON, token('classroom'), '双峰二小 Room B')]);
		await teacher.waitForFunction(() => document.querySelectorAll('#gallery .tile').length === 2);
		const names = await teacher.$$eval('#gallery .tile-name', (els) => els.map((e) => e.textContent).sort());
		assert.deepEqual(names, ['Room A', '双峰二小 Room B']);
		ids.teacher = await idOf(roomA, 'Ms Li');
		ids.a = await idOf(teacher, 'Room A');
		ids.b = await idOf(teacher, '双峰二小 Room B');
		assert.ok(ids.teacher && ids.a && ids.b, JSON.stringify(ids));
		assert.match(await roomA.textContent('#room-name'), /Room A/);
	});

	it('classrooms decode the teacher camera and courseware; the teacher decodes both rooms', async () => {
		for (const room of [roomA, roomB]) {
			await assertDecodes(room, ids.teacher, 'camera');
			await assertDecodes(room, ids.teacher, 'courseware');
			assert.ok(await room.evaluate((t) => window.ketang.streams.some((s) => s.participant === t && s.source === 'audio'),
				ids.teacher), 'no teacher audio stream');
			await room.waitForFunction(() => !document.getElementById('teacher-pip').hidden);
		}
		await assertDecodes(teacher, ids.a, 'camera');
		await assertDecodes(teacher, ids.b, 'camera');
		await teacher.waitForFunction(() => [...document.querySelectorAll('.tile-video')].every((v) => v.videoWidth > 0));
		const t = await roomA.evaluate(() => window.ketang.timings);
		assert.ok(t.firstTeacherFrame > t.joinStart, JSON.stringify(t));
		console.log(`classroom link -> first teacher frame (mock relay): ${Math.round(t.firstTeacherFrame - t.joinStart)} ms`);
	});

	it('link quality shows good / poor with the numbers in a tooltip', async () => {
		mock.setQuality('双峰二小 Room B', { bitrate_kbps: 120, loss_pct: 9.5, rtt_ms: 420,
			estimate_kbps: 250 });
		const tile = (id) => `.tile[data-participant="${id}"]`;
		await teacher.waitForSelector(`${tile(ids.b)} .q-dot.q-poor`, { timeout: 5000 });
		await teacher.waitForSelector(`${tile(ids.a)} .q-dot.q-good`, { timeout: 5000 });
		const title = await teacher.getAttribute(`${tile(ids.b)} .quality`, 'title');
		assert.match(title, /120 kbps/);
		assert.match(title, /9\.5 %/);
		assert.match(title, /420 ms/);
		assert.match(title, /Downlink estimate 250 kbps/);
	});

	it('raise hand shows in the teacher queue; stage sends that room to the other', async () => {
		await roomA.click('#hand');
		await teacher.waitForSelector(`#hands li[data-participant="${ids.a}"]`);
		await teacher.waitForSelector(`.tile[data-participant="${ids.a}"] .badge-hand:not([hidden])`);
		await roomA.waitForFunction(() => document.getElementById('hand').textContent.includes('Lower hand'));
		await teacher.click(`#hands li[data-participant="${ids.a}"] button`);
		await roomA.waitForSelector('#banner-stage:not([hidden])');
		await teacher.waitForSelector('#stage-line:not([hidden])');
		assert.match(await teacher.textContent('#stage-name'), /Room A/);
		await roomB.waitForSelector('#onstage:not([hidden])', { timeout: 15000 });
		assert.match(await roomB.textContent('#onstage-name'), /Room A/);
		await assertDecodes(roomB, ids.a, 'camera');
		assert.ok(await roomB.evaluate((a) => window.ketang.streams.some((s) => s.participant === a && s.source === 'audio'),
			ids.a), 'the on-stage room’s audio does not reach room B');
		await teacher.waitForSelector(`.tile[data-participant="${ids.a}"].tile-on-stage`);
		// Staging answers the hand: the queue is empty and the room's button resets.
		await teacher.waitForFunction(() => document.querySelectorAll('#hands li').length === 0);
		await roomA.waitForFunction(() => document.getElementById('hand').textContent.includes('Raise hand'));

		await teacher.screenshot({ path: join(ARTIFACTS, 'teacher.png'), fullPage: true });
		await roomB.screenshot({ path: join(ARTIFACTS, 'classroom.png'), fullPage: true });
		await roomA.screenshot({ path: join(ARTIFACTS, 'classroom-on-stage.png'), fullPage: true });
		console.log(`screenshots in ${ARTIFACTS}`);
	});

	it('unstage removes the on-stage room everywhere', async () => {
		await teacher.click('#unstage');
		await roomA.waitForSelector('#banner-stage', { state: 'hidden' });
		await roomB.waitForSelector('#onstage', { state: 'hidden', timeout: 10000 });
		await teacher.waitForSelector('#stage-line', { state: 'hidden' });
		await roomB.waitForFunction((a) => !window.ketang.streams.some((s) => s.participant === a), ids.a);
	});

	it('mute and unmute a classroom: both pages show it', async () => {
		const tile = `.tile[data-participant="${ids.b}"]`;
		await teacher.click(`${tile} .mute-btn`);
		await roomB.waitForSelector('#banner-muted:not([hidden])');
		assert.match(await roomB.textContent('#banner-muted'), /老师已将本教室静音 The teacher muted this classroom/);
		await teacher.waitForSelector(`${tile} .badge-muted:not([hidden])`);
		assert.match(await teacher.textContent(`${tile} .mute-btn`), /Unmute/);
		await roomB.screenshot({ path: join(ARTIFACTS, 'classroom-muted.png'), fullPage: true });
		await teacher.click(`${tile} .mute-btn`);
		await roomB.waitForSelector('#banner-muted', { state: 'hidden' });
		await teacher.waitForSelector(`${tile} .badge-muted`, { state: 'hidden' });
	});

	it('lesson sources: a classroom camera is a tile with its state, a teacher camera a line', async () => {
		const sources = (classState, teacherState) => ({ type: 'sources', sources: [
			{ id: 's1', role: 'teacher', source: 'camera', name: '讲台摄像机 Teacher camera', state: teacherState,
				reason: null, retry_s: 0 },
			{ id: 's2', role: 'classroom', source: 'camera', name: '录播教室 Room C', state: classState,
				reason: classState === 'reconnecting' ? 'no media within 20 s' : null,
				retry_s: classState === 'reconnecting' ? 4 : 0 }] });
		mock.sendAll(sources('live', 'live'));
		const tile = '.tile[data-participant="s2"]';
		await teacher.waitForSelector(`${tile} .badge-feed:not([hidden])`);
		assert.match(await teacher.textContent(`${tile} .tile-name`), /录播教室 Room C/);
		assert.match(await teacher.textContent(`${tile} .badge-feed`), /直播中 Live/);
		// Nothing to stage or mute on a camera.
		assert.equal(await teacher.isHidden(`${tile} .stage-btn`), true);
		assert.equal(await teacher.isHidden(`${tile} .mute-btn`), true);
		assert.match(await teacher.textContent('#feeds'), /讲台摄像机 Teacher camera: 📷 直播中 Live/);
		mock.sendAll(sources('reconnecting', 'live'));
		await teacher.waitForFunction((t) => document.querySelector(`${t} .badge-feed`).textContent
			.includes('重新连接中 Reconnecting (4 s)'), tile);
		assert.equal(await teacher.getAttribute(`${tile} .badge-feed`, 'title'), 'no media within 20 s');
		assert.equal(await teacher.textContent('#classroom-count'), '3');
		// The classroom pages keep it too (read by the pages for the teacher's camera).
		assert.equal(await roomA.evaluate(() => window.ketang.feeds.length), 2);
		mock.sendAll({ type: 'sources', sources: [] });
		await teacher.waitForSelector(tile, { state: 'detached' });
		assert.equal(await teacher.isHidden('#feeds'), true);
	});

	it('chat reaches every page', async () => {
		await roomB.fill('#chat-input', '老师好 hello from B');
		await roomB.press('#chat-input', 'Enter');
		for (const page of [teacher, roomA, roomB])
			await page.waitForFunction(() => document.getElementById('chat-list').textContent.includes('hello from B'));
		await teacher.fill('#chat-input', 'Page 12 please');
		await teacher.click('#chat-form button');
		await roomA.waitForFunction(() => document.getElementById('chat-list').textContent.includes('Page 12'));
		assert.match(await roomA.textContent('#chat-list'), /Ms Li/);
	});

	it('a classroom may not send teacher commands (error, nothing changes)', async () => {
		const err = await roomA.evaluate((b) => window.ketang.client.request('mute', { participant: b })
			.then(() => null, (e) => e.code), ids.b);
		assert.equal(err, 'wrong-role');
		assert.equal(await roomB.isHidden('#banner-muted'), true);
	});

	it('a dropped connection shows reconnecting; every page rejoins within 5 s of the network returning', async () => {
		mock.setDown(true);
		mock.dropAll();
		for (const page of [teacher, roomA, roomB])
			await waitForLessonState(page, 'reconnecting', 3000);
		assert.match(await roomA.textContent('#banner-reconnecting'), /reconnecting/);
		await roomA.screenshot({ path: join(ARTIFACTS, 'classroom-reconnecting.png'), fullPage: true });
		await sleep(2500); // the network stays out for a while
		const before = await roomA.evaluate(() => window.ketang.timings.teacherFrameAt);
		const back = Date.now();
		mock.setDown(false);
		for (const page of [teacher, roomA, roomB])
			await waitForLessonState(page, 'joined', 5000);
		const rejoinMs = Math.max(...await Promise.all([teacher, roomA, roomB].map(rejoinedAt))) - back;
		console.log(`rejoin after the network returned (mock, slowest page): ${Math.round(rejoinMs)} ms`);
		assert.ok(rejoinMs < 5000, `rejoined after ${rejoinMs} ms`);
		assert.equal(await roomA.isHidden('#banner-reconnecting'), true);
		await teacher.waitForFunction(() => document.querySelectorAll('#gallery .tile').length === 2);
		// The chat history comes back with the rejoin, once.
		const chat = await roomA.textContent('#chat-list');
		assert.equal(chat.split('hello from B').length, 2, chat);
		await roomA.waitForFunction((t0) => window.ketang.timings.teacherFrameAt > t0, before, { timeout: 15000 });
		const t = await roomA.evaluate(() => window.ketang.timings);
		console.log(`rejoin -> teacher picture again (mock): ${Math.round(t.teacherFrameAt - t.rejoinedAt)} ms`);
	});

	it('a refused link says so and does not retry', async () => {
		const page = await browser.newPage('room-bad');
		await page.goto(`${mock.origin}/classroom#lesson=${LESSON}&token=expired&room=X`);
		await waitForLessonState(page, 'failed', 5000);
		assert.match(await page.textContent('#notice'), /过期|expired/);
		await sleep(1000);
		assert.equal(await page.evaluate(() => window.ketang.state), 'failed');
		await page.close();
	});

	it('end lesson asks first, then every page shows the lesson-ended screen', async () => {
		await teacher.click('#end');
		await teacher.waitForSelector('#end-dialog[open]');
		await teacher.evaluate(() => document.getElementById('end-cancel').click());
		await teacher.waitForFunction(() => !document.getElementById('end-dialog').open);
		assert.equal(await roomA.evaluate(() => window.ketang.state), 'joined');
		await teacher.click('#end');
		const ending = Date.now();
		// A click from the page itself: Playwright's click waits ~2 s after a
		// form submission (method=dialog) for a navigation that never comes.
		await teacher.evaluate(() => document.getElementById('end-confirm').click());
		for (const page of [teacher, roomA, roomB]) {
			await waitForLessonState(page, 'ended', 5000);
			await page.waitForSelector('#ended-screen:not([hidden])');
		}
		console.log(`end lesson -> every page ended: ${Date.now() - ending} ms`);
		await roomA.screenshot({ path: join(ARTIFACTS, 'classroom-ended.png'), fullPage: true });
		await sleep(1500);
		assert.equal(await roomA.evaluate(() => window.ketang.state), 'ended', 'an ended page tried to rejoin');
	});

	it('no page broke the CSP or threw', () => {
		assert.deepEqual(browser.problems, []);
	});
});
