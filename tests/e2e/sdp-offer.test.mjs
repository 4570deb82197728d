// Ketang's subscribe-connection offers (signaling/kt-sdp-offer.h) against
// Debian's chromium: the C builder writes the offers (through the test tool
// tools/sdp-offer-dump, path in KT_SDP_OFFER_DUMP), a blank page applies them
// to one RTCPeerConnection and answers, and the C reader reads the answers.
// Covers a first offer of 5 streams, renegotiation (a removed stream left
// inactive, an added one appended, an inactive m-line reused for a new
// stream) and an m-line the browser rejects.
//
// No media flows: nothing listens on the offer's candidate. Run inside
// tests/netns-run.sh like every browser test.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';

await loadPlaywright(); // fails clearly when tests/e2e/node_modules is missing

const DUMP = process.env.KT_SDP_OFFER_DUMP;
const SESSION_ID = 1234567890123456; // o= session id, < 2^53 to survive JSON

/** Runs the dump tool; returns its JSON, or throws with the tool's error. */
function dump(command, request) {
	const body = JSON.stringify(request);
	let out;
	try {
		out = execFileSync(DUMP, [command], { input: body, encoding: 'utf8' });
	} catch (err) {
		throw new Error(`sdp-offer-dump ${command} failed: ${err.stdout}${err.stderr}`);
	}
	return JSON.parse(out);
}

function stream(mid, kind, participant, source, ssrc) {
	return {
		mid, kind, active: true, rejected: false, ssrc,
		rtx_ssrc: kind === 'video' ? ssrc + 1 : 0,
		stream_id: participant, track_id: `${participant}-${source}`,
	};
}

// The lead's slot rule (server/kt-media-subscribe.c): a new stream takes the
// first inactive m-line of its kind, keeping the mid, else a new m-line.
function addStream(table, s) {
	const idle = table.find((t) => !t.active && !t.rejected && t.kind === s.kind);
	if (idle) {
		Object.assign(idle, s, { mid: idle.mid });
		return idle.mid;
	}
	const mid = String(table.length);
	table.push({ ...s, mid });
	return mid;
}

function removeStream(table, mid) {
	const t = table.find((x) => x.mid === mid);
	t.active = false;
}

// In the page: apply an offer, answer it, report the transceivers and the
// tracks announced so far. stopMids: transceivers to stop before answering
// (the browser then rejects their m-lines).
async function applyOffer(page, sdp, stopMids = []) {
	return page.evaluate(async ([offer, stop]) => {
		const pc = window.pc;
		await pc.setRemoteDescription({ type: 'offer', sdp: offer });
		for (const t of pc.getTransceivers())
			if (stop.includes(t.mid))
				t.stop();
		const answer = await pc.createAnswer();
		await pc.setLocalDescription(answer);
		return {
			answer: pc.localDescription.sdp,
			signalingState: pc.signalingState,
			transceivers: pc.getTransceivers().map((t) => ({
				mid: t.mid,
				direction: t.direction,
				currentDirection: t.currentDirection,
				kind: t.receiver.track.kind,
				trackId: t.receiver.track.id,
			})),
			tracks: window.tracks.slice(),
			streams: Object.fromEntries(Object.entries(window.streams)
				.map(([id, s]) => [id, s.getTracks().map((t) => t.kind).sort()])),
		};
	}, [sdp, stopMids]);
}

function byMid(list, mid) {
	const x = list.find((t) => t.mid === mid);
	assert.ok(x, `no entry for mid ${mid} in ${JSON.stringify(list)}`);
	return x;
}

