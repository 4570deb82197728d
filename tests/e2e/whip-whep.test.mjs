// End to end through the real server: the /publish page publishes (fake camera
// + mic) through WHIP, three viewer pages in the same browser receive through
// WHEP; then bad requests are thrown at the server while they keep running,
// and none of it may disturb them.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and
// tests/e2e/node_modules (`make test` runs `npm ci`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { assertRefused, request, sdpHeaders } from './lib/http.mjs';
import { inboundStats, makeOffer, openWatcher, startPublisher, timeToFirstFrame, waitForState }
	from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

// Fail once, clearly, before any test starts if a prerequisite is missing.
await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-lesson';
const OTHER = 'e2e-other';
const WATCHERS = 3;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Samples a viewer's decoder every 500 ms for at least minMs; every sample
 * must show more decoded frames than the one before, minFrames in total.
 */
async function assertDecoding(page, name, { minMs = 2000, minFrames = 30 } = {}) {
	const first = await inboundStats(page);
	assert.ok(first.video, `${name}: no inbound video stats`);
	let last = first;
	const start = Date.now();
	while (Date.now() - start < minMs || last.video.framesDecoded - first.video.framesDecoded < minFrames) {
		assert.ok(Date.now() - start < 15000,
			`${name}: only ${last.video.framesDecoded - first.video.framesDecoded} frames in 15 s`);
		await sleep(500);
		const now = await inboundStats(page);
		assert.ok(now.video.framesDecoded > last.video.framesDecoded,
			`${name}: framesDecoded stuck at ${now.video.framesDecoded}`);
		last = now;
	}
	return last;
}

