// Fault test (issue 7 item 4): a classroom's network is cut for 15 s mid-lesson.
//
// Three namespaces (bench/qoe/lib/topology.mjs): srv runs Ketang; pub runs one
// Chromium with the /teacher page and classroom B; cls runs a second Chromium
// with classroom A behind its own veth. A's link is taken down (`ip link set
// kq-cs down` in cls) for 15 s and brought back. Asserts that:
//   - A notices (its page goes 'reconnecting') and, once the link is back,
//     decodes teacher frames again within 5 s (prints the measured time);
//   - the teacher and B see no interruption: sampled each second, the teacher's
//     decoded frames of B's camera and B's decoded frames of the teacher's
//     camera (and both audios' packets) rise in every 2-s window from before
//     the cut to after A is back (prints the counters).
//
// Root only (ip netns):  node --test tests/netem/test-link-cut.mjs   (KETANG_BIN)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { assertLessonReceives, lessonInbound, openClassroom, openLessonTeacher, participantId,
	waitForLessonState } from '../e2e/lib/pages.mjs';
import { startLesson } from './lib-lesson.mjs';

const run = promisify(execFile);
const LESSON = 'fault-link-cut';
const CUT_MS = 15000;
const REJOIN_MS = 5000; // A must decode the teacher again this soon after the link returns
const WINDOW_MS = 2000; // no window this long without a new frame for the others

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let lesson; // startLesson()
let topo;
let ketang;

/** The series sampled each second: what must not stop while A is cut off. */
async function sampleOthers(teacher, roomB, ids) {
	const [bCam, bAudio, tCam, tAudio] = await Promise.all([
		lessonInbound(teacher, ids.B, 'camera'), lessonInbound(teacher, ids.B, 'audio'),
		lessonInbound(roomB, ids.teacher, 'camera'), lessonInbound(roomB, ids.teacher, 'audio')]);
	return {
		'teacher <- B camera (frames)': bCam?.framesDecoded ?? 0,
		'teacher <- B audio (packets)': bAudio?.packetsReceived ?? 0,
		'B <- teacher camera (frames)': tCam?.framesDecoded ?? 0,
		'B <- teacher audio (packets)': tAudio?.packetsReceived ?? 0,
	};
}

/** The teacher's outbound video: what it encoded and the keyframe requests it got. */
function teacherSends(teacher) {
	return teacher.evaluate(async () => [...(await window.ketang.publishPc.getStats()).values()]
		.filter((r) => r.type === 'outbound-rtp' && r.kind === 'video')
		.map(({ mid, rid, ssrc, framesEncoded, keyFramesEncoded, pliCount, firCount, active,
			qualityLimitationReason }) => ({ mid, rid, ssrc, framesEncoded, keyFramesEncoded, pliCount,
			firCount, active, qualityLimitationReason }))).catch((e) => String(e));
}

/**
 * The gaps of one series: every window of WINDOW_MS (from one sample to the first one at
 * least WINDOW_MS later) in which the counter did not rise.
 */
function stalls(samples, key) {
	const out = [];
	for (let i = 0; i < samples.length; i++) {
		const j = samples.findIndex((s) => s.at >= samples[i].at + WINDOW_MS);
		if (j < 0)
			break;
		if (samples[j].v[key] <= samples[i].v[key])
			out.push(`${samples[i].at - samples[0].at}..${samples[j].at - samples[0].at} ms: ` +
				`${samples[i].v[key]} -> ${samples[j].v[key]}`);
	}
	return out;
}

before(async () => {
	lesson = await startLesson('link-cut', LESSON);
	({ topo, ketang } = lesson);
});

after(async () => {
	await lesson?.close();
});

