// The lesson program over WHEP (issue 6, "Broadcast": the program over WHEP for
// low-latency viewers). A teacher publishes through WHIP; /watch in program mode receives
// the recorder's composite (H.264, at the configured program size) and mix (Opus) through
// POST /whep/LESSON/program, decodes the picture and hears the sound. Bad requests are
// refused with 401/403/404, a lesson that is live with neither recording nor broadcast has
// no program (404), and DELETE on the Location ends the session.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { assertRefused, request, sdpHeaders } from './lib/http.mjs';
import { inboundStats, joinFragment, makeOffer, startPublisher, timeToFirstFrame, waitForState }
	from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-program';
const OTHER = 'e2e-other';
// Smaller than the 1280x720 default: proves the configured size is what viewers get,
// and keeps the CPU of one browser decoding it low.
const WIDTH = 640;
const HEIGHT = 360;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the viewer receives and what the server counts: said when a check fails. */
function diagnose(page) {
	return page.evaluate(async () => ({
		inbound: [...(await window.ketang.pc.getStats()).values()]
			.filter((r) => r.type === 'inbound-rtp' || r.type === 'candidate-pair' && r.nominated)
			.map(({ type, kind, packetsReceived, packetsLost, framesReceived, framesDecoded,
				framesDropped, keyFramesDecoded, pliCount, nackCount, availableIncomingBitrate,
				currentRoundTripTime }) => ({ type, kind, packetsReceived, packetsLost, framesReceived,
				framesDecoded, framesDropped, keyFramesDecoded, pliCount, nackCount,
				availableIncomingBitrate, currentRoundTripTime })),
		metrics: (await (await fetch('/metrics')).text()).split('\n')
			.filter((l) => /^ketang_/.test(l)).join('; '),
	})).then((d) => JSON.stringify(d), (e) => String(e));
}

/** Samples the viewer for @ms: decoded frames and audio packets must rise at every sample. */
async function assertReceives(page, ms) {
	const first = await inboundStats(page);
	assert.ok(first.video && first.audio, `no inbound stats: ${JSON.stringify(first)}`);
	let last = first;
	const start = Date.now();
	while (Date.now() - start < ms) {
		await sleep(500);
		const now = await inboundStats(page);
		if (now.video.framesDecoded <= last.video.framesDecoded ||
			now.audio.packetsReceived <= last.audio.packetsReceived)
			assert.fail(`framesDecoded ${last.video.framesDecoded} -> ${now.video.framesDecoded}, ` +
				`audio packets ${last.audio.packetsReceived} -> ${now.audio.packetsReceived} ` +
				`in 500 ms\n${await diagnose(page)}`);
		last = now;
	}
	return { first, last };
}

