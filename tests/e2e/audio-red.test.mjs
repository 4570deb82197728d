// Redundant audio (RED, RFC 2198) through the real server (issue 5): the /publish
// page's Chromium is answered RED first and sends its Opus inside RED; a /watch
// page that offers RED receives it as sent, one whose offer leaves RED out (codec
// preferences set in the page) receives plain Opus, the primary frames Ketang cuts
// out; both hear the audio with little concealment. The WHIP lesson's recording of
// the teacher's audio (taken from the RED source) is Opus that decodes cleanly.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and
// tests/e2e/node_modules (`make test` runs `npm ci`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { request } from './lib/http.mjs';
import { decodeErrors, probe } from './lib/media.mjs';
import { openWatcher, startPublisher, waitForState } from './lib/pages.mjs';
import { fetchMedia, waitForRows } from './lib/recordings.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-red';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The page's audio RTP stats of @type ('inbound-rtp' or 'outbound-rtp') with its codec. */
function audioStats(page, type) {
	return page.evaluate(async (want) => {
		const report = await window.ketang.pc.getStats();
		let out = null;
		report.forEach((s) => {
			if (s.type !== want || s.kind !== 'audio')
				return;
			const codec = s.codecId ? report.get(s.codecId) : null;
			out = {
				mimeType: codec ? codec.mimeType : null,
				payloadType: codec ? codec.payloadType : null,
				packets: want === 'inbound-rtp' ? s.packetsReceived : s.packetsSent,
				packetsLost: s.packetsLost,
				totalSamplesReceived: s.totalSamplesReceived,
				concealedSamples: s.concealedSamples,
			};
		});
		return out;
	}, type);
}

/** Polls @page's stats of @type until @done(stats) holds; resolves them. */
async function waitForStats(page, type, done, what, timeoutMs = 15000) {
	const deadline = Date.now() + timeoutMs;
	let stats = null;
	while (Date.now() < deadline) {
		stats = await audioStats(page, type);
		if (stats && done(stats))
			return stats;
		await sleep(250);
	}
	assert.fail(`${what}: not within ${timeoutMs} ms: ${JSON.stringify(stats)}`);
}

/**
 * Audio keeps arriving at @page over @ms: samples grow by most of that time at
 * 48 kHz and at most @maxConcealed of them are concealment. Resolves the window's
 * figures.
 */
async function assertHears(page, name, { ms = 4000, maxConcealed = 0.05 } = {}) {
	const a = await audioStats(page, 'inbound-rtp');
	await sleep(ms);
	const b = await audioStats(page, 'inbound-rtp');
	const samples = b.totalSamplesReceived - a.totalSamplesReceived;
	const concealed = b.concealedSamples - a.concealedSamples;
	const share = samples > 0 ? concealed / samples : 1;
	console.log(`${name}: ${b.mimeType} pt ${b.payloadType}, ${samples} samples in ${ms} ms, ` +
		`${(100 * share).toFixed(2)} % concealed, ${b.packets - a.packets} packets, lost ${b.packetsLost}`);
	assert.ok(samples > 48 * ms * 0.7, `${name}: only ${samples} samples in ${ms} ms`);
	assert.ok(share <= maxConcealed, `${name}: ${(100 * share).toFixed(2)} % of the samples concealed`);
	return { samples, share };
}

/**
 * Init script: the page's peer connections run encoded transforms (Chromium's
 * encodedInsertableStreams) that pass every frame through unchanged and count the
 * RTP payload types of the audio frames sent and received, in window.audioPts
 * ({ send: { pt: n }, recv: { pt: n } }). A RED sender's frames are RED payloads
 * (libwebrtc's encoder wraps Opus in RED before the transform), so they show the RED
 * type; received ones show the type of each packet as it arrived.
 */
