// Lesson sources that are not browsers (issue 6 items 3 and 5), end to end: a
// lesson scheduled through the API with an RTSP camera as the teacher's camera
// (tests/e2e/tools/rtsp-camera, libgstrtspserver) and an RTMP encoder as the
// courseware (GStreamer's rtmp2sink pushing to nginx-rtmp, which Ketang pulls
// from). Both are transcoded into the ladder [ingest] ladder sets. Two real
// /classroom pages in Chromium:
//   - B on a clean link decodes both, at the top rung (360 lines);
//   - A behind the `weak` profile (300 kbit/s, 150 ms, 5 % loss) decodes the
//     lowest rung (180 lines) and nothing larger once it settled.
// Then the camera is killed: the pages are told it is reconnecting while the
// courseware keeps flowing, and once the camera is back it is live again and
// its pictures flow anew. Last, the /publish page sending one video stream
// (?simulcast=0, as OBS over WHIP does) is transcoded too: a /watch viewer on
// the clean link decodes the top rung, one behind `weak` the lowest.
//
// Three namespaces from bench/qoe/lib/topology.mjs (srv: Ketang, the camera,
// nginx, the encoder; pub: B; cls: A behind the profile). Root only.
//   node --test tests/netem/test-ingest-ladder.mjs
//     (KETANG_BIN, KT_NETEM_BIN, KT_RTSP_CAMERA)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ADDR, ROOT, chromiumIn, makeTopology, spawnIn, waitOutput } from '../../bench/qoe/lib/topology.mjs';
import { FLAGS, loadPlaywright } from '../e2e/lib/browser.mjs';
import { assertLessonReceives, openClassroom, openWatcher, startPublisher, waitForState }
	from '../e2e/lib/pages.mjs';

const run = promisify(execFile);
const PORT = 8443;
const RTSP_PORT = 8554;
const RTMP_PORT = 1935;
const KETANG = process.env.KETANG_BIN || join(ROOT, 'build/ketang');
const CAMERA = process.env.KT_RTSP_CAMERA || join(ROOT, 'build/tests/e2e/rtsp-camera');
// Two rungs: 360 lines at 400 kbit/s does not fit `weak` beside the audio, 180 at 100 does.
const LADDER = '640x360@400,320x180@100';
const TOP = 360;
const LOWEST = 180;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let topo;
let dir;
let ketang; // { token } once started
const procs = {};
const browsers = [];

function startCamera() {
	procs.camera = spawnIn(topo.ns.srv, CAMERA, ['--address', '127.0.0.1', '--port', String(RTSP_PORT),
		'--size', '640x360', '--fps', '15', '--busy']);
	return waitOutput(procs.camera, /rtsp-camera: (rtsp:\S+)/);
}

async function stopProc(name) {
	const p = procs[name];
	if (!p)
		return;
	p.child.kill('SIGTERM');
	await p.exited;
	delete procs[name];
}

/** nginx with the RTMP module, then an encoder pushing H.264 + AAC to it (as OBS would). */
async function startRtmp() {
	const conf = join(dir, 'nginx.conf');
	await writeFile(conf, 'load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\n' +
		`daemon off; master_process off; pid ${dir}/nginx.pid; error_log stderr info;\n` +
		'events {}\n' +
		`rtmp { server { listen 127.0.0.1:${RTMP_PORT}; application live { live on; record off; } } }\n`);
	procs.nginx = spawnIn(topo.ns.srv, 'nginx', ['-p', dir, '-c', conf, '-e', 'stderr']);
	await waitOutput(procs.nginx, /start worker process|using the "epoll"/, 10000).catch(() => sleep(500));
	procs.encoder = spawnIn(topo.ns.srv, 'gst-launch-1.0', ['-q',
		'videotestsrc', 'is-live=true', 'pattern=zone-plate', 'kx2=20', 'ky2=20', 'kt=1', '!', 'video/x-raw,width=640,height=360,framerate=15/1',
		'!', 'x264enc', 'tune=zerolatency', 'speed-preset=ultrafast', 'key-int-max=30', '!', 'h264parse',
		'!', 'flvmux', 'name=m', 'streamable=true', '!', 'rtmp2sink', `location=rtmp://127.0.0.1:${RTMP_PORT}/live/slides`,
		'audiotestsrc', 'is-live=true', '!', 'audio/x-raw,rate=48000,channels=2', '!', 'voaacenc', '!', 'aacparse', '!', 'm.']);
}