describe('the lesson program over WHEP', () => {
	let server;
	let browser;
	let teacher;
	let viewer;
	let offer;
	const tokens = {};
	const whep = (lesson, tail = '') => `${server.origin}/whep/${lesson}/program${tail}`;

	before(async () => {
		server = await startServer({ extraConfig: '[lesson]\nempty_timeout = 0\n' +
			`[recording]\nprogram_width = ${WIDTH}\nprogram_height = ${HEIGHT}\n` });
		browser = await launchBrowser();
		tokens.teacher = await server.token(LESSON, 'teacher');
		tokens.observer = await server.token(LESSON, 'observer');
		tokens.other = await server.token(OTHER, 'observer');
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop();
	});

	it('no program before the lesson is live (404)', async () => {
		teacher = await browser.newPage('teacher');
		offer = await makeOffer(teacher, 'recvonly');
		const body = assertRefused(await request(whep(LESSON),
			{ method: 'POST', headers: sdpHeaders(tokens.observer), body: offer }), 404, 'not live');
		assert.equal(body.error, 'no-program');
	});

	it('/watch in program mode decodes the program and hears its mix', async () => {
		await startPublisher(teacher, server.origin, LESSON, tokens.teacher);
		viewer = await browser.newPage('viewer');
		await viewer.goto(`${server.origin}/watch${joinFragment(LESSON, tokens.observer)}&mode=program`);
		await waitForState(viewer, 'live', 30000);
		const ttff = await timeToFirstFrame(viewer);
		console.log(`program time-to-first-frame decoded_ms=${Math.round(ttff.decoded)} ` +
			`shown_ms=${Math.round(ttff.shown)}`);
		// Chromium decodes audio only for a track that plays out: press Unmute, as a viewer would.
		await viewer.click('#unmute');
		const { first, last } = await assertReceives(viewer, 4000);
		console.log(`program viewer frames_decoded=${last.video.framesDecoded} ` +
			`(+${last.video.framesDecoded - first.video.framesDecoded} in 4 s) ` +
			`width=${last.video.frameWidth} height=${last.video.frameHeight} ` +
			`audio_packets=${last.audio.packetsReceived} ` +
			`keyframes=${last.video.keyFramesDecoded} plis=${last.video.pliCount} ` +
			`dropped=${last.video.framesDropped} ` +
			`audio_energy=${last.audio.totalAudioEnergy}`);
		// A healthy stream: its own keyframe every 2 s (hls_segment_s), no decode failure
		// that makes the viewer ask for more. A marked packet of SPS and PPS alone once did,
		// three times a second (kt-program-webrtc.c).
		const keyframes = last.video.keyFramesDecoded - first.video.keyFramesDecoded;
		const plis = last.video.pliCount - first.video.pliCount;
		assert.ok(keyframes <= 4 && plis <= 1,
			`${keyframes} keyframes and ${plis} PLIs in 4 s\n${await diagnose(viewer)}`);
		assert.equal(last.video.frameWidth, WIDTH);
		assert.equal(last.video.frameHeight, HEIGHT);
		assert.ok(last.audio.totalAudioEnergy > first.audio.totalAudioEnergy,
			`no sound: totalAudioEnergy ${first.audio.totalAudioEnergy} -> ${last.audio.totalAudioEnergy}`);
		const sdp = await viewer.evaluate(() => window.ketang.pc.remoteDescription.sdp);
		const video = sdp.split('m=')[1];
		assert.match(video, /a=rtpmap:\d+ H264\/90000/i);
		assert.doesNotMatch(video, /VP8/i, 'the program is H.264 only');
		assert.equal(await viewer.evaluate(() => window.ketang.mode), 'program');
	});

	it('bad requests are refused and disturb nothing', async () => {
		const post = (url, token) => request(url, { method: 'POST', headers: sdpHeaders(token), body: offer });
		assertRefused(await post(whep(LESSON), null), 401, 'no token');
		assertRefused(await post(whep(LESSON), 'garbage'), 401, 'forged token');
		assertRefused(await post(whep(LESSON), tokens.other), 403, 'another lesson\'s token');
		const body = assertRefused(await post(whep(OTHER), tokens.other), 404, 'a lesson not live');
		assert.equal(body.error, 'no-program');
		assertRefused(await post(whep(LESSON, '/x/y'), tokens.observer), 404, 'too long a path');
		assertRefused(await request(whep(LESSON, '/no-such-session'),
			{ method: 'DELETE', headers: sdpHeaders(tokens.observer) }), 404, 'unknown session');
		await assertReceives(viewer, 1500);
	});

	it('DELETE on the Location ends the session', async () => {
		const location = await viewer.evaluate(() => window.ketang.location);
		assert.match(new URL(location).pathname, new RegExp(`^/whep/${LESSON}/program/[0-9a-f-]{36}$`));
		const del = (token) => request(location,
			{ method: 'DELETE', headers: sdpHeaders(token) });
		assertRefused(await del(null), 401, 'DELETE without a token');
		assert.equal((await del(tokens.observer)).status, 200);
		assert.equal((await del(tokens.observer)).status, 200, 'DELETE is idempotent');
		await viewer.close();
	});
});

describe('a live lesson neither recorded nor broadcast', () => {
	it('has no program (404)', async () => {
		const server = await startServer({ extraConfig: '[recording]\nenabled = false\n' +
			'[broadcast]\nhls = false\n' });
		const browser = await launchBrowser();
		try {
			const page = await browser.newPage('offer');
			const offer = await makeOffer(page, 'recvonly');
			const token = await server.token(LESSON, 'observer');
			// A WHEP viewer of the teacher makes the lesson live.
			const plain = await request(`${server.origin}/whep/${LESSON}`,
				{ method: 'POST', headers: sdpHeaders(token), body: offer });
			assert.equal(plain.status, 201, plain.body);
			const res = await request(`${server.origin}/whep/${LESSON}/program`,
				{ method: 'POST', headers: sdpHeaders(token), body: offer });
			assert.equal(assertRefused(res, 404, 'no program').error, 'no-program');
		} finally {
			await browser.close();
			await server.stop();
		}
	});
});
