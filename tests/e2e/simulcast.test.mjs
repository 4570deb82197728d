// Chrome simulcast through the real server (issue 5): a page publishes its (fake) camera
// over WHIP with three encodings whose rids are listed "f;q;h" — f full size, q a
// quarter, h a half, so the order of the rids says nothing of their sizes. The answer
// must receive all three (a=simulcast:recv f;q;h) and Chrome must send all three.
// A /watch viewer (no simulcast of its own) then gets one video stream: first a layer
// below the top one (its transport-cc estimate starts at 300 kbit/s), and, once probing
// has shown its link carries more, the top layer (f), switched at a keyframe: it keeps
// decoding, one SSRC.
// The lesson's recordings decode, the camera's at the top layer's size (recorders get
// the top layer).
//
// Run inside tests/netns-run.sh; needs KETANG_BIN and tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { decodeErrors, probe } from './lib/media.mjs';
import { openWatcher, waitForState } from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-simulcast';
const run = promisify(execFile);

/** The distinct decoded frame widths of @path's video, in order. */
async function frameWidths(path) {
	const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
		'frame=width', '-of', 'csv=p=0', path], { maxBuffer: 64 * 1024 * 1024 });
	const out = [];
	for (const w of stdout.split('\n').map((l) => parseInt(l, 10)).filter(Number.isFinite))
		if (out[out.length - 1] !== w)
			out.push(w);
	return out;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes camera + mic from @page over WHIP with @encodings; returns { status, answer }. */
