// Soak: one long lesson while classrooms come and go, against the server under test
// (build-dev: ASan + UBSan + LeakSanitizer). Prints the server's RSS curve and what its
// log said, and fails on a leak report, a sanitizer error, an unclean exit, a steady
// participant whose picture stopped, or an RSS that kept growing.
//
// A teacher (camera, microphone, courseware) and one steady classroom stay all along;
// CYCLERS more classrooms take turns: every STEP seconds one of them leaves (its page
// closes: the socket and both connections go) or comes back (a fresh page opens its join
// link). Every SAMPLE seconds: the server's VmRSS, and the steady pair's decoded-frame
// counters, each of which must have grown since the last sample.
//
//   bench/soak/run.sh [MINUTES]      (default 30; builds build-dev first)
//
// Environment: KETANG_BIN (the server), SOAK_MINUTES, SOAK_STEP_S (10), SOAK_SAMPLE_S (30),
// SOAK_CYCLERS (2).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launchBrowser } from '../../tests/e2e/lib/browser.mjs';
import { request } from '../../tests/e2e/lib/http.mjs';
import { lessonInbound, openClassroom, openLessonTeacher, participantId }
	from '../../tests/e2e/lib/pages.mjs';
import { startServer } from '../../tests/e2e/lib/server.mjs';

const MINUTES = Number(process.env.SOAK_MINUTES || 30);
const STEP_S = Number(process.env.SOAK_STEP_S || 10);
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_S || 30);
const CYCLERS = Number(process.env.SOAK_CYCLERS || 2);
const LESSON = 'soak';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function rssKiB(pid) {
	const status = await readFile(`/proc/${pid}/status`, 'utf8');
	return Number(/^VmRSS:\s+(\d+)/m.exec(status)[1]);
}

/** The /metrics figures that explain a picture stopping on purpose. */
async function metrics(origin) {
	const { body } = await request(`${origin}/metrics`);
	const get = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(body)?.[1] || 0);
	return { pauses: get('ketang_video_pauses_total'), switches: get('ketang_layer_switches_total'),
		subscribers: get('ketang_subscribers') };
}

/** Log lines at warning level or worse (GLib "** (…) WARNING", "CRITICAL", sanitizers). */
function problemLines(log) {
	return log.split('\n').filter((l) =>
		/WARNING|CRITICAL|ERROR|runtime error|Sanitizer/.test(l));
}

