// Mix-minus audio for a classroom on a weak link (issue 6 item 2) through the
// real server: the /teacher page and two /classroom pages of one browser.
// Room A ticks 单路混音 Single audio mix: from A's getStats it then receives
// exactly one audio track (the mix) carrying sound while the teacher's fake
// microphone plays (totalAudioEnergy grows), and still decodes the teacher
// camera; room B keeps one track per speaker. Stage and mute changes leave
// A's mix flowing. Mix-minus: with the teacher's microphone off and B muted,
// B (now on the mix too) hears A while A's own mix stays silent although A
// publishes the same fake beep. Unticking returns A to forwarded audio; a
// reload keeps the choice (the join asks for the mix).
//
// Run inside tests/netns-run.sh (loopback only); needs KETANG_BIN and
// tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { assertLessonReceives, openClassroom, openLessonTeacher, waitForLessonState } from './lib/pages.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const LESSON = 'e2e-audio-mix';

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