function countAudioPayloadTypes() {
	const Base = window.RTCPeerConnection;
	window.audioPts = { send: {}, recv: {} };
	const count = (dir, kind, streams) => {
		streams.readable.pipeThrough(new TransformStream({
			transform(frame, out) {
				if (kind === 'audio') {
					const pt = frame.getMetadata().payloadType;
					window.audioPts[dir][pt] = (window.audioPts[dir][pt] || 0) + 1;
				}
				out.enqueue(frame);
			},
		})).pipeTo(streams.writable);
	};
	window.RTCPeerConnection = class extends Base {
		constructor(config = {}) {
			super({ ...config, encodedInsertableStreams: true });
			this.addEventListener('track', (e) =>
				count('recv', e.track.kind, e.receiver.createEncodedStreams()));
		}

		addTransceiver(what, init) {
			const t = super.addTransceiver(what, init);
			const kind = typeof what === 'string' ? what : what.kind;
			if (init?.direction !== 'recvonly')
				count('send', kind, t.sender.createEncodedStreams());
			return t;
		}
	};
}

/** Makes every audio transceiver of the page leave RED out of its offer. */
function withoutRed() {
	const add = RTCPeerConnection.prototype.addTransceiver;
	RTCPeerConnection.prototype.addTransceiver = function (kind, init) {
		const t = add.call(this, kind, init);
		if (kind === 'audio') {
			const codecs = RTCRtpReceiver.getCapabilities('audio').codecs
				.filter((c) => c.mimeType.toLowerCase() !== 'audio/red');
			t.setCodecPreferences(codecs);
		}
		return t;
	};
}

