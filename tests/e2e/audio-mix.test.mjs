// Mix-minus audio for a classroom on a weak link (issue 6 item 2) through the
// real server: the /teacher page and two /classroom pages of one browser.
// Room A ticks 单路混音 Single audio mix: from A's getStats it then receives
// exactly one audio track (the mix) carrying sound while the teacher's fake
// microphone plays (totalAudioEnergy grows), and still decodes the teacher
// camera; room B keeps one track per speaker. Stage and mute changes leave
// A's mix flowing. Mix-minus: with the teacher's microphone off and B muted,
// B (now on the mix too) hears A while A's own mix stays silent although A
// publishes the same fake beep. Unticking returns A to forwarded audio; a
// reload keeps the choice (the join asks for the mix). Bad requests against a
// server with [mix] enabled = false: wrong roles, a bad mode, the mix off.
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and
// tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { assertLessonReceives, openClassroom, openLessonTeacher, waitForLessonState } from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-audio-mix';

/** A raw lesson socket: send(), and next(pred) for the first queued message matching it. */
async function rawSocket(origin) {
	const ws = new WebSocket(`${origin.replace(/^https/, 'wss')}/ws`, 'ketang.v1', { rejectUnauthorized: false });
	const inbox = [];
	let wake = null;
	ws.on('message', (data) => {
		inbox.push(JSON.parse(String(data)));
		if (wake)
			wake();
	});
	const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
	await new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('error', reject);
	});
	async function next(pred, what, timeoutMs = 5000) {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const i = inbox.findIndex(pred);
			if (i >= 0)
				return inbox.splice(i, 1)[0];
			const left = deadline - Date.now();
			if (left <= 0)
				throw new Error(`no ${what}: ${JSON.stringify(inbox)}`);
			await new Promise((resolve) => {
				wake = resolve;
				setTimeout(resolve, left);
			});
		}
	}
	return { send: (msg) => ws.send(JSON.stringify(msg)), next, closed, close: () => ws.close() };
}

/** The reply (ok/error/joined) to request @id. */
const replyTo = (sock, id) => sock.next((m) => m.id === id && ['ok', 'error', 'joined'].includes(m.type),
	`reply to ${id}`);

/** Received audio of a lesson page, by mid: { mid: {packets, energy, source} }. */
function inboundAudio(page) {
	return page.evaluate(async () => {
		const k = window.ketang;
		const out = {};
		if (!k.subscribePc)
			return out;
		(await k.subscribePc.getStats()).forEach((r) => {
			if (r.type !== 'inbound-rtp' || r.kind !== 'audio')
				return;
			const s = k.streams.find((x) => x.mid === r.mid);
			const e = out[r.mid] || { packets: 0, energy: 0, source: s ? s.source : null };
			e.packets += r.packetsReceived || 0;
			e.energy += r.totalAudioEnergy || 0;
			out[r.mid] = e;
		});
		return out;
	});
}

/** Audio a page publishes: packets sent by its publish connection. */
function sentAudioPackets(page) {
	return page.evaluate(async () => {
		let n = 0;
		(await window.ketang.publishPc.getStats()).forEach((r) => {
			if (r.type === 'outbound-rtp' && r.kind === 'audio')
				n += r.packetsSent || 0;
		});
		return n;
	});
}

/**
 * Samples a page's received audio over @ms and returns, per mid, how much its
 * packets and energy grew: { mid: {packets, energy, source} }.
 */
async function audioGrowth(page, ms = 3000) {
	const first = await inboundAudio(page);
	await new Promise((r) => setTimeout(r, ms)); // a measuring window, not a wait for an event
	const later = await inboundAudio(page);
	const out = {};
	for (const [mid, e] of Object.entries(later)) {
		const f = first[mid] || { packets: 0, energy: 0 };
		out[mid] = { packets: e.packets - f.packets, energy: e.energy - f.energy, source: e.source };
	}
	return out;
}

/** The mids whose packets grew. */
const flowing = (growth) => Object.entries(growth).filter(([, g]) => g.packets > 0);

/** Waits until the page's subscription carries exactly the audio @sources (e.g. ['mix']). */
async function waitAudioStreams(page, sources, timeout = 15000) {
	try {
		await page.waitForFunction((want) => {
			const got = window.ketang.streams.filter((s) => s.kind === 'audio').map((s) => s.source).sort();
			return JSON.stringify(got) === JSON.stringify(want);
		}, [...sources].sort(), { timeout, polling: 100 });
	} catch {
		const streams = await page.evaluate(() => window.ketang.streams);
		throw new Error(`audio streams never became ${JSON.stringify(sources)}: ${JSON.stringify(streams)}`);
	}
}

/**
 * Asserts the page receives exactly one flowing audio track, the mix, with
 * sound in it (energy grows) when @sound; returns its growth.
 */
