// Captures seed inputs for the fuzz corpora from real Chromium (issue 7): SDP offers and
// answers, the lesson WebSocket messages the real pages send to a real server, and UDP
// datagrams on loopback (udp-sniff.py): DTLS handshakes of those pages, and plaintext RTP
// and RTCP of two peer connections in one page of a Chromium started with
// --disable-webrtc-encryption (honoured outside stable/beta builds, as Debian's), with 5 %
// loss on loopback (nft) so the receiver sends NACK and PLI besides reports, TWCC and REMB.
//
//   tests/netns-run.sh node tests/fuzz/tools/chromium-seeds.mjs OUTDIR
//
// (capture-seeds.sh does this and files the results into tests/fuzz/corpus/). Needs
// tests/e2e/node_modules, root inside the namespace (the sniffer and nft), and KETANG_BIN (a
// built server) for the lesson part, which is skipped without it. Writes OUTDIR/{sdp,signal,udp-server,udp-plain}/.

import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../../e2e/lib/browser.mjs';
import { openClassroom, openLessonTeacher } from '../../e2e/lib/pages.mjs';
import { startServer } from '../../e2e/lib/server.mjs';

const run = promisify(execFile);
const OUT = process.argv[2];
if (!OUT) {
	console.error('usage: chromium-seeds.mjs OUTDIR');
	process.exit(2);
}
const SNIFF = fileURLToPath(new URL('./udp-sniff.py', import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let saved = 0;

async function save(dir, name, text) {
	await mkdir(join(OUT, dir), { recursive: true });
	await writeFile(join(OUT, dir, name), text);
	saved++;
}

// getUserMedia needs a secure context, which about:blank is not and http://localhost is.
async function blankOrigin() {
	const server = createServer((req, res) => res.end('<!doctype html><title>seeds</title>'));
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	server.unref();
	return `http://localhost:${server.address().port}/`;
}

async function sniff(dir, body) {
	const child = spawn('python3', [SNIFF, join(OUT, dir)], { stdio: 'inherit' });
	await sleep(500);
	try {
		await body();
	} finally {
		child.kill('SIGTERM');
	}
}

// ---- SDP: offers and answers of the shapes Ketang is sent --------------------------------

// Runs in the page: each variant builds an offer on pc1 (gathered, so with candidates),
// answers it on pc2, and returns every description made on the way.
async function sdpVariants() {
	const out = {};
	const gathered = (pc) => new Promise((resolve) => {
		if (pc.iceGatheringState === 'complete')
			return resolve();
		pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
		setTimeout(resolve, 3000);
	});
	const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
	const [audio] = media.getAudioTracks();
	const [video] = media.getVideoTracks();
	const prefer = (t, kind, mime) => {
		const codecs = RTCRtpReceiver.getCapabilities(kind).codecs;
		t.setCodecPreferences([...codecs.filter((c) => mime.test(c.mimeType)),
			...codecs.filter((c) => !mime.test(c.mimeType))]);
	};
	const only = (t, kind, mime) => {
		const codecs = RTCRtpReceiver.getCapabilities(kind).codecs;
		t.setCodecPreferences(codecs.filter((c) => mime.test(c.mimeType) || /rtx|red|ulpfec/i.test(c.mimeType)));
	};
	async function pair(name, setup, { renegotiate, restart } = {}) {
		const pc1 = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		const pc2 = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
		setup(pc1);
		await pc1.setLocalDescription(await pc1.createOffer());
		await gathered(pc1);
		out[`${name}-offer`] = pc1.localDescription.sdp;
		await pc2.setRemoteDescription(pc1.localDescription);
		await pc2.setLocalDescription(await pc2.createAnswer());
		await gathered(pc2);
		out[`${name}-answer`] = pc2.localDescription.sdp;
		await pc1.setRemoteDescription(pc2.localDescription);
		if (renegotiate) {
			renegotiate(pc1);
			await pc1.setLocalDescription(await pc1.createOffer());
			out[`${name}-reoffer`] = pc1.localDescription.sdp;
			await pc2.setRemoteDescription(pc1.localDescription);
			await pc2.setLocalDescription(await pc2.createAnswer());
			out[`${name}-reanswer`] = pc2.localDescription.sdp;
			await pc1.setRemoteDescription(pc2.localDescription);
		}
		if (restart) {
			await pc1.setLocalDescription(await pc1.createOffer({ iceRestart: true }));
			await gathered(pc1);
			out[`${name}-restart-offer`] = pc1.localDescription.sdp;
			await pc2.setRemoteDescription(pc1.localDescription);
			await pc2.setLocalDescription(await pc2.createAnswer());
			out[`${name}-restart-answer`] = pc2.localDescription.sdp;
		}
		pc1.close();
		pc2.close();
	}
	await pair('av', (pc) => {
		pc.addTrack(audio, media);
		pc.addTrack(video, media);
	}, { restart: true });
	await pair('simulcast', (pc) => {
		pc.addTransceiver(audio, { direction: 'sendonly', streams: [media] });
		pc.addTransceiver(video, { direction: 'sendonly', streams: [media], sendEncodings: [
			{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }] });
	});
	await pair('red', (pc) => {
		prefer(pc.addTransceiver(audio, { direction: 'sendonly' }), 'audio', /red/i);
		pc.addTransceiver(video, { direction: 'sendonly' });
	});
	await pair('h264', (pc) => {
		pc.addTransceiver(audio, { direction: 'sendonly' });
		only(pc.addTransceiver(video, { direction: 'sendonly' }), 'video', /h264/i);
	});
	await pair('vp9-av1', (pc) => {
		prefer(pc.addTransceiver(video, { direction: 'sendrecv' }), 'video', /vp9|av1/i);
	});
	await pair('recvonly', (pc) => {
		pc.addTransceiver('video', { direction: 'recvonly' });
		pc.addTransceiver('video', { direction: 'recvonly' });
		pc.addTransceiver('audio', { direction: 'recvonly' });
	});
	await pair('audio-only', (pc) => pc.addTransceiver(audio, { direction: 'sendonly' }));
	await pair('datachannel', (pc) => pc.createDataChannel('chat'));
	await pair('renegotiate', (pc) => {
		pc.addTransceiver(audio, { direction: 'sendonly' });
		pc.addTransceiver(video, { direction: 'sendonly' });
	}, {
		renegotiate: (pc) => {
			const courseware = video.clone();
			pc.addTransceiver(courseware, { direction: 'sendonly' });
			pc.getTransceivers()[0].direction = 'inactive';
		},
		restart: true,
	});
	media.getTracks().forEach((t) => t.stop());
	return out;
}

async function captureSdp(browser) {
	const page = await browser.newPage('sdp');
	await page.goto(await blankOrigin());
	const sdps = await page.evaluate(sdpVariants);
	for (const [name, sdp] of Object.entries(sdps))
		await save('sdp', `chromium-${name}.sdp`, sdp);
	await page.close();
}

// ---- The lesson WebSocket: what the real pages send a real server -----------------------

async function captureLesson(browser) {
	const server = await startServer();
	const sent = [];
	const record = (page) => page.on('websocket', (ws) =>
		ws.on('framesent', ({ payload }) => sent.push(String(payload))));
	try {
		await sniff('udp-server', async () => {
			const teacher = await browser.newPage('teacher');
			record(teacher);
			await openLessonTeacher(teacher, server.origin, 'seeds', await server.token('seeds', 'teacher'),
				{ size: '640x360' });
			await teacher.waitForFunction(() => window.ketang.timings.published, null, { timeout: 15000 });
			await teacher.click('#share');
			const room = await browser.newPage('classroom');
			record(room);
			await openClassroom(room, server.origin, 'seeds', await server.token('seeds', 'classroom'), '双峰 Room A');
			await sleep(4000);
			await room.reload();
			await sleep(4000);
			await room.close();
			await teacher.close();
		});
	} finally {
		await server.stop();
	}
	let i = 0;
	for (const text of sent) {
		await save('signal', `chromium-${String(i++).padStart(3, '0')}.json`, text);
		const msg = JSON.parse(text);
		if (msg.sdp)
			await save('sdp', `chromium-lesson-${msg.type}-${i}.sdp`, msg.sdp);
	}
}

// ---- Plaintext RTP and RTCP between two peer connections ---------------------------------

// Runs in the page: pc1 sends camera and microphone to pc2 for @ms, with @codec first
// (and RED for audio); without transport-cc when @remb, so REMB and abs-send-time are used.
async function plainCall({ codec, remb, ms }) {
	const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
	const pc1 = new RTCPeerConnection();
	const pc2 = new RTCPeerConnection();
	pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
	pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);
	const prefer = (t, kind, mime) => {
		const codecs = RTCRtpReceiver.getCapabilities(kind).codecs;
		t.setCodecPreferences([...codecs.filter((c) => mime.test(c.mimeType)),
			...codecs.filter((c) => !mime.test(c.mimeType))]);
	};
	prefer(pc1.addTransceiver(media.getAudioTracks()[0], { direction: 'sendonly' }), 'audio', /red/i);
	prefer(pc1.addTransceiver(media.getVideoTracks()[0], { direction: 'sendonly' }), 'video', new RegExp(codec, 'i'));
	const munge = (sdp) => remb ? sdp.split('\r\n').filter((l) => !/transport-cc|transport-wide-cc/.test(l)).join('\r\n') : sdp;
	const offer = await pc1.createOffer();
	await pc1.setLocalDescription(offer);
	await pc2.setRemoteDescription({ type: 'offer', sdp: munge(offer.sdp) });
	const answer = await pc2.createAnswer();
	await pc2.setLocalDescription(answer);
	await pc1.setRemoteDescription({ type: 'answer', sdp: munge(answer.sdp) });
	await new Promise((resolve) => setTimeout(resolve, ms));
	const stats = {};
	(await pc2.getStats()).forEach((r) => {
		if (r.type === 'inbound-rtp')
			stats[r.kind] = { packets: r.packetsReceived, lost: r.packetsLost, nack: r.nackCount, pli: r.pliCount };
	});
	pc1.close();
	pc2.close();
	media.getTracks().forEach((t) => t.stop());
	return stats;
}

async function capturePlain() {
	const browser = await launchBrowser({ args: ['--disable-webrtc-encryption'] });
	// No sch_netem in this kernel (tests/netem/netem.sh): nft drops 5 % of UDP instead.
	await run('nft', ['add table inet kt_seeds']);
	await run('nft', ['add chain inet kt_seeds in { type filter hook input priority 0; policy accept; }']);
	await run('nft', ['add rule inet kt_seeds in iifname lo meta l4proto udp numgen random mod 100 < 5 drop']);
	try {
		await sniff('udp-plain', async () => {
			const page = await browser.newPage('plain');
			await page.goto(await blankOrigin());
			for (const call of [{ codec: 'vp8', remb: false, ms: 6000 }, { codec: 'h264', remb: false, ms: 6000 },
				{ codec: 'vp8', remb: true, ms: 6000 }])
				console.log(`plain ${JSON.stringify(call)}: ${JSON.stringify(await page.evaluate(plainCall, call))}`);
		});
	} finally {
		await run('nft', ['delete table inet kt_seeds']);
		await browser.close();
	}
}

const browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
try {
	await captureSdp(browser);
	if (process.env.KETANG_BIN)
		await captureLesson(browser);
	else
		console.error('chromium-seeds: KETANG_BIN is not set: no lesson messages, no DTLS');
} finally {
	await browser.close();
}
await capturePlain();
console.log(`chromium-seeds: ${saved} files and the datagrams in ${OUT}`);
