// Fault test (issue 7 item 4): a hostile client next to a live lesson.
//
// Three namespaces (bench/qoe/lib/topology.mjs): srv runs Ketang (media ports pinned to
// a range), pub one Chromium with the /teacher page and a /classroom page, cls the
// attacker: tests/e2e/tools/kt-hostile sends random datagrams and STUN Binding requests
// with unknown ufrags to every media port and holds 500 connections to the HTTPS port
// that never become WebSockets (half stop after TLS, half before it), opened at 100 a
// second and opened again whenever Ketang closes them.
//
// Measured for 10 s before and 15 s during the attack: the frame rate and the loss of
// the teacher camera at the classroom and of the classroom camera at the teacher (printed
// both). Asserts the frame rate during is at least 80 % of before, the pages stay joined,
// and /healthz (a new TLS connection each time, from the participants' side) answers 200
// within 1 s throughout.
//
// Root only (ip netns):  node --test tests/netem/test-hostile.mjs   (KETANG_BIN, KT_HOSTILE)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ADDR, ROOT, spawnIn, waitOutput } from '../../bench/qoe/lib/topology.mjs';
import { assertLessonReceives, openClassroom, openLessonTeacher, participantId } from '../e2e/lib/pages.mjs';
import { PORT, startLesson } from './lib-lesson.mjs';

const run = promisify(execFile);
const PORTS = [40000, 40063]; // Ketang's ICE ports: the attacker sprays all of them
const HOSTILE = process.env.KT_HOSTILE || join(ROOT, 'build/tests/e2e/kt-hostile');
const LESSON = 'fault-hostile';
const BEFORE_MS = 10000;
const DURING_MS = 15000;
// Datagrams a second of each kind, connections held and opened a second. 100 a second: a
// burst of 500 at once costs Ketang's control loop about a second (measured: /healthz took
// up to 874 ms meanwhile on a quiet machine, > 3 s on a loaded one; see the issue 7 note).
const ATTACK = { udpRate: 4000, stunRate: 4000, hold: 500, openRate: 100 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Where the test is, on stderr: a timeout then says which step hung.
const step = (what) => process.stderr.write(`[${new Date().toISOString()}] ${what}\n`);

let lesson; // startLesson()
let topo;
let ketang;
let hostile;

/** The received camera of @from on @page: frames decoded, packets received and lost. */
function camera(page, from) {
	return page.evaluate(async (p) => {
		const k = window.ketang;
		const stream = k.streams.find((x) => x.participant === p && x.source === 'camera');
		const out = { frames: 0, received: 0, lost: 0, at: Date.now() };
		if (!stream || !k.subscribePc)
			return out;
		(await k.subscribePc.getStats()).forEach((r) => {
			if (r.type === 'inbound-rtp' && r.mid === stream.mid) {
				out.frames += r.framesDecoded || 0;
				out.received += r.packetsReceived || 0;
				out.lost += r.packetsLost || 0;
			}
		});
		return out;
	}, from);
}

/** CPU seconds Ketang has used (user + system; `ip netns exec` execs it: same pid). */
async function ketangCpu() {
	const fields = (await readFile(`/proc/${ketang.proc.child.pid}/stat`, 'utf8')).split(') ')[1].split(' ');
	return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100)
}

/** Frame rate and loss of each stream over @ms, and Ketang's CPU share meanwhile. */
async function measure(streams, ms) {
	const first = await Promise.all(streams.map(([page, from]) => camera(page, from)));
	const cpu0 = await ketangCpu(), t0 = Date.now();
	await sleep(ms);
	const last = await Promise.all(streams.map(([page, from]) => camera(page, from)));
	const cpuPct = (100 * (await ketangCpu() - cpu0)) / ((Date.now() - t0) / 1000);
	return last.map((b, i) => {
		const a = first[i];
		const got = b.received - a.received, lost = Math.max(0, b.lost - a.lost);
		return { fps: (b.frames - a.frames) / ((b.at - a.at) / 1000),
			lossPct: got + lost > 0 ? (100 * lost) / (got + lost) : 0, cpuPct };
	});
}

/** Polls /healthz from the participants' namespace, a new connection each time. */
function pollHealth() {
	const seen = [];
	let on = true;
	const done = (async () => {
		while (on) {
			const at = Date.now();
			let status = 'none', seconds = Infinity, phases = '';
			try {
				const { stdout } = await run('ip', ['netns', 'exec', topo.ns.pub, 'curl', '-sk', '-m', '3',
					'-o', '/dev/null', '-w', '%{http_code} %{time_total} %{time_connect} %{time_appconnect}',
					`https://${ADDR.srvPub}:${PORT}/healthz`]);
				let connect, tls;
				[status, seconds, connect, tls] = stdout.trim().split(' ');
				seconds = Number(seconds);
				phases = `TCP ${Math.round(connect * 1000)} ms, TLS by ${Math.round(tls * 1000)} ms`;
			} catch (err) {
				status = `curl exit ${err.code}: ${err.stdout}`;
			}
			seen.push({ at, status, ms: Math.round(seconds * 1000), phases });
			await sleep(Math.max(0, at + 500 - Date.now()));
		}
	})();
	return { seen, stop: async () => { on = false; await done; } };
}

before(async () => {
	lesson = await startLesson('hostile', LESSON, { media: `ice_port_min=${PORTS[0]}\nice_port_max=${PORTS[1]}\n` });
	({ topo, ketang } = lesson);
});