const server = await startServer({
	readyTimeoutMs: 60000,
	// Recording stays on: the recorder's files open and close as classrooms come and go.
	extraConfig: '[lesson]\nempty_timeout = 0\n',
});
const browser = await launchBrowser();
const started = Date.now();
const samples = [];
const stalls = [];
let joins = 0, leaves = 0;
try {
	const teacher = await browser.newPage('teacher');
	await openLessonTeacher(teacher, server.origin, LESSON, await server.token(LESSON, 'teacher'),
		{ timeout: 60000 });
	await teacher.click('#share');
	const steady = await browser.newPage('steady');
	await openClassroom(steady, server.origin, LESSON, await server.token(LESSON, 'classroom'),
		'Steady', { timeout: 60000 });
	const ids = {
		teacher: await steady.evaluate(() =>
			Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id),
	};
	for (let i = 0; !ids.steady && i < 100; i++) {
		ids.steady = await participantId(teacher, 'Steady');
		await sleep(100);
	}
	assert.ok(ids.teacher && ids.steady, `ids: ${JSON.stringify(ids)}`);

	const cyclers = new Array(CYCLERS).fill(null);
	const classroomToken = await server.token(LESSON, 'classroom', 4 * 3600);
	let turn = 0;
	let last = null;
	let nextSample = Date.now();
	const end = started + MINUTES * 60000;

	async function sample() {
		const frames = {
			steadyGetsTeacher: (await lessonInbound(steady, ids.teacher, 'camera'))?.framesDecoded || 0,
			teacherGetsSteady: (await lessonInbound(teacher, ids.steady, 'camera'))?.framesDecoded || 0,
		};
		const s = {
			t: Math.round((Date.now() - started) / 1000),
			rss: await rssKiB(server.pid),
			rooms: 1 + cyclers.filter(Boolean).length,
			...frames,
			...await metrics(server.origin),
		};
		samples.push(s);
		console.log(`t=${String(s.t).padStart(5)} s  RSS ${(s.rss / 1024).toFixed(1).padStart(7)} MiB` +
			`  classrooms ${s.rooms}  frames steady<-teacher ${s.steadyGetsTeacher}` +
			`  teacher<-steady ${s.teacherGetsSteady}  joins ${joins} leaves ${leaves}` +
			`  video pauses ${s.pauses} layer switches ${s.switches}`);
		// A stop is counted, not thrown: the run goes on so the curve and the leak check
		// still come out; it fails at the end.
		if (last && s.steadyGetsTeacher <= last.steadyGetsTeacher)
			stalls.push(`t=${s.t}: the steady classroom's teacher picture stopped`);
		if (last && s.teacherGetsSteady <= last.teacherGetsSteady)
			stalls.push(`t=${s.t}: the teacher's picture of the steady classroom stopped`);
		last = s;
	}

	while (Date.now() < end) {
		if (Date.now() >= nextSample) {
			await sample();
			nextSample += SAMPLE_S * 1000;
		}
		const i = turn++ % CYCLERS;
		if (cyclers[i]) {
			await cyclers[i].close();
			cyclers[i] = null;
			leaves++;
		} else {
			cyclers[i] = await browser.newPage(`cycler${i}`);
			await openClassroom(cyclers[i], server.origin, LESSON, classroomToken, `Room ${i + 1}`,
				{ timeout: 30000 });
			joins++;
		}
		await sleep(STEP_S * 1000);
	}
	await sample();
	for (const c of cyclers)
		if (c)
			await c.close();
	assert.deepEqual(browser.problems, [], 'page errors');
} catch (e) {
	await browser.close();
	await server.kill(); // nothing more to learn from it
	throw e;
}
await browser.close();

// SIGTERM: a clean exit, LeakSanitizer's verdict included (it makes the status non-zero).
let stopError = null;
try {
	await server.stop({ timeoutMs: 60000, keepData: false });
} catch (e) {
	stopError = e;
}
const problems = problemLines(server.log());
console.log(`\n${joins} joins, ${leaves} leaves in ${((Date.now() - started) / 60000).toFixed(1)} min`);
console.log('RSS curve (MiB):');
const max = Math.max(...samples.map((s) => s.rss));
for (const s of samples)
	console.log(`${String(s.t).padStart(6)} s ${(s.rss / 1024).toFixed(1).padStart(7)} ` +
		'#'.repeat(Math.round(50 * s.rss / max)));
console.log(`\nserver log lines at warning level or worse: ${problems.length}`);
for (const l of problems.slice(0, 40))
	console.log(`  ${l}`);
console.log(`steady pictures that stopped between samples: ${stalls.length}`);
for (const x of stalls)
	console.log(`  ${x}`);
if (stopError)
	throw stopError;
assert.deepEqual(stalls, [], 'a steady picture stopped');
// Stable: the last third's mean within 10 % of the middle third's (warm-up excluded).
const third = Math.floor(samples.length / 3);
if (third >= 2) {
	const mean = (a) => a.reduce((x, s) => x + s.rss, 0) / a.length;
	const mid = mean(samples.slice(third, 2 * third));
	const late = mean(samples.slice(2 * third));
	console.log(`RSS mean: middle third ${(mid / 1024).toFixed(1)} MiB, last third ` +
		`${(late / 1024).toFixed(1)} MiB (${(100 * (late - mid) / mid).toFixed(1)} %)`);
	assert.ok(late <= mid * 1.10, 'RSS kept growing');
}