async function startKetang() {
	const config = join(dir, 'ketang.ini');
	await writeFile(config, `[server]\nlisten=0.0.0.0:${PORT}\ndata_dir=${dir}/data\n` +
		`[media]\nice_addresses=${ADDR.srvPub},${ADDR.srvCls}\nice_tcp=false\n` +
		// Recording off: two ingests, two ladders and two browsers already fill 2 cores.
		'[recording]\nenabled=false\n[broadcast]\nhls=false\n' +
		`[ingest]\nladder=${LADDER}\n`);
	procs.ketang = spawnIn(topo.ns.srv, KETANG, ['serve', '--config', config],
		{ echo: !!process.env.KETANG_E2E_VERBOSE });
	await waitOutput(procs.ketang, /ketang: listening on/);
	const token = async (lesson, role) => (await run(KETANG, ['token', '--lesson', lesson, '--role', role,
		'--ttl', '3600', '--config', config, '--data-dir', `${dir}/data`])).stdout.trim();
	return { config, token };
}

/** POST /api/lessons from inside the server's namespace; resolves {status, body}. */
async function api(admin, body) {
	const { stdout } = await run('ip', ['netns', 'exec', topo.ns.srv, 'curl', '-sk', '-o', '-',
		'-w', '\n%{http_code}', '-X', 'POST', `https://${ADDR.srvPub}:${PORT}/api/lessons`,
		'-H', `Authorization: Bearer ${admin}`, '-H', 'Content-Type: application/json',
		'--data-binary', JSON.stringify(body)]);
	const at = stdout.lastIndexOf('\n');
	return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

async function launchIn(ns, name, args = []) {
	const { chromium } = await loadPlaywright();
	const context = await chromium.launchPersistentContext(await mkdtemp(join(dir, `profile-${name}-`)), {
		executablePath: await chromiumIn(ns, dir),
		headless: true,
		ignoreHTTPSErrors: true,
		args: [...FLAGS, ...args],
		viewport: { width: 800, height: 600 },
	});
	browsers.push(context);
	const page = await context.newPage();
	page.on('console', (m) => {
		if (process.env.KETANG_E2E_VERBOSE || m.type() === 'error')
			process.stderr.write(`[${name}] ${m.text()}\n`);
	});
	return page;
}

/** Decoded video of a lesson page: { 's1/camera': {frames, height}, ... } by sender and source. */
function decodedVideo(page) {
	return page.evaluate(async () => {
		const k = window.ketang;
		const out = {};
		if (!k.subscribePc)
			return out;
		(await k.subscribePc.getStats()).forEach((r) => {
			if (r.type !== 'inbound-rtp' || r.kind !== 'video')
				return;
			const s = k.streams.find((x) => x.mid === r.mid);
			if (!s)
				return;
			const key = `${s.participant}/${s.source}`;
			const e = out[key] || { frames: 0, height: 0 };
			e.frames += r.framesDecoded || 0;
			if (r.frameHeight)
				e.height = r.frameHeight;
			out[key] = e;
		});
		return out;
	});
}

async function closeBrowsers() {
	while (browsers.length)
		await browsers.pop().close().catch(() => {});
}

const feedState = (page, id) => page.evaluate((i) => (window.ketang.feeds.find((f) => f.id === i) || {}).state, id);

async function waitFeedState(page, id, state, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	let seen;
	while (Date.now() < deadline) {
		seen = await feedState(page, id);
		if (seen === state)
			return;
		await sleep(200);
	}
	assert.fail(`source ${id} never ${state} within ${timeoutMs} ms (last: ${seen}); feeds: ` +
		JSON.stringify(await page.evaluate(() => window.ketang.feeds)));
}

before(async () => {
	dir = await mkdtemp(join(tmpdir(), 'kt-ingest-ladder-'));
	topo = await makeTopology();
});

after(async () => {
	if (process.env.KETANG_E2E_VERBOSE)
		for (const [name, p] of Object.entries(procs))
			process.stderr.write(`--- ${name} ---\n${p.output().slice(-3000)}\n`);
	for (const b of browsers)
		await b.close().catch(() => {});
	for (const name of Object.keys(procs))
		await stopProc(name).catch(() => {});
	await topo.destroy().catch(() => {});
	if (!process.env.KETANG_E2E_KEEP)
		await rm(dir, { recursive: true, force: true });
});

test('RTSP and RTMP sources through the ladder: weak gets the lowest rung; a killed camera comes back',
	{ timeout: 240000 }, async () => {
		const [, rtspUrl] = await startCamera();
		await startRtmp();
		ketang = await startKetang();
		const { token } = ketang;
		const admin = await token('', 'admin');
		const created = await api(admin, {
			title: '双师课堂 ingest', starts_at: new Date().toISOString(), classrooms: ['A', 'B'],
			sources: [
				{ role: 'teacher', url: rtspUrl.replace('127.0.0.1', 'viewer:secret@127.0.0.1') },
				{ role: 'courseware', url: `rtmp://127.0.0.1:${RTMP_PORT}/live/slides`, name: '课件 OBS' },
			],
		});
		assert.equal(created.status, 201, created.body);
		const lesson = JSON.parse(created.body);
		// The API never shows a source's password.
		assert.deepEqual(lesson.sources.map((s) => s.role), ['teacher', 'courseware']);
		assert.ok(!lesson.sources[0].url.includes('secret'), lesson.sources[0].url);
		const bad = await api(admin, { title: 'x', starts_at: new Date().toISOString(),
			sources: [{ role: 'teacher', url: 'http://127.0.0.1/cam' }] });
		assert.equal(bad.status, 400, bad.body);
		assert.match(bad.body, /sources\[0\]\.url/);

		const classroom = await token(lesson.id, 'classroom');
		const pageB = await launchIn(topo.ns.pub, 'B');
		await openClassroom(pageB, `https://${ADDR.srvPub}:${PORT}`, lesson.id, classroom, 'B',
			{ size: '160x120', timeout: 30000 });
		await topo.shape('weak');
		const pageA = await launchIn(topo.ns.cls, 'A');
		await openClassroom(pageA, `https://${ADDR.srvCls}:${PORT}`, lesson.id, classroom, 'A',
			{ size: '160x120', timeout: 120000 });

		// Both sources appear in B, with the teacher camera's sound.
		await waitFeedState(pageB, 's1', 'live', 30000);
		await waitFeedState(pageB, 's2', 'live', 30000);
		await assertLessonReceives(pageB, 's1', 'camera', { timeout: 30000 });
		await assertLessonReceives(pageB, 's2', 'courseware', { timeout: 30000 });
		await assertLessonReceives(pageB, 's1', 'audio', { timeout: 30000 });
		// The classroom page shows them where a teacher's would be.
		assert.equal(await pageB.evaluate(() => document.getElementById('main-waiting').hidden), true);

		// A settles on the weak link, then is watched for 10 s.
		await assertLessonReceives(pageA, 's2', 'courseware', { timeout: 60000 });
		await sleep(15000);
		const a0 = await decodedVideo(pageA);
		const b0 = await decodedVideo(pageB);
		await sleep(10000);
		const a1 = await decodedVideo(pageA);
		const b1 = await decodedVideo(pageB);
		console.log(`A (weak): ${JSON.stringify(a1)}; B (clean): ${JSON.stringify(b1)}`);
		const flowing = (x0, x1) => Object.keys(x1).filter((k) => x1[k].frames > (x0[k] ? x0[k].frames : 0));
		const aFlowing = flowing(a0, a1);
		assert.ok(aFlowing.length > 0, `A decodes nothing on the weak link: ${JSON.stringify(a1)}`);
		for (const k of aFlowing)
			assert.equal(a1[k].height, LOWEST, `A (weak) decodes ${k} at ${a1[k].height} lines`);
		const bFlowing = flowing(b0, b1);
		assert.ok(bFlowing.includes('s1/camera') && bFlowing.includes('s2/courseware'),
			`B does not decode both sources: ${JSON.stringify(b1)}`);
		assert.ok(bFlowing.some((k) => b1[k].height === TOP), `B never at the top rung: ${JSON.stringify(b1)}`);

		// The camera dies: reported as reconnecting; the courseware keeps flowing.
		await stopProc('camera');
		await waitFeedState(pageB, 's1', 'reconnecting', 30000);
		const during = await decodedVideo(pageB);
		await sleep(3000);
		const during2 = await decodedVideo(pageB);
		assert.ok(during2['s2/courseware'].frames > during['s2/courseware'].frames,
			`the courseware stopped while the camera was down: ${JSON.stringify([during, during2])}`);
		// Back on the same address: live again, and its pictures flow anew.
		await startCamera();
		await waitFeedState(pageB, 's1', 'live', 60000);
		const back = await decodedVideo(pageB);
		await assertLessonReceives(pageB, 's1', 'camera', { timeout: 30000,
			since: { mid: (await pageB.evaluate(() => window.ketang.streams.find((s) => s.participant === 's1' &&
				s.source === 'camera').mid)), framesDecoded: back['s1/camera'].frames } });
		await closeBrowsers();
	});

/** A /watch page's decoded video: { frames, height }. */
function watchedVideo(page) {
	return page.evaluate(async () => {
		const out = { frames: 0, height: 0 };
		(await window.ketang.pc.getStats()).forEach((r) => {
			if (r.type === 'inbound-rtp' && r.kind === 'video') {
				out.frames += r.framesDecoded || 0;
				if (r.frameHeight)
					out.height = r.frameHeight;
			}
		});
		return out;
	});
}

test('a WHIP publisher without simulcast (as OBS sends) goes through the ladder', { timeout: 180000 }, async () => {
	if (!ketang)
		ketang = await startKetang();
	const lesson = 'whip-one-stream';
	const teacher = await ketang.token(lesson, 'teacher');
	const observer = await ketang.token(lesson, 'observer');
	// A camera that costs the encoders their whole rate (Chromium's own fake
	// camera is cheap enough for 360 lines to fit `weak`): 10 s of a moving zone
	// plate, looped.
	const y4m = join(dir, 'camera.y4m');
	await run('gst-launch-1.0', ['-q', 'videotestsrc', 'pattern=zone-plate', 'kx2=20', 'ky2=20', 'kt=1',
		'num-buffers=150', '!', 'video/x-raw,format=I420,width=640,height=360,framerate=15/1', '!', 'y4menc',
		'!', 'filesink', `location=${y4m}`]);
	const pub = await launchIn(topo.ns.pub, 'publisher', [`--use-file-for-fake-video-capture=${y4m}`]);
	await startPublisher(pub, `https://${ADDR.srvPub}:${PORT}`, lesson, teacher,
		{ size: '640x360', simulcast: false, timeout: 30000 });
	await waitOutput(procs.ketang, /whip-one-stream: the publisher sends one video stream: transcoded/, 10000);
	const clean = await launchIn(topo.ns.pub, 'viewer-clean');
	await openWatcher(clean, `https://${ADDR.srvPub}:${PORT}`, lesson, observer);
	await waitForState(clean, 'live', 30000);
	await topo.clear().catch(() => {}); // the first test may have shaped it
	await topo.shape('weak');
	const weak = await launchIn(topo.ns.cls, 'viewer-weak');
	await openWatcher(weak, `https://${ADDR.srvCls}:${PORT}`, lesson, observer, { timeout: 120000 });
	await waitForState(weak, 'live', 60000);
	await sleep(10000);
	const w0 = await watchedVideo(weak), c0 = await watchedVideo(clean);
	// 20 s: at 5 % loss the estimate may dip below the lowest rung for a
	// while, which pauses the video (by design) until it recovers.
	await sleep(20000);
	const w1 = await watchedVideo(weak), c1 = await watchedVideo(clean);
	console.log(`weak viewer: ${JSON.stringify(w1)}; clean viewer: ${JSON.stringify(c1)}`);
	assert.ok(c1.frames > c0.frames && w1.frames > w0.frames,
		`a viewer stopped decoding: ${JSON.stringify({ w0, w1, c0, c1 })}`);
	assert.equal(c1.height, TOP, 'the clean viewer is not at the top rung');
	assert.equal(w1.height, LOWEST, 'the weak viewer is not at the lowest rung');
	await closeBrowsers();
});