after(async () => {
	if (hostile) {
		hostile.child.kill('SIGTERM');
		await hostile.exited;
	}
	await lesson?.close();
});

test('random UDP, a STUN flood and 500 half-open connections: the lesson keeps flowing', { timeout: 150000 },
	async () => {
		const newPage = await lesson.launchIn(topo.ns.pub, 'pub');
		const origin = lesson.origin('pub');
		step('browser up; opening the lesson');
		const teacher = await newPage('teacher');
		await openLessonTeacher(teacher, origin, LESSON, await ketang.token('teacher'), { timeout: 30000 });
		const room = await newPage('Room A');
		await openClassroom(room, origin, LESSON, await ketang.token('classroom'), 'Room A', { timeout: 30000 });
		const teacherId = await room.evaluate(() =>
			Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id);
		const roomId = await participantId(teacher, 'Room A');
		await assertLessonReceives(room, teacherId, 'camera', { timeout: 30000 });
		await assertLessonReceives(teacher, roomId, 'camera', { timeout: 30000 });
		// The sprayed range is where the media really is: Ketang's side of each connection.
		for (const page of [teacher, room]) {
			const ports = await page.evaluate(async () => {
				const out = [];
				for (const pc of [window.ketang.publishPc, window.ketang.subscribePc])
					(await pc.getStats()).forEach((r) => {
						if (r.type === 'remote-candidate')
							out.push(r.port);
					});
				return out;
			});
			assert.ok(ports.length > 0 && ports.every((p) => p >= PORTS[0] && p <= PORTS[1]),
				`Ketang's media ports ${ports} not in ${PORTS.join('-')}`);
		}
		const streams = [[room, teacherId], [teacher, roomId]];
		const names = ['classroom <- teacher camera', 'teacher <- classroom camera'];

		step('both pages receive each other; measuring before the attack');
		const health = pollHealth();
		let beforeFig, duringFig, attack, attackFrom, attackAt, burst;
		try {
			await sleep(2000);
			beforeFig = await measure(streams, BEFORE_MS);
			const healthBefore = health.seen.length;
			hostile = spawnIn(topo.ns.cls, HOSTILE, ['--target', ADDR.srvCls, '--udp-ports', PORTS.join('-'),
				'--udp-rate', String(ATTACK.udpRate), '--stun-rate', String(ATTACK.stunRate),
				'--hold', String(ATTACK.hold), '--hold-port', String(PORT), '--tls-share', '50',
				'--open-rate', String(ATTACK.openRate),
				'--seconds', String(Math.ceil(DURING_MS / 1000) + 5)]);
			step('attack starting');
			const burstCpu = await ketangCpu(), burstFrom = Date.now();
			attackAt = burstFrom;
			await waitOutput(hostile, /kt-hostile: holding (\d+) connections/, 30000);
			burst = { ms: Date.now() - burstFrom, cpuPct: (100 * (await ketangCpu() - burstCpu)) / ((Date.now() - burstFrom) / 1000) };
			step('connections held; floods on, measuring');
			duringFig = await measure(streams, DURING_MS);
			step('measured; waiting for kt-hostile to finish');
			const ended = await Promise.race([hostile.exited, sleep(30000).then(() => null)]);
			if (!ended)
				hostile.child.kill('SIGKILL');
			assert.ok(ended, `kt-hostile did not end: ${hostile.output()}`);
			attack = /kt-hostile: (\d+ random.*)/.exec(hostile.output());
			assert.ok(attack, `kt-hostile said: ${hostile.output()}`);
			hostile = null;
			attackFrom = healthBefore;
		} finally {
			await health.stop();
			step('done');
		}

		console.log(`attack: ${attack[1]}`);
		for (const [i, name] of names.entries())
			console.log(`${name}: before ${beforeFig[i].fps.toFixed(1)} fps, ${beforeFig[i].lossPct.toFixed(2)} % lost; ` +
				`during ${duringFig[i].fps.toFixed(1)} fps, ${duringFig[i].lossPct.toFixed(2)} % lost`);
		console.log(`${ATTACK.hold} connections opened and held in ${burst.ms} ms; Ketang's CPU meanwhile ` +
			`${burst.cpuPct.toFixed(0)} % of one core`);
		console.log(`Ketang's CPU: before ${beforeFig[0].cpuPct.toFixed(0)} %, during ${duringFig[0].cpuPct.toFixed(0)} % ` +
			'of one core');
		const slowest = health.seen.reduce((a, b) => (b.ms > a.ms ? b : a));
		console.log(`/healthz: ${health.seen.length} requests, slowest ${slowest.ms} ms (${slowest.phases}; ` +
			`${((slowest.at - attackAt) / 1000).toFixed(1)} s from the attack's start) ` +
			`(before the attack ${Math.max(...health.seen.slice(0, attackFrom).map((h) => h.ms))} ms)`);

		for (const [i, name] of names.entries())
			assert.ok(duringFig[i].fps >= 0.8 * beforeFig[i].fps,
				`${name}: ${duringFig[i].fps.toFixed(1)} fps during, ${beforeFig[i].fps.toFixed(1)} before`);
		const bad = health.seen.filter((h) => h.status !== '200' || h.ms > 1000);
		assert.deepEqual(bad, [], '/healthz slow or failing');
		for (const page of [teacher, room])
			assert.equal(await page.evaluate(() => window.ketang.state), 'joined');
	});
