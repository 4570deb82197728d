// The browser half of bench/qoe/janus-smoke.sh (run it through that script:
// it sets up the namespaces and Janus). One headless Chromium, two pages on a
// tiny http://127.0.0.1 page (a secure context, so getUserMedia works) with
// janus-client.js injected: the publisher sends its fake 640x480 camera with
// three VP8 simulcast layers + Opus, the watcher subscribes. Prints the
// watcher's and the publisher's getStats over SECONDS, then forces substream
// 0 and shows the resolution drop. Exits non-zero if a check fails.
//
//   node janus-smoke.mjs --janus http://10.79.0.1:8088/janus --room 1234 --seconds 10

import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values: opt } = parseArgs({ options: {
	janus: { type: 'string', default: 'http://10.79.0.1:8088/janus' },
	room: { type: 'string', default: '1234' },
	seconds: { type: 'string', default: '10' },
	width: { type: 'string', default: '640' },
	height: { type: 'string', default: '480' },
} });
const room = Number(opt.room);
const seconds = Number(opt.seconds);
const width = Number(opt.width), height = Number(opt.height);

// Chromium's flags for WebRTC tests (PLATFORM.md, tests/e2e/lib/browser.mjs),
// plus autoplay of the watcher's unmuted <audio>.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync',
	'--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
	'--allow-loopback-in-peer-connection', '--disable-renderer-backgrounding',
	'--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
	'--autoplay-policy=no-user-gesture-required'];

/** playwright-core from tests/e2e/node_modules, else from NODE_PATH. */
function loadPlaywright() {
	const require = createRequire(join(root, 'tests', 'e2e', 'package.json'));
	try {
		return require('playwright-core');
	} catch (err) {
		throw new Error('playwright-core not found: run `npm ci` in tests/e2e, or set NODE_PATH to a ' +
			`node_modules that has it (e.g. /work/main/tests/e2e/node_modules). (${err.message})`);
	}
}