async function assertOneMix(page, { sound = true, what = '' } = {}) {
	let growth = null;
	let ok = false;
	// The first window after a renegotiation may still count the old track's
	// last packets: measure again until one window shows only the mix.
	for (let i = 0; i < 4 && !ok; i++) {
		growth = await audioGrowth(page, 2500);
		const f = flowing(growth);
		ok = f.length === 1 && f[0][1].source === 'mix' && (!sound || f[0][1].energy > 0);
	}
	assert.ok(ok, `${what}: want one flowing mix track${sound ? ' with sound' : ''}: ${JSON.stringify(growth)}`);
	return flowing(growth)[0][1];
}

async function setMix(page, on) {
	await page.evaluate(async (want) => {
		const box = document.getElementById('audio-mix');
		if (box.checked !== want)
			box.click();
	}, on);
	await page.waitForFunction((want) => window.ketang.client.audio === (want ? 'mix' : 'forward') &&
		!document.getElementById('audio-mix').disabled, on, { timeout: 10000 });
}

describe('mix-minus audio: teacher + 2 classrooms, room A on the mix', () => {
	let server;
	let browser;
	let teacher;
	const rooms = {};
	const ids = {};

	before(async () => {
		server = await startServer();
		browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
		teacher = await browser.newPage('teacher');
		await openLessonTeacher(teacher, server.origin, LESSON, await server.token(LESSON, 'teacher'));
		await teacher.waitForFunction(() => window.ketang.timings.published, null, { timeout: 15000 });
		for (const name of ['Room A', 'Room B']) {
			rooms[name] = await browser.newPage(name);
			await openClassroom(rooms[name], server.origin, LESSON, await server.token(LESSON, 'classroom'), name);
			ids[name] = await teacher.waitForFunction((n) =>
				Object.values(window.ketang.participants).find((p) => p.name === n)?.id, name,
			{ timeout: 10000 }).then((h) => h.jsonValue());
		}
		ids.teacher = await rooms['Room A'].evaluate(() =>
			Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id);
		assert.ok(ids.teacher, 'room A does not see the teacher');
		// Both rooms publish their microphone before anything is measured.
		for (const page of Object.values(rooms))
			await page.waitForFunction(() => window.ketang.publishPc?.connectionState === 'connected', null,
				{ timeout: 15000 });
	});

	after(async () => {
		if (browser)
			await browser.close();
		if (server)
			await server.stop();
	});

	it('room A ticks the single audio mix: one audio track with sound, the teacher video still', async () => {
		const A = rooms['Room A'];
		await assertLessonReceives(A, ids.teacher, 'audio');
		await setMix(A, true);
		await waitAudioStreams(A, ['mix']);
		const mix = await assertOneMix(A, { what: 'room A' });
		console.log(`room A's mix: ${mix.packets} packets, energy +${mix.energy.toFixed(4)} in 2.5 s`);
		await assertLessonReceives(A, ids.teacher, 'camera');
		const stored = await A.evaluate(() => localStorage.getItem('ketang.classroom.audio'));
		assert.equal(stored, 'mix');
	});

	it('room B keeps one audio track per speaker', async () => {
		const B = rooms['Room B'];
		await waitAudioStreams(B, ['audio']);
		const streams = await B.evaluate(() => window.ketang.streams.filter((s) => s.kind === 'audio'));
		assert.equal(streams[0].participant, ids.teacher);
		await assertLessonReceives(B, ids.teacher, 'audio');
	});

	it('stage and mute changes leave room A hearing its mix', async () => {
		const A = rooms['Room A'];
		const steps = [
			['stage', ids['Room A']], ['stage', ids['Room B']], ['mute', ids['Room B']],
			['unmute', ids['Room B']], ['unstage', null], ['mute', ids['Room A']], ['unmute', ids['Room A']],
		];
		for (const [type, participant] of steps) {
			await teacher.evaluate(([t, p]) => window.ketang.client.request(t, p ? { participant: p } : {}),
				[type, participant]);
			await waitAudioStreams(A, ['mix']);
			await assertOneMix(A, { what: `room A after ${type} ${participant || ''}` });
		}
		// B, forwarding, got the staged room's audio and lost it again.
		await waitAudioStreams(rooms['Room B'], ['audio']);
	});

	it('the mix leaves out the room\'s own voice: A\'s mix is silent while only A speaks', async () => {
		const A = rooms['Room A'];
		const B = rooms['Room B'];
		// Only A stays audible: the teacher's microphone off, B muted. B takes the mix too.
		await teacher.evaluate(() => window.ketang.client.setSource('audio', null));
		await teacher.evaluate((p) => window.ketang.client.request('mute', { participant: p }), ids['Room B']);
		await setMix(B, true);
		await waitAudioStreams(B, ['mix']);
		const sentBefore = await sentAudioPackets(A);
		const heardByB = await assertOneMix(B, { what: 'room B hearing room A' });
		const ownInA = await assertOneMix(A, { sound: false, what: 'room A' });
		const sentAfter = await sentAudioPackets(A);
		console.log(`A publishes (+${sentAfter - sentBefore} packets); in B's mix energy ` +
			`+${heardByB.energy.toFixed(4)}, in A's own mix +${ownInA.energy.toFixed(6)}`);
		assert.ok(sentAfter > sentBefore, 'room A stopped publishing its microphone');
		assert.ok(heardByB.energy > 0, 'room B does not hear room A in its mix');
		assert.ok(ownInA.energy < heardByB.energy / 100,
			`room A hears itself: own mix energy ${ownInA.energy} vs ${heardByB.energy} in B's`);
		await teacher.evaluate((p) => window.ketang.client.request('unmute', { participant: p }), ids['Room B']);
	});

	it('unticking returns room A to one track per speaker; a reload keeps the mix', async () => {
		const A = rooms['Room A'];
		await setMix(A, false);
		await waitAudioStreams(A, ['audio']);
		await A.evaluate(() => localStorage.setItem('ketang.classroom.audio', 'mix'));
		await A.reload();
		await waitForLessonState(A, 'joined');
		assert.equal(await A.evaluate(() => document.getElementById('audio-mix').checked), true);
		await waitAudioStreams(A, ['mix']);
		await assertOneMix(A, { what: 'room A after a reload (hearing room B)' });
		assert.deepEqual(browser.problems, []);
		assert.doesNotMatch(server.log(), /audio mix failed|no audio mix/);
	});
});