describe('subscribe offers in chromium', () => {
	let browser;
	let page;
	const table = [];
	let version = 0;

	function offer(video_codecs = 'vp8,h264') {
		return dump('offer', { session_id: SESSION_ID, version: ++version, video_codecs, streams: table }).sdp;
	}

	function read(answer) {
		return dump('answer', { streams: table, answer });
	}

	before(async () => {
		assert.ok(DUMP, 'KT_SDP_OFFER_DUMP must name the sdp-offer-dump tool (ctest sets it)');
		browser = await launchBrowser();
		page = await browser.newPage('subscriber');
		await page.goto('about:blank');
		await page.evaluate(() => {
			window.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
			window.tracks = [];
			window.streams = {};
			window.pc.ontrack = (e) => {
				window.tracks.push({ mid: e.transceiver.mid, kind: e.track.kind, trackId: e.track.id,
					streams: e.streams.map((s) => s.id) });
				for (const s of e.streams)
					window.streams[s.id] = s;
			};
		});
	});

	after(async () => {
		if (page)
			await page.evaluate(() => window.pc.close()).catch(() => {});
		if (browser)
			await browser.close();
	});

	it('accepts a first offer of 5 streams, one recvonly transceiver each', async () => {
		table.push(stream('0', 'video', 'p1', 'camera', 1000),
			stream('1', 'video', 'p1', 'courseware', 2000),
			stream('2', 'audio', 'p1', 'audio', 3000),
			stream('3', 'video', 'p7', 'camera', 4000),
			stream('4', 'audio', 'p7', 'audio', 5000));
		const sdp = offer();
		assert.match(sdp, /^o=- 1234567890123456 1 IN IP4/m);
		const r = await applyOffer(page, sdp);
		assert.equal(r.signalingState, 'stable');
		assert.equal(r.transceivers.length, 5);
		for (const s of table) {
			const t = byMid(r.transceivers, s.mid);
			assert.equal(t.kind, s.kind, `mid ${s.mid}`);
			assert.equal(t.direction, 'recvonly', `mid ${s.mid}`);
			assert.equal(t.currentDirection, 'recvonly', `mid ${s.mid}`);
			const track = byMid(r.tracks, s.mid);
			assert.deepEqual(track.streams, [s.stream_id], `mid ${s.mid}`);
			// Chrome names the receiver track after the msid's track id.
			assert.equal(track.trackId, t.trackId);
			assert.equal(t.trackId, s.track_id, `mid ${s.mid}`);
		}
		assert.deepEqual(r.streams, { p1: ['audio', 'video', 'video'], p7: ['audio', 'video'] });

		// Chrome's answer, read back by Ketang.
		assert.match(r.answer, /^a=setup:active/m);
		assert.equal((r.answer.match(/^a=recvonly/mg) || []).length, 5);
		const res = read(r.answer);
		assert.equal(res.dtls_active, true);
		assert.match(res.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
		assert.ok(res.ice_ufrag.length >= 4 && res.ice_pwd.length >= 22, JSON.stringify(res));
		assert.deepEqual(res.streams.map((s) => s.mid), ['0', '1', '2', '3', '4']);
		for (const s of res.streams) {
			assert.equal(s.accepted, true, `mid ${s.mid}`);
			assert.equal(s.direction, 'recvonly');
			assert.equal(s.mid_ext_id, 1);
			// Chrome keeps transport-wide congestion control: it numbers
			// nothing itself here, it sends feedback on what Ketang numbers.
			assert.equal(s.twcc_ext_id, 2, `mid ${s.mid} twcc`);
			assert.equal(s.transport_cc, true, `mid ${s.mid} transport-cc`);
			if (s.kind === 'video') {
				assert.deepEqual([s.pt_for_vp8, s.rtx_for_vp8, s.pt_for_h264, s.rtx_for_h264, s.pt_opus],
					[96, 97, 102, 103, 0], `mid ${s.mid}`);
				assert.ok(s.nack && s.pli && s.fir, `mid ${s.mid} feedback`);
			} else {
				assert.deepEqual([s.pt_opus, s.pt_for_vp8, s.pt_for_h264], [111, 0, 0]);
			}
		}
	});

	it('renegotiates: a removed stream goes inactive, a new one is appended', async () => {
		removeStream(table, '3');                                     // p7 leaves the stage
		assert.equal(addStream(table, stream('', 'audio', 'p9', 'audio', 6000)), '5');
		const sdp = offer();
		assert.match(sdp, /^o=- 1234567890123456 2 IN IP4/m);
		assert.match(sdp, /^a=group:BUNDLE 0 1 2 3 4 5$/m);
		const r = await applyOffer(page, sdp);
		assert.equal(r.transceivers.length, 6);
		assert.deepEqual(r.transceivers.map((t) => t.mid), ['0', '1', '2', '3', '4', '5']);
		assert.equal(byMid(r.transceivers, '3').currentDirection, 'inactive');
		assert.equal(byMid(r.transceivers, '5').currentDirection, 'recvonly');
		assert.equal(byMid(r.transceivers, '5').kind, 'audio');
		assert.deepEqual(byMid(r.tracks, '5').streams, ['p9']);
		assert.deepEqual(r.streams.p7, ['audio'], 'the inactive camera left its stream');
		const res = read(r.answer);
		assert.equal(byMid(res.streams, '3').accepted, false);
		assert.equal(byMid(res.streams, '3').rejected, false);
		assert.equal(byMid(res.streams, '3').direction, 'inactive');
		assert.equal(byMid(res.streams, '5').accepted, true);
		assert.equal(byMid(res.streams, '5').pt_opus, 111);
	});

	it('reuses the inactive m-line, keeping its mid, for the next stream of its kind', async () => {
		const earlier = (await applyOffer(page, offer())).transceivers; // unchanged offer: a no-op
		assert.equal(addStream(table, stream('', 'video', 'p8', 'camera', 7000)), '3');
		const r = await applyOffer(page, offer());
		assert.equal(r.transceivers.length, 6);
		const t = byMid(r.transceivers, '3');
		assert.equal(t.currentDirection, 'recvonly');
		assert.equal(t.kind, 'video');
		// The receiver track outlives the reuse and keeps its first id: pages
		// must tell streams apart by mid or MediaStream id, not track id.
		assert.equal(t.trackId, byMid(earlier, '3').trackId, 'same transceiver, same receiver track');
		assert.equal(t.trackId, 'p7-camera');
		const events = r.tracks.filter((x) => x.mid === '3');
		assert.deepEqual(events.at(-1).streams, ['p8']);
		assert.deepEqual(r.streams.p8, ['video']);
		const res = read(r.answer);
		assert.ok(res.streams.every((s) => s.accepted), JSON.stringify(res.streams));
	});

	it('a stopped transceiver answers inactive; a line offered with port 0 stays rejected', async () => {
		// Chrome, as answerer, answers a transceiver stopped on its side
		// a=inactive and keeps doing so (it would reject the m-line only in an
		// offer of its own, which the subscribe connection never makes).
		const r0 = await applyOffer(page, offer(), ['5']);
		assert.match(r0.answer, /^a=mid:5\r\n(a=.*\r\n)*?a=inactive\r\n/m);
		const s0 = byMid(read(r0.answer).streams, '5');
		assert.deepEqual([s0.accepted, s0.rejected, s0.direction], [false, false, 'inactive']);
		// Ketang gives up on that line: port 0 from now on, never reused.
		byMid(table, '5').rejected = true;
		byMid(table, '5').active = false;
		const sdp = offer();
		assert.match(sdp, /^a=group:BUNDLE 0 1 2 3 4$/m);
		assert.match(sdp, /^m=audio 0 UDP\/TLS\/RTP\/SAVPF 111$/m);
		const r = await applyOffer(page, sdp);
		assert.equal(r.signalingState, 'stable');
		// Stopped transceivers leave getTransceivers() (W3C webrtc-pc §5.5).
		assert.equal(r.transceivers.find((t) => t.mid === '5'), undefined);
		assert.equal(byMid(r.transceivers, '0').currentDirection, 'recvonly');
		assert.match(r.answer, /^m=audio 0 /m);
		assert.doesNotMatch(r.answer, /^a=group:BUNDLE .*5/m);
		const res = read(r.answer);
		assert.deepEqual([byMid(res.streams, '5').rejected, byMid(res.streams, '5').accepted], [true, false]);
		assert.equal(byMid(res.streams, '4').accepted, true);
		// A new audio stream gets a new m-line; the rejected one is not reused.
		assert.equal(addStream(table, stream('', 'audio', 'p10', 'audio', 8000)), '6');
		const r2 = await applyOffer(page, offer());
		assert.equal(byMid(r2.transceivers, '6').currentDirection, 'recvonly');
		assert.deepEqual(byMid(r2.tracks, '6').streams, ['p10']);
		const res2 = read(r2.answer);
		assert.equal(res2.streams.length, 7);
		assert.equal(byMid(res2.streams, '6').accepted, true);
		assert.equal(byMid(res2.streams, '5').rejected, true);
	});

	it('an offer with only H.264 gets an H.264-only answer', async () => {
		const pc2 = await page.evaluate(async (sdp) => {
			const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
			await pc.setRemoteDescription({ type: 'offer', sdp });
			await pc.setLocalDescription(await pc.createAnswer());
			const answer = pc.localDescription.sdp;
			pc.close();
			return answer;
		}, dump('offer', { session_id: 7, version: 1, video_codecs: 'h264', streams: [stream('0', 'video', 'p1', 'camera', 1)] }).sdp);
		const res = dump('answer', { streams: [stream('0', 'video', 'p1', 'camera', 1)], answer: pc2 });
		assert.deepEqual([res.streams[0].pt_for_h264, res.streams[0].rtx_for_h264, res.streams[0].pt_for_vp8], [102, 103, 0]);
	});

	it('an audio line offered with RED (RFC 2198) keeps it in the answer', async () => {
		const streams = [{ ...stream('0', 'audio', 'p1', 'audio', 1), red: true }];
		const sdp = dump('offer', { session_id: 8, version: 1, video_codecs: 'vp8', streams }).sdp;
		assert.match(sdp, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111 63$/m);
		assert.match(sdp, /^a=fmtp:63 111\/111$/m);
		const answer = await page.evaluate(async (offer) => {
			const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
			await pc.setRemoteDescription({ type: 'offer', sdp: offer });
			await pc.setLocalDescription(await pc.createAnswer());
			const text = pc.localDescription.sdp;
			pc.close();
			return text;
		}, sdp);
		assert.match(answer, /^a=rtpmap:63 red\/48000\/2$/m);
		const res = dump('answer', { streams, answer });
		assert.deepEqual([res.streams[0].pt_opus, res.streams[0].pt_red], [111, 63]);
		// The same answer to a line offered without RED does not fit.
		const plain = [{ ...streams[0], red: false }];
		assert.throws(() => dump('answer', { streams: plain, answer }), /did not offer/);
	});

	it('reports no page errors', () => {
		assert.deepEqual(browser.problems, []);
	});
});