describe('WHIP publish, WHEP watch', () => {
	let server;
	let browser;
	let teacher;
	let spare; // a page to make offers in
	const tokens = {};
	const watchers = [];

	before(async () => {
		server = await startServer();
		browser = await launchBrowser();
		tokens.teacher = await server.token(LESSON, 'teacher');
		tokens.observer = await server.token(LESSON, 'observer');
		tokens.classroom = await server.token(LESSON, 'classroom');
		tokens.otherTeacher = await server.token(OTHER, 'teacher');
		tokens.otherObserver = await server.token(OTHER, 'observer');
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop(); // asserts exit status 0 after SIGTERM
	});

	it('teacher publishes camera + microphone', async () => {
		teacher = await browser.newPage('teacher');
		await startPublisher(teacher, server.origin, LESSON, tokens.teacher);
		const where = await teacher.evaluate(() => window.ketang.location);
		assert.match(where, new RegExp(`/whip/${LESSON}/[^/]+$`));
	});

	it(`${WATCHERS} viewers each decode video and receive audio`, async () => {
		const roles = ['observer', 'classroom', 'observer'];
		for (let i = 0; i < WATCHERS; i++) {
			const page = await browser.newPage(`watcher-${i + 1}`);
			watchers.push(page);
			await openWatcher(page, server.origin, LESSON, tokens[roles[i % roles.length]]);
		}
		await Promise.all(watchers.map(async (page, i) => {
			const ms = await timeToFirstFrame(page);
			console.log(`time-to-first-frame watcher=${i + 1} decoded_ms=${Math.round(ms.decoded)} ` +
				`shown_ms=${Math.round(ms.shown)}`);
			await waitForState(page, 'live');
			const stats = await assertDecoding(page, `watcher ${i + 1}`);
			assert.ok(stats.audio, `watcher ${i + 1}: no inbound audio stats`);
			assert.ok(stats.audio.packetsReceived > 0, `watcher ${i + 1}: no audio packets`);
			assert.ok(stats.audio.totalSamplesReceived > 0, `watcher ${i + 1}: no audio samples`);
			assert.equal(typeof stats.audio.audioLevel, 'number', `watcher ${i + 1}: no audioLevel`);
		}));
	});

	describe('bad requests are refused and disturb nobody', () => {
		const whip = (lesson = LESSON) => `${server.origin}/whip/${lesson}`;
		const whep = (lesson = LESSON) => `${server.origin}/whep/${lesson}`;
		let sendOffer; // a valid publisher offer
		let recvOffer; // a valid viewer offer
		const before = [];

		it('prepare', async () => {
			assert.equal(watchers.length, WATCHERS, 'the viewers did not start');
			spare = await browser.newPage('spare');
			await spare.goto(`${server.origin}/`);
			sendOffer = await makeOffer(spare, 'sendonly');
			recvOffer = await makeOffer(spare, 'recvonly');
			for (const page of watchers)
				before.push((await inboundStats(page)).video.framesDecoded);
		});

		it('garbage SDP → 400', async () => {
			assertRefused(await request(whep(), { method: 'POST', headers: sdpHeaders(tokens.observer),
				body: 'this is not an SDP offer\r\n' }), 400, 'WHEP garbage');
			// On a lesson nobody publishes, so the SDP check cannot hide behind 409.
			const other = await request(whip(OTHER), { method: 'POST',
				headers: sdpHeaders(tokens.otherTeacher), body: 'v=0\r\nm=garbage\r\n\x00\x01' });
			assertRefused(other, 400, 'WHIP garbage');
		});

		it('SDP without a=fingerprint → 400', async () => {
			const body = recvOffer.replace(/^a=fingerprint:.*\r\n/mg, '');
			assert.notEqual(body, recvOffer);
			assertRefused(await request(whep(), { method: 'POST', headers: sdpHeaders(tokens.observer),
				body }), 400, 'no fingerprint');
		});

		it('SDP without BUNDLE → 400', async () => {
			const body = recvOffer.replace(/^a=group:BUNDLE.*\r\n/mg, '');
			assert.notEqual(body, recvOffer);
			assertRefused(await request(whep(), { method: 'POST', headers: sdpHeaders(tokens.observer),
				body }), 400, 'no BUNDLE');
		});

		it('missing or malformed token → 401', async () => {
			assertRefused(await request(whep(), { method: 'POST', headers: sdpHeaders(null),
				body: recvOffer }), 401, 'no token');
			assertRefused(await request(whep(), { method: 'POST', headers: sdpHeaders('not-a-token'),
				body: recvOffer }), 401, 'bad token');
		});

		it('observer token on WHIP → 403', async () => {
			assertRefused(await request(whip(), { method: 'POST', headers: sdpHeaders(tokens.observer),
				body: sendOffer }), 403, 'observer publishing');
		});

		it('token of another lesson → 403', async () => {
			assertRefused(await request(whip(), { method: 'POST',
				headers: sdpHeaders(tokens.otherTeacher), body: sendOffer }), 403, 'WHIP other lesson');
			assertRefused(await request(whep(), { method: 'POST',
				headers: sdpHeaders(tokens.otherObserver), body: recvOffer }), 403, 'WHEP other lesson');
		});

		it('expired token → 401', async () => {
			const shortLived = await server.token(LESSON, 'teacher', 1);
			// Until it expires this is a second teacher (409, harmless); then 401.
			const deadline = Date.now() + 5000;
			let res;
			do {
				res = await request(whip(), { method: 'POST', headers: sdpHeaders(shortLived),
					body: sendOffer });
				if (res.status === 401)
					break;
				assert.equal(res.status, 409, `fresh token: ${res.status} ${res.body}`);
				await sleep(250);
			} while (Date.now() < deadline);
			assertRefused(res, 401, 'expired token');
		});

		it('body over 64 KiB → 413', async () => {
			const body = recvOffer + `a=x-padding:${'x'.repeat(70 * 1024)}\r\n`;
			assertRefused(await request(whep(), { method: 'POST', headers: sdpHeaders(tokens.observer),
				body }), 413, 'oversized');
		});

		it('wrong content type → 415', async () => {
			assertRefused(await request(whep(), { method: 'POST',
				headers: sdpHeaders(tokens.observer, 'text/plain'), body: recvOffer }), 415, 'text/plain');
			// On a lesson nobody publishes, so the check cannot hide behind 409.
			assertRefused(await request(whip(OTHER), { method: 'POST',
				headers: sdpHeaders(tokens.otherTeacher, 'application/json'), body: '{}' }), 415, 'json');
		});

		it('DELETE of an unknown session → 404', async () => {
			assertRefused(await request(`${whep()}/no-such-session`, { method: 'DELETE',
				headers: sdpHeaders(tokens.observer) }), 404, 'unknown WHEP session');
			assertRefused(await request(`${whip()}/no-such-session`, { method: 'DELETE',
				headers: sdpHeaders(tokens.teacher) }), 404, 'unknown WHIP session');
		});

		it("DELETE of someone else's session → 403 or 404", async () => {
			const where = await watchers[0].evaluate(() => window.ketang.location);
			assert.ok(where, 'watcher 1 has no session Location');
			const res = await request(where, { method: 'DELETE', headers: sdpHeaders(tokens.otherObserver) });
			assert.ok([403, 404].includes(res.status), `expected 403/404, got ${res.status} ${res.body}`);
			assertRefused(res, res.status, 'foreign DELETE');
			const none = await request(where, { method: 'DELETE', headers: sdpHeaders(null) });
			assert.ok([401, 403, 404].includes(none.status),
				`DELETE without token: expected 401/403/404, got ${none.status} ${none.body}`);
			assertRefused(none, none.status, 'DELETE without token');
		});

		it('a second teacher publisher → 409', async () => {
			assertRefused(await request(whip(), { method: 'POST', headers: sdpHeaders(tokens.teacher),
				body: sendOffer }), 409, 'second publisher');
		});

		it('the publisher and every viewer kept going', async () => {
			const state = await teacher.evaluate(() => ({
				state: window.ketang.state, pc: window.ketang.pc && window.ketang.pc.connectionState,
			}));
			assert.deepEqual(state, { state: 'live', pc: 'connected' }, 'publisher disturbed');
			// Chromium took TWCC from the answer and numbers its packets; Ketang reports them
			// back (its send-side bandwidth estimate lives on these reports).
			const answer = await teacher.evaluate(() => window.ketang.pc.remoteDescription.sdp);
			assert.match(answer, /a=rtcp-fb:\d+ transport-cc/);
			const metrics = (await request(`${server.origin}/metrics`)).body;
			const reports = Number(/^ketang_twcc_feedback_sent_total (\d+)$/m.exec(metrics)?.[1]);
			console.log(`TWCC reports sent to the publisher so far: ${reports}`);
			assert.ok(reports > 10, `TWCC reports: ${reports}`);
			// Chromium offers goog-remb (and abs-send-time) on video: the answer takes them,
			// Ketang sends the publisher REMB about once a second, and Chromium holds its
			// own estimate under it ([media] publisher_max_kbps, 2500 by default).
			assert.match(answer, /a=rtcp-fb:\d+ goog-remb/);
			assert.match(answer, /a=extmap:\d+ http:\/\/www.webrtc.org\/experiments\/rtp-hdrext\/abs-send-time/);
			const rembs = Number(/^ketang_remb_sent_total (\d+)$/m.exec(metrics)?.[1]);
			const outgoing = await teacher.evaluate(async () => {
				const stats = await window.ketang.pc.getStats();
				for (const s of stats.values())
					if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
						return s.availableOutgoingBitrate;
				return null;
			});
			console.log(`REMB sent to the publisher so far: ${rembs}; its estimate ${outgoing} bit/s`);
			assert.ok(rembs >= 2, `REMB sent: ${rembs}`);
			assert.ok(outgoing !== null && outgoing <= 2500000, `publisher estimate ${outgoing}`);
			// The other way: the viewers took TWCC too, and report on the packets Ketang
			// numbers for them (the send-side estimate per viewer lives on these).
			const viewerAnswer = await watchers[0].evaluate(() => window.ketang.pc.remoteDescription.sdp);
			assert.match(viewerAnswer, /a=rtcp-fb:\d+ transport-cc/);
			const received = Number(/^ketang_twcc_feedback_received_total (\d+)$/m.exec(metrics)?.[1]);
			const probes = Number(/^ketang_probe_packets_sent_total (\d+)$/m.exec(metrics)?.[1]);
			console.log(`TWCC reports from the viewers so far: ${received}; probe packets: ${probes}`);
			assert.ok(received > 10 * watchers.length, `TWCC reports from viewers: ${received}`);
			await Promise.all(watchers.map(async (page, i) => {
				const reconnects = await page.evaluate(() => window.ketang.reconnects);
				assert.equal(reconnects, 0, `watcher ${i + 1} had to reconnect`);
				const now = await assertDecoding(page, `watcher ${i + 1}`, { minMs: 1000, minFrames: 10 });
				assert.ok(now.video.framesDecoded > before[i], `watcher ${i + 1} stalled`);
				assert.equal(now.connectionState, 'connected');
			}));
		});
	});

	it('teacher stops: DELETE on the Location answers 200', async () => {
		const deleted = teacher.waitForResponse((res) => res.request().method() === 'DELETE');
		await teacher.click('#stop');
		await waitForState(teacher, 'stopped');
		assert.equal((await deleted).status(), 200);
	});

	it('no page broke the CSP or threw', () => {
		assert.deepEqual(browser.problems, []);
	});
});
