// [limits] dtls_handshakes as a real classroom page meets it: with one place and that place
// held by a WHIP session that never connects (its offer's candidates lead nowhere), the
// page's publish_offer is answered `busy`; the page retries by itself, and once the place
// is free (DELETE of the WHIP session) its camera reaches the teacher without a reload.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launchBrowser } from './lib/browser.mjs';
import { request, sdpHeaders } from './lib/http.mjs';
import { assertLessonReceives, openClassroom, openLessonTeacher, participantId }
	from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await ketangBinary();

const LESSON = 'busy-lesson';
const WHIP_SDP = new URL('../unit/data/sdp/chrome-whip.sdp', import.meta.url);

describe('a page meets [limits] dtls_handshakes', () => {
	let server, browser;

	before(async () => {
		// The teacher page subscribes only (the place is for the classroom's publish).
		server = await startServer({ extraConfig: '[limits]\ndtls_handshakes = 1\n' });
		browser = await launchBrowser();
	});
	after(async () => {
		await browser?.close();
		await server?.stop();
	});

	it('retries a busy publish by itself and publishes once a place is free', async () => {
		// Hold the only place: a WHIP session of another lesson that never connects.
		const hold = await request(`${server.origin}/whip/holder`, {
			method: 'POST', headers: sdpHeaders(await server.token('holder', 'teacher')),
			body: await readFile(WHIP_SDP, 'utf8'),
		});
		assert.equal(hold.status, 201, hold.body);

		const teacher = await browser.newPage('teacher');
		const room = await browser.newPage('room');
		// The teacher's own publish is refused too while the place is held; its page
		// retries the same way, so it is not waited for here.
		await teacher.goto(`${server.origin}/teacher?video=320x240#` +
			new URLSearchParams({ lesson: LESSON, token: await server.token(LESSON, 'teacher') }));
		await teacher.waitForFunction(() => window.ketang && !document.getElementById('start').disabled);
		await teacher.click('#start');
		await openClassroom(room, server.origin, LESSON, await server.token(LESSON, 'classroom'), 'Busy');
		// Both pages are in; their publish offers are refused while the place is held.
		const refusedAt = Date.now();
		await new Promise((resolve) => setTimeout(resolve, 3000));
		const id = await participantId(teacher, 'Busy');
		assert.ok(id, 'the teacher does not list the classroom');
		assert.equal(await room.evaluate(() => Boolean(window.ketang.timings.published)), false,
			'the classroom published although the only place was held');
		const refusals = await room.evaluate(() => window.ketang.timings.publishBusy || 0);
		assert.ok(refusals >= 1, 'the classroom was never answered busy');

		const del = await request(`${server.origin}${hold.headers.location}`, {
			method: 'DELETE', headers: { Authorization: `Bearer ${await server.token('holder', 'teacher')}` },
		});
		assert.equal(del.status, 200);
		const freed = Date.now();
		await room.waitForFunction(() => window.ketang.timings.published, null, { timeout: 20000 });
		await assertLessonReceives(teacher, id, 'camera', { timeout: 20000 });
		console.log(`publish answered busy ${refusals} times in ${((freed - refusedAt) / 1000).toFixed(1)} s; ` +
			`published ${((Date.now() - freed) / 1000).toFixed(1)} s after the place was freed, ` +
			'without a reload');
	});
});