describe('mix-minus audio: bad requests, on a server with [mix] enabled = false', () => {
	let server;
	const LESSON2 = 'e2e-audio-mix-off';

	before(async () => {
		server = await startServer({ extraConfig: '[mix]\nenabled = false\n' });
	});

	after(async () => {
		if (server)
			await server.stop();
	});

	it('a teacher or observer asking for the mix: wrong-role (a join with it fails, 4001)', async () => {
		for (const role of ['teacher', 'observer']) {
			const bad = await rawSocket(server.origin);
			bad.send({ type: 'join', id: 1, token: await server.token(LESSON2, role), audio: 'mix' });
			const err = await replyTo(bad, 1);
			assert.equal(err.code, 'wrong-role', JSON.stringify(err));
			assert.equal(await bad.closed, 4001);

			const sock = await rawSocket(server.origin);
			sock.send({ type: 'join', id: 1, token: await server.token(LESSON2, role) });
			assert.equal((await replyTo(sock, 1)).type, 'joined');
			sock.send({ type: 'audio', id: 2, mode: 'mix' });
			const refused = await replyTo(sock, 2);
			assert.equal(refused.code, 'wrong-role', JSON.stringify(refused));
		}
	});

	it('a classroom: a bad mode is bad-message, the mix while it is off unavailable', async () => {
		const c = await rawSocket(server.origin);
		c.send({ type: 'join', id: 1, token: await server.token(LESSON2, 'classroom'), name: 'Room A' });
		assert.equal((await replyTo(c, 1)).type, 'joined');
		c.send({ type: 'audio', id: 2, mode: 'stereo' });
		const bad = await replyTo(c, 2);
		assert.equal(bad.code, 'bad-message');
		assert.match(bad.message, /mode: must be one of mix, forward/);
		c.send({ type: 'audio', id: 3 });
		assert.match((await replyTo(c, 3)).message, /mode: missing/);
		c.send({ type: 'audio', id: 4, mode: 'mix' });
		const off = await replyTo(c, 4);
		assert.equal(off.code, 'unavailable', JSON.stringify(off));
		assert.match(off.message, /\[mix\] enabled = false/);
		c.send({ type: 'audio', id: 5, mode: 'forward' });
		assert.equal((await replyTo(c, 5)).type, 'ok');

		// Asked for in the join: the join succeeds, the mix is refused without an id.
		const d = await rawSocket(server.origin);
		d.send({ type: 'join', id: 1, token: await server.token(LESSON2, 'classroom'), name: 'Room B', audio: 'mix' });
		assert.equal((await replyTo(d, 1)).type, 'joined');
		const late = await d.next((m) => m.type === 'error', 'the refused mix');
		assert.equal(late.code, 'unavailable');
		assert.equal(late.id, undefined);
		d.send({ type: 'join', id: 2, token: 'x', audio: 'both' });
		assert.match((await replyTo(d, 2)).message, /audio: must be one of mix, forward/);
		d.send({ type: 'chat', id: 3, text: 'still here' });
		assert.equal((await d.next((m) => m.type === 'chat' && m.id === 3, 'own chat')).text, 'still here');
	});
});