test('a classroom cut off for 15 s rejoins within 5 s; the others never stop', { timeout: 150000 }, async () => {
	const pubOrigin = lesson.origin('pub');
	const newPub = await lesson.launchIn(topo.ns.pub, 'pub');
	const newCls = await lesson.launchIn(topo.ns.cls, 'cls');
	const teacher = await newPub('teacher');
	await openLessonTeacher(teacher, pubOrigin, LESSON, await ketang.token('teacher'), { timeout: 30000 });
	const roomB = await newPub('B');
	await openClassroom(roomB, pubOrigin, LESSON, await ketang.token('classroom'), 'Room B', { timeout: 30000 });
	const roomA = await newCls('A');
	await openClassroom(roomA, lesson.origin('cls'), LESSON, await ketang.token('classroom'),
		'Room A', { timeout: 30000 });

	const ids = { teacher: await roomB.evaluate(() =>
		Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id) };
	await teacher.waitForFunction(() => document.querySelectorAll('#gallery .tile').length === 2, null,
		{ timeout: 20000 });
	ids.A = await participantId(teacher, 'Room A');
	ids.B = await participantId(teacher, 'Room B');
	assert.ok(ids.teacher && ids.A && ids.B, JSON.stringify(ids));
	for (const [page, from] of [[roomA, ids.teacher], [roomB, ids.teacher], [teacher, ids.A], [teacher, ids.B]]) {
		await assertLessonReceives(page, from, 'camera', { timeout: 30000 });
		await assertLessonReceives(page, from, 'audio', { timeout: 30000 });
	}

	// Sampled once a second from before the cut until A is back and settled.
	const samples = [];
	let sampling = true;
	const sampler = (async () => {
		while (sampling) {
			const next = Date.now() + 1000;
			samples.push({ at: Date.now(), v: await sampleOthers(teacher, roomB, ids) });
			await sleep(Math.max(0, next - Date.now()));
		}
	})();

	let upAt = 0;
	let lostAfterMs = null;
	let rejoinMs = null;
	let rejoinSeen = null;
	try {
		await sleep(4000);
		const cutAt = Date.now();
		await run('ip', ['netns', 'exec', topo.ns.cls, 'ip', 'link', 'set', 'kq-cs', 'down']);
		try {
			await waitForLessonState(roomA, 'reconnecting', CUT_MS);
			lostAfterMs = Date.now() - cutAt;
			await sleep(Math.max(0, cutAt + CUT_MS - Date.now()));
		} finally {
			upAt = Date.now(); // from the command on: the link may be up before it returns
			await run('ip', ['netns', 'exec', topo.ns.cls, 'ip', 'link', 'set', 'kq-cs', 'up']);
		}
		// The page's own clock says when its first teacher frame after the rejoin was
		// decoded (classroom-app.js teacherFrameAt); waited for longer than the limit so
		// that a slow rejoin is measured, not only failed.
		try {
			await roomA.waitForFunction((since) => {
				const at = window.ketang.timings.teacherFrameAt;
				return at !== null && performance.timeOrigin + at > since;
			}, upAt, { timeout: 20000, polling: 100 });
			const t = await roomA.evaluate(() => ({ joined: performance.timeOrigin + window.ketang.timings.rejoinedAt,
				frame: performance.timeOrigin + window.ketang.timings.teacherFrameAt }));
			rejoinMs = t.frame - upAt;
			console.log(`A joined again ${Math.round(t.joined - upAt)} ms after the link returned`);
		} catch {
			rejoinMs = null;
			// What A was doing, for the failure message below.
			rejoinSeen = await roomA.evaluate(async () => ({ state: window.ketang.state, me: window.ketang.me?.id,
				timings: window.ketang.timings, streams: window.ketang.streams.map((x) => [x.participant, x.source, x.mid]),
				publish: window.ketang.publishPc?.connectionState,
				subscribe: window.ketang.subscribePc?.connectionState,
				inbound: [...(await window.ketang.subscribePc?.getStats() ?? new Map()).values()]
					.filter((r) => r.type === 'inbound-rtp')
					.map(({ mid, kind, ssrc, packetsReceived, packetsLost, framesReceived, framesDecoded,
						keyFramesDecoded, pliCount, firCount, nackCount, framesDropped }) => ({ mid, kind, ssrc,
						packetsReceived, packetsLost, framesReceived, framesDecoded, keyFramesDecoded, pliCount,
						firCount, nackCount, framesDropped })),
				answer: window.ketang.subscribePc?.localDescription?.sdp,
				offer: window.ketang.subscribePc?.remoteDescription?.sdp,
				metrics: (await (await fetch('/metrics')).text()).split('\n')
					.filter((l) => /^ketang_/.test(l)).join('; ') })).catch((e) => String(e));
		}
		await sleep(4000);
	} finally {
		sampling = false;
		await sampler;
	}

	console.log(`A went 'reconnecting' ${lostAfterMs} ms after the cut; link back up after ${CUT_MS} ms`);
	console.log(`A decodes the teacher again ${rejoinMs === null ? 'never (20 s)' : `${Math.round(rejoinMs)} ms`} ` +
		'after the link returned');
	const keys = Object.keys(samples[0].v);
	const last = samples[samples.length - 1];
	const seconds = (last.at - samples[0].at) / 1000;
	for (const k of keys) {
		const gained = last.v[k] - samples[0].v[k];
		console.log(`${k}: ${samples[0].v[k]} -> ${last.v[k]} over ${seconds.toFixed(1)} s ` +
			`(${(gained / seconds).toFixed(1)}/s), per second: ` +
			samples.slice(1).map((s, i) => s.v[k] - samples[i].v[k]).join(' '));
	}
	assert.ok(rejoinMs !== null && rejoinMs < REJOIN_MS,
		`A decoded the teacher ${rejoinMs} ms after the link returned (limit ${REJOIN_MS} ms)` +
		(rejoinSeen ? `\nA: ${JSON.stringify(rejoinSeen)}\nteacher sends: ${JSON.stringify(await teacherSends(teacher))}\n${ketang.proc.output().slice(-6000)}` : ''));
	assert.ok(samples.length >= (CUT_MS + 8000) / 1000, `only ${samples.length} samples`);
	for (const k of keys)
		assert.deepEqual(stalls(samples, k), [], `${k} stalled for ${WINDOW_MS} ms`);
	// And A is fully back: the teacher decodes its camera again, under its new id. Its
	// join replaced the old 'Room A' (whose socket the server had not yet seen die), so the
	// teacher lists one Room A, not a frozen ghost beside it.
	for (const until = Date.now() + 15000; !ids.A2 && Date.now() < until; await sleep(200))
		ids.A2 = await teacher.evaluate((old) => Object.values(window.ketang.participants)
			.find((p) => p.name === 'Room A' && p.id !== old)?.id, ids.A);
	assert.ok(ids.A2, 'the teacher never listed the rejoined Room A');
	const roomAs = await teacher.evaluate(() => Object.values(window.ketang.participants)
		.filter((p) => p.name === 'Room A').map((p) => p.id));
	assert.deepEqual(roomAs, [ids.A2], 'the teacher lists the old Room A beside the new one');
	try {
		await assertLessonReceives(teacher, ids.A2, 'camera', { timeout: 15000 });
	} catch (err) {
		const seen = {
			teacher: await teacher.evaluate(() => ({ participants: window.ketang.participants,
				streams: window.ketang.streams.map((x) => [x.participant, x.source, x.mid]),
				pc: window.ketang.subscribePc?.connectionState })),
			A: await roomA.evaluate(() => ({ state: window.ketang.state, me: window.ketang.me,
				publish: window.ketang.publishPc?.connectionState })),
		};
		throw new Error(`${err.message}\n${JSON.stringify(seen)}\n${ketang.proc.output().slice(-5000)}`);
	}
});