describe('audio RED: publisher, watchers with and without RED, recording', () => {
	let server;
	let browser;
	let scratch;
	let publisher, redWatcher, opusWatcher;
	const tokens = {};

	before(async () => {
		server = await startServer();
		browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
		scratch = await mkdtemp(join(tmpdir(), 'ketang-red-'));
		tokens.teacher = await server.token(LESSON, 'teacher');
		tokens.observer = await server.token(LESSON, 'observer');
		tokens.archivist = await server.token('', 'archivist');
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop();
		if (scratch && !process.env.KETANG_E2E_KEEP)
			await rm(scratch, { recursive: true, force: true });
	});

	it('the publisher is answered RED first and sends RED', async () => {
		publisher = await browser.newPage('publisher');
		await publisher.addInitScript(countAudioPayloadTypes);
		await startPublisher(publisher, server.origin, LESSON, tokens.teacher);
		const answer = await publisher.evaluate(() => window.ketang.pc.remoteDescription.sdp);
		assert.match(answer, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 63 111\r$/m);
		assert.match(answer, /^a=fmtp:63 111\/111\r$/m);
		const out = await waitForStats(publisher, 'outbound-rtp', (s) => s.packets > 100,
			'publisher audio');
		const sent = await publisher.evaluate(() => window.audioPts.send);
		const codecs = await publisher.evaluate(() => window.ketang.pc.getTransceivers()
			.filter((t) => t.sender.track?.kind === 'audio')
			.map((t) => t.sender.getParameters().codecs.map((c) => c.mimeType))[0]);
		// Chromium's outbound-rtp stats name the codec inside the RED (audio/opus); the
		// sender's negotiated codecs and its encoded frames show the RED.
		console.log(`publisher: outbound-rtp codec ${out.mimeType} (pt ${out.payloadType}), ` +
			`sender codecs ${codecs.join(' ')}, encoded frames by payload type ${JSON.stringify(sent)}`);
		assert.equal(codecs[0], 'audio/red');
		assert.ok((sent[63] || 0) > 50, `RED frames sent: ${JSON.stringify(sent)}`);
		assert.ok((sent[63] || 0) > 10 * (sent[111] || 0), `mostly RED: ${JSON.stringify(sent)}`);
		// Ketang sees RED arrive: every RED packet it forwards is cut once for its recorder.
		const metrics = (await request(`${server.origin}/metrics`)).body;
		assert.ok(Number(/^ketang_red_stripped_total (\d+)$/m.exec(metrics)?.[1]) > 50, metrics);
	});

	it('a watcher that offers RED receives it and hears the teacher', async () => {
		redWatcher = await browser.newPage('watcher-red');
		await redWatcher.addInitScript(countAudioPayloadTypes);
		await openWatcher(redWatcher, server.origin, LESSON, tokens.observer);
		await waitForState(redWatcher, 'live');
		const answer = await redWatcher.evaluate(() => window.ketang.pc.remoteDescription.sdp);
		assert.match(answer, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 63 111\r$/m);
		await waitForStats(redWatcher, 'inbound-rtp', (s) => s.totalSamplesReceived > 96000,
			'RED watcher audio');
		await assertHears(redWatcher, 'RED watcher');
		const got = await redWatcher.evaluate(() => window.audioPts.recv);
		console.log(`RED watcher: audio frames by payload type ${JSON.stringify(got)}`);
		assert.ok((got[63] || 0) > 100, `RED frames received: ${JSON.stringify(got)}`);
	});

	it('a watcher without RED receives plain Opus and hears the teacher', async () => {
		opusWatcher = await browser.newPage('watcher-opus');
		await opusWatcher.addInitScript(countAudioPayloadTypes);
		await opusWatcher.addInitScript(withoutRed);
		await openWatcher(opusWatcher, server.origin, LESSON, tokens.observer);
		await waitForState(opusWatcher, 'live');
		const offer = await opusWatcher.evaluate(() => window.ketang.pc.localDescription.sdp);
		assert.doesNotMatch(offer, /red\/48000/, 'the page still offered RED');
		const answer = await opusWatcher.evaluate(() => window.ketang.pc.remoteDescription.sdp);
		assert.match(answer, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111\r$/m);
		const s = await waitForStats(opusWatcher, 'inbound-rtp', (x) => x.totalSamplesReceived > 96000,
			'Opus watcher audio');
		assert.equal(s.mimeType, 'audio/opus');
		await assertHears(opusWatcher, 'Opus watcher');
		const got = await opusWatcher.evaluate(() => window.audioPts.recv);
		console.log(`Opus watcher: audio frames by payload type ${JSON.stringify(got)}`);
		assert.deepEqual(Object.keys(got), ['111'], `only Opus: ${JSON.stringify(got)}`);
		assert.ok(got[111] > 100);
		// The RED watcher is not disturbed by the other one.
		await assertHears(redWatcher, 'RED watcher, later', { ms: 2000 });
		const metrics = (await request(`${server.origin}/metrics`)).body;
		const stripped = Number(/^ketang_red_stripped_total (\d+)$/m.exec(metrics)?.[1]);
		const recovered = Number(/^ketang_red_recovered_total (\d+)$/m.exec(metrics)?.[1]);
		const dropped = Number(/^ketang_red_dropped_total (\d+)$/m.exec(metrics)?.[1]);
		console.log(`metrics: red stripped ${stripped}, recovered ${recovered}, dropped ${dropped}`);
		assert.ok(stripped > 100, `ketang_red_stripped_total ${stripped}`);
		assert.equal(dropped, 0);
	});

	it("the teacher's audio recording (a RED source) is Opus that decodes", async () => {
		const deleted = publisher.waitForResponse((res) => res.request().method() === 'DELETE');
		await publisher.click('#stop');
		await waitForState(publisher, 'stopped');
		assert.equal((await deleted).status(), 200);
		// The lesson ends once its viewers are gone too.
		await redWatcher.close();
		await opusWatcher.close();
		const rows = await waitForRows(server, tokens.archivist, LESSON,
			(rs) => rs.some((r) => r.stream === 'teacher-audio' && r.state === 'complete'), 30000,
			'the teacher-audio recording');
		const row = rows.find((r) => r.stream === 'teacher-audio');
		const path = await fetchMedia(server, tokens.archivist, row, scratch);
		const p = await probe(path);
		console.log(`teacher-audio: ${row.size_bytes} B, ${row.duration_ms} ms, ` +
			`${p.streams.map((s) => s.codec).join(' + ')}`);
		assert.equal(p.audio?.codec, 'opus');
		assert.ok(row.duration_ms > 5000, `recorded ${row.duration_ms} ms`);
		assert.equal(await decodeErrors(path), '', 'decode errors');
	});

	it('no page broke the CSP or threw', () => {
		assert.deepEqual(browser.problems, []);
	});
});