/** A blank page on http://127.0.0.1:PORT/ for the client to run in. */
function servePage() {
	const server = http.createServer((req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
		res.end('<!doctype html><meta charset="utf-8"><title>Janus QoE</title><body></body>\n');
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- getStats, reduced in the page ----

/** Watcher: inbound video + audio totals (cumulative counters). */
function watcherStats() {
	return window.ktJanusWatchPc.getStats().then((report) => {
		const out = { t: performance.now() };
		report.forEach((s) => {
			if (s.type !== 'inbound-rtp')
				return;
			if (s.kind === 'video')
				out.video = { w: s.frameWidth, h: s.frameHeight, fps: s.framesPerSecond, bytes: s.bytesReceived,
					decoded: s.framesDecoded, dropped: s.framesDropped, freezes: s.freezeCount,
					freezeSec: s.totalFreezesDuration, lost: s.packetsLost, nacks: s.nackCount, plis: s.pliCount,
					keyframes: s.keyFramesDecoded };
			else if (s.kind === 'audio')
				out.audio = { bytes: s.bytesReceived, concealed: s.concealedSamples, samples: s.totalSamplesReceived,
					lost: s.packetsLost };
		});
		return out;
	});
}

/** Publisher: one entry per outbound video encoding (rid). */
function publisherStats() {
	return window.ktJanusPublishPc.getStats().then((report) => {
		const out = { t: performance.now(), layers: {} };
		report.forEach((s) => {
			if (s.type === 'outbound-rtp' && s.kind === 'video')
				out.layers[s.rid || '-'] = { w: s.frameWidth, h: s.frameHeight, fps: s.framesPerSecond,
					bytes: s.bytesSent, rtx: s.retransmittedBytesSent, target: s.targetBitrate, active: s.active,
					limit: s.qualityLimitationReason };
			else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded')
				out.bwe = s.availableOutgoingBitrate;
		});
		return out;
	});
}

/** What Janus's SDP says about Opus FEC, VP8 feedback and simulcast (in the page). */
function sdpSummary() {
	const pc = window.ktJanusWatchPc || window.ktJanusPublishPc;
	const lines = pc.remoteDescription.sdp.split('\r\n');
	const pt = (codec) => (lines.find((l) => l.startsWith('a=rtpmap:') && l.includes(` ${codec}/`)) || '')
		.replace(/^a=rtpmap:(\d+) .*/, '$1');
	const opus = pt('opus'), vp8 = pt('VP8');
	const fmtp = lines.find((l) => l.startsWith(`a=fmtp:${opus} `));
	const fb = lines.filter((l) => l.startsWith(`a=rtcp-fb:${vp8} `)).map((l) => l.slice(l.indexOf(' ') + 1));
	const sim = lines.find((l) => l.startsWith('a=simulcast:'));
	return `opus ${fmtp ? fmtp.slice(fmtp.indexOf(' ') + 1) : '-'}; VP8 rtcp-fb ${fb.join(', ')}` +
		(sim ? `; ${sim.slice(2)}` : '');
}

const kbps = (b1, b0, t1, t0) => Math.round(((b1 - b0) * 8) / (t1 - t0));	// bytes, ms -> kbit/s
const fmt = (n, d = 1) => (n === undefined || n === null ? '-' : Number(n).toFixed(d));

function printWatcher(label, a, b) {
	const v = b.video, v0 = a.video;
	console.log(`${label} (watcher, ${fmt((b.t - a.t) / 1000)} s):`);
	console.log(`  video ${v.w}x${v.h} @ ${fmt(v.fps)} fps, ${kbps(v.bytes, v0.bytes, b.t, a.t)} kbit/s, ` +
		`frames decoded ${v.decoded - v0.decoded}, dropped ${v.dropped - v0.dropped}, ` +
		`freezes ${v.freezes - v0.freezes} (${fmt(v.freezeSec - v0.freezeSec, 3)} s), ` +
		`lost ${v.lost - v0.lost}, NACKs ${v.nacks - v0.nacks}, PLIs ${v.plis - v0.plis}, ` +
		`keyframes ${v.keyframes - v0.keyframes}; since start: freezes ${v.freezes} (${fmt(v.freezeSec, 3)} s)`);
	const au = b.audio, a0 = a.audio;
	if (au) {
		const samples = au.samples - a0.samples, concealed = au.concealed - a0.concealed;
		console.log(`  audio ${kbps(au.bytes, a0.bytes, b.t, a.t)} kbit/s, concealed ${concealed} of ` +
			`${samples} samples (${fmt(samples ? (100 * concealed) / samples : 0, 2)} %), lost ${au.lost - a0.lost}`);
	}
}

function printPublisher(a, b) {
	console.log(`publisher outbound video (${fmt((b.t - a.t) / 1000)} s), bandwidth estimate ` +
		`${b.bwe ? Math.round(b.bwe / 1000) : '-'} kbit/s:`);
	for (const rid of Object.keys(b.layers).sort()) {
		const l = b.layers[rid], l0 = a.layers[rid] || { bytes: 0, rtx: 0 };
		console.log(`  rid ${rid}: ${l.w ?? '-'}x${l.h ?? '-'} @ ${fmt(l.fps)} fps, ` +
			`${kbps(l.bytes, l0.bytes, b.t, a.t)} kbit/s (retransmitted ${kbps(l.rtx, l0.rtx, b.t, a.t)}), ` +
			`target ${l.target ? Math.round(l.target / 1000) : '-'} kbit/s, active ${l.active}, ` +
			`limited by ${l.limit}`);
	}
}

/** Polls @fn in @page every 250 ms until @ok(result), at most @ms. */
async function pollUntil(page, fn, ok, ms) {
	const end = Date.now() + ms;
	for (;;) {
		const r = await page.evaluate(fn);
		if (ok(r))
			return r;
		if (Date.now() > end)
			return null;
		await new Promise((res) => setTimeout(res, 250));
	}
}

const failures = [];
const check = (cond, what) => {
	if (!cond)
		failures.push(what);
	console.log(`  check: ${what}: ${cond ? 'ok' : 'FAILED'}`);
};

// libwebrtc sends fewer simulcast layers than asked below 960x540 (its
// resolution-based layer limit: 2 layers at 640x480, the top one stays
// unsent). For a smaller camera the smoke lifts that limit, and says so.
const extraArgs = (process.env.KETANG_QOE_CHROMIUM_ARGS || '').split(' ').filter(Boolean);
if (width * height < 960 * 540 && !extraArgs.some((a) => a.startsWith('--force-fieldtrials'))) {
	extraArgs.push('--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/');
	console.log(`${width}x${height} < 960x540: Chromium started with ${extraArgs.at(-1)} ` +
		'(otherwise it sends 2 of the 3 layers)');
}

const { chromium } = loadPlaywright();
const server = await servePage();
const pageUrl = `http://127.0.0.1:${server.address().port}/`;
const userDataDir = await mkdtemp(join(tmpdir(), 'janus-qoe-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
	executablePath: process.env.KETANG_CHROMIUM || '/usr/bin/chromium',
	headless: true,
	args: FLAGS.concat(extraArgs),
	viewport: { width: 480, height: 360 },
});
try {
	const newPage = async (name) => {
		const page = await context.newPage();
		page.on('console', (m) => {
			if (m.type() === 'error' || process.env.KETANG_QOE_VERBOSE)
				process.stderr.write(`[${name} console.${m.type()}] ${m.text()}\n`);
		});
		page.on('pageerror', (e) => failures.push(`${name}: uncaught ${e.message}`));
		await page.goto(pageUrl);
		await page.addScriptTag({ path: join(here, 'janus-client.js') });
		return page;
	};
	const pub = await newPage('publisher');
	const watch = await newPage('watcher');

	let t0 = Date.now();
	const feed = await pub.evaluate(([url, r, w, h]) => window.ktJanusPublish(url, { room: r, width: w, height: h,
		simulcast: true }), [opt.janus, room, width, height]);
	console.log(`published: feed ${feed} in ${Date.now() - t0} ms`);
	console.log(`  Janus's answer: ${await pub.evaluate(sdpSummary)}`);
	t0 = Date.now();
	const streams = await watch.evaluate(([url, r, f]) => window.ktJanusWatch(url, { room: r, feed: f }),
		[opt.janus, room, feed]);
	console.log(`watching: ${streams.map((s) => `${s.type} mid ${s.mid} ${s.codec ?? ''}` +
		`${s.simulcast ? ' (simulcast)' : ''}`).join(', ')}; connected in ${Date.now() - t0} ms`);
	console.log(`  Janus's offer: ${await watch.evaluate(sdpSummary)}`);

	// Janus relays the highest layer it gets (substream 2 is its default
	// target); the publisher's bandwidth estimate ramps up to it first.
	t0 = Date.now();
	const top = await pollUntil(watch, watcherStats, (s) => s.video && s.video.w === width && s.video.fps > 0,
		30000);
	console.log(`top layer (${width}x${height}) at the watcher after ${Date.now() - t0} ms`);
	check(top !== null, `watcher decodes ${width}x${height} (substream 2)`);

	const [w0, p0] = [await watch.evaluate(watcherStats), await pub.evaluate(publisherStats)];
	await new Promise((res) => setTimeout(res, seconds * 1000));
	const [w1, p1] = [await watch.evaluate(watcherStats), await pub.evaluate(publisherStats)];
	printWatcher('default layer', w0, w1);
	printPublisher(p0, p1);
	const sending = Object.entries(p1.layers).filter(([rid, l]) => l.bytes > (p0.layers[rid]?.bytes ?? 0));
	check(sending.length === 3, `publisher sends 3 layers (${sending.map(([rid]) => rid).join(',')})`);
	const widths = Object.fromEntries(Object.entries(p1.layers).map(([rid, l]) => [rid, l.w]));
	check(widths.q === width / 4 && widths.h === width / 2 && widths.f === width,
		`layer widths q/h/f = ${width / 4}/${width / 2}/${width} (${widths.q}/${widths.h}/${widths.f})`);
	check(w1.video.decoded > w0.video.decoded && w1.video.fps > 0, 'watcher video is decoding');
	check(w1.audio && w1.audio.samples > w0.audio.samples, 'watcher audio is playing out');

	// Force the lowest layer.
	t0 = Date.now();
	const conf = await watch.evaluate(() => window.ktJanusWatchConfigure({ substream: 0 }));
	console.log(`configure substream 0: ${JSON.stringify(conf)}`);
	const low = await pollUntil(watch, watcherStats, (s) => s.video && s.video.w === width / 4, 15000);
	console.log(`lowest layer (${width / 4}x${height / 4}) at the watcher after ${Date.now() - t0} ms`);
	check(low !== null, `watcher drops to ${width / 4}x${height / 4} after substream 0`);
	const w2 = await watch.evaluate(watcherStats);
	await new Promise((res) => setTimeout(res, Math.min(seconds, 5) * 1000));
	const w3 = await watch.evaluate(watcherStats);
	printWatcher('substream 0', w2, w3);
	check(w3.video.w === width / 4 && w3.video.h === height / 4, `watcher at ${w3.video.w}x${w3.video.h}`);

	const evs = await watch.evaluate(() => window.ktJanusEvents.map((e) => {
		const d = e.data || {};
		const what = ['substream', 'temporal', 'configured', 'started'].filter((k) => d[k] !== undefined)
			.map((k) => `${k} ${d[k]}`);
		if (e.type)
			what.push(`${e.type}${e.receiving !== undefined ? ` ${e.receiving}` : ''}`);
		return `${e.janus}${what.length ? `(${what.join(', ')})` : ''}`;
	}));
	console.log(`Janus events seen by the watcher page: ${evs.join(', ') || '-'}`);
	await pub.evaluate(() => window.ktJanusClose());
	await watch.evaluate(() => window.ktJanusClose());
} catch (err) {
	failures.push(String(err && err.stack ? err.stack : err));
} finally {
	await context.close();
	await rm(userDataDir, { recursive: true, force: true });
	server.close();
}
if (failures.length) {
	console.error(`janus-smoke: FAILED:\n  ${failures.join('\n  ')}`);
	process.exit(1);
}
console.log('janus-smoke: ok');