function publishSimulcast(page, url, token, encodings) {
	return page.evaluate(async ({ url, token, encodings }) => {
		const stream = await navigator.mediaDevices.getUserMedia({
			video: { width: 1280, height: 720, frameRate: 15 }, audio: true });
		const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		window.simulcastPc = pc;
		pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', sendEncodings: encodings });
		pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly' });
		await pc.setLocalDescription(await pc.createOffer());
		await new Promise((resolve) => {
			if (pc.iceGatheringState === 'complete')
				return resolve();
			pc.addEventListener('icegatheringstatechange', () => {
				if (pc.iceGatheringState === 'complete')
					resolve();
			});
			setTimeout(resolve, 2000);
		});
		const res = await fetch(url, { method: 'POST', body: pc.localDescription.sdp,
			headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` } });
		const answer = await res.text();
		if (res.status === 201)
			await pc.setRemoteDescription({ type: 'answer', sdp: answer });
		return { status: res.status, answer };
	}, { url, token, encodings });
}

/** The publisher's video outbound-rtp per rid: { rid: { frameWidth, framesEncoded } }. */
function outboundByRid(page) {
	return page.evaluate(async () => {
		const out = {};
		(await window.simulcastPc.getStats()).forEach((s) => {
			if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid)
				out[s.rid] = { frameWidth: s.frameWidth || 0, framesEncoded: s.framesEncoded || 0 };
		});
		return out;
	});
}

/** The viewer's inbound video: { ssrc, frameWidth, framesDecoded }. */
function inboundVideo(page) {
	return page.evaluate(async () => {
		let out = null;
		(await window.ketang.pc.getStats()).forEach((s) => {
			if (s.type === 'inbound-rtp' && s.kind === 'video')
				out = { ssrc: s.ssrc, frameWidth: s.frameWidth || 0, framesDecoded: s.framesDecoded || 0,
					framesReceived: s.framesReceived, packetsLost: s.packetsLost, nackCount: s.nackCount,
					pliCount: s.pliCount, keyFramesDecoded: s.keyFramesDecoded };
		});
		return out;
	});
}

describe('Chrome simulcast through WHIP', () => {
	let server;
	let browser;
	let publisher;
	let widths = {};

	before(async () => {
		server = await startServer();
		browser = await launchBrowser();
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop();
	});

	it('the answer receives the three layers and Chrome sends them', async () => {
		publisher = await browser.newPage('publisher');
		await publisher.goto(`${server.origin}/`);
		const { status, answer } = await publishSimulcast(publisher, `${server.origin}/whip/${LESSON}`,
			await server.token(LESSON, 'teacher'), [
				{ rid: 'f', maxBitrate: 1200000 },
				{ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
				{ rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
			]);
		assert.equal(status, 201, answer);
		assert.match(answer, /\r\na=simulcast:recv f;q;h\r\n/);
		assert.match(answer, /\r\na=rid:q recv\r\n/);
		assert.match(answer, /urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id/);
		const start = Date.now();
		let by;
		for (;;) {
			by = await outboundByRid(publisher);
			if (['f', 'q', 'h'].every((r) => by[r] && by[r].framesEncoded > 10 && by[r].frameWidth > 0))
				break;
			assert.ok(Date.now() - start < 30000, `not every layer is sent: ${JSON.stringify(by)}`);
			await sleep(500);
		}
		widths = Object.fromEntries(Object.entries(by).map(([r, s]) => [r, s.frameWidth]));
		console.log(`layers sent after ${Date.now() - start} ms: ${JSON.stringify(widths)}`);
		assert.ok(widths.q < widths.h && widths.h < widths.f, JSON.stringify(widths));
		await sleep(1500); // every layer measured (1 s windows) before the viewer arrives
	});

	it('a viewer starts below the top layer, then goes up at a keyframe, one SSRC', async () => {
		const viewer = await browser.newPage('viewer');
		await openWatcher(viewer, server.origin, LESSON, await server.token(LESSON, 'observer'));
		await waitForState(viewer, 'live');
		const start = Date.now();
		let first = null;
		while (!first || first.frameWidth === 0) {
			first = await inboundVideo(viewer);
			assert.ok(Date.now() - start < 15000, `no decoded video: ${JSON.stringify(first)}`);
			await sleep(250);
		}
		console.log(`viewer first decodes ${first.frameWidth} wide after ${Date.now() - start} ms`);
		assert.ok(first.frameWidth < widths.f, `started at the top layer: ${JSON.stringify(first)}`);
		// Every second it decodes more (one browser encodes three layers and decodes on
		// two shared cores: shorter windows may see a stall).
		let last = first;
		let checked = first;
		while (last.frameWidth !== widths.f) {
			assert.ok(Date.now() - start < 25000, `viewer never went up: ${JSON.stringify(last)}`);
			await sleep(250);
			last = await inboundVideo(viewer);
			assert.equal(last.ssrc, first.ssrc, 'the viewer\'s SSRC changed');
			if (Date.now() - start >= 1000 * (checked.n || 1)) {
				assert.ok(last.framesDecoded > checked.framesDecoded, `decoding stuck at ${last.framesDecoded}`);
				checked = { ...last, n: (checked.n || 1) + 1 };
			}
		}
		console.log(`viewer up to ${last.frameWidth} wide ${Date.now() - start} ms after joining`);
		const switched = last;
		await sleep(3000);
		last = await inboundVideo(viewer);
		console.log(`viewer decoded ${last.framesDecoded - switched.framesDecoded} frames in the 3 s after the switch`);
		assert.ok(last.framesDecoded - switched.framesDecoded >= 10, 'decoding stuck after the switch: ' +
			`viewer ${JSON.stringify(last)}, publisher ${JSON.stringify(await outboundByRid(publisher))}`);
		assert.equal(last.ssrc, first.ssrc, 'the viewer\'s SSRC changed');
		assert.deepEqual(browser.problems, []);
	});

	it('the lesson\'s recordings decode, the camera at the top layer\'s size', async () => {
		await browser.close();
		browser = null;
		await server.stop({ keepData: true });
		const dir = join(server.dataDir, 'recordings');
		const files = (await readdir(dir, { recursive: true })).filter((f) => /\.(mp4|webm|mkv)$/.test(f));
		assert.ok(files.length > 0, 'nothing recorded');
		let camera = null;
		for (const f of files) {
			const path = join(dir, f);
			const p = await probe(path);
			assert.equal(await decodeErrors(path), '', f);
			if (!p.video) {
				console.log(`recording ${f}: audio, ${p.duration.toFixed(1)} s`);
				continue;
			}
			const w = await frameWidths(path);
			console.log(`recording ${f}: ${p.duration.toFixed(1)} s, frame widths ${w.join(' -> ')}`);
			if (/camera/.test(f))
				camera = w;
		}
		// It starts on the top layer sent at that moment (Chrome was still ramping up the
		// others) and ends on the top one.
		assert.ok(camera, `no camera recording in ${files}`);
		assert.equal(camera[camera.length - 1], widths.f);
		await rm(server.dataDir, { recursive: true, force: true });
		server = null;
	});
});
