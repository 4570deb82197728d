// Recording of a live lesson through the real server (issue #4): the /teacher page
// publishes camera, microphone and courseware from headless Chromium, a classroom joins
// and is put on stage, and after ~10 s the teacher ends the lesson. Within 2 s the
// catalog lists the program and every source as complete with the lesson's metadata;
// each file, fetched through the archive API, passes ffprobe (duration within 1 s of the
// real length, the expected streams, audio and video starting within 100 ms of each
// other) and decodes without an error; its SHA-256 and size match the catalog; the
// program has the stage and courseware chapters.
//
// A lesson scheduled with "record": false runs normally and leaves nothing in the catalog
// or on disk.
//
// Then a crash: `kill -9` while recording, restart on the same data dir: every row is
// "repaired" and every file decodes up to at most 2 s before the kill.
//
// Run inside tests/netns-run.sh; needs KETANG_BIN, ffmpeg and tests/e2e/node_modules.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPlaywright } from './lib/browser.mjs';
import { request } from './lib/http.mjs';
import { decodeErrors, packetSpan, probe, sha256 } from './lib/media.mjs';
import { assertLessonReceives, openClassroom, openLessonTeacher, participantId, waitForLessonState }
	from './lib/pages.mjs';
import { fetchMedia, recordingsOf, schedule, useBrowserAndScratch, waitForRows } from './lib/recordings.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const LESSON_MS = 10000;

describe('lesson recording', () => {
	const ctx = useBrowserAndScratch();

	it('a 10 s lesson: program and sources complete, probed and listed within 2 s of the end', async () => {
		const server = await startServer();
		try {
			const lesson = await schedule(server, { title: '分数 Fractions', subject: 'Maths', grade: '7',
				teacher: 'Ms Li', classrooms: ['Room A'] });
			const archivist = await server.token('', 'archivist');
			const teacher = await ctx.browser.newPage('teacher');
			const liveFrom = Date.now();
			await openLessonTeacher(teacher, server.origin, lesson.id, await server.token(lesson.id, 'teacher'));
			const liveBy = Date.now();
			await teacher.click('#share');
			await teacher.waitForFunction(() => window.ketang.publishPc?.connectionState === 'connected', null,
				{ timeout: 15000 });

			const room = await ctx.browser.newPage('Room A');
			const roomFrom = Date.now();
			await openClassroom(room, server.origin, lesson.id, await server.token(lesson.id, 'classroom'), 'Room A');
			const roomId = await participantId(teacher, 'Room A');
			await room.click('#hand');
			await teacher.click(`#hands li[data-participant="${roomId}"] button`);
			await room.waitForSelector('#banner-stage:not([hidden])');
			const roomBy = Date.now();
			const teacherId = await room.evaluate(() =>
				Object.values(window.ketang.participants).find((p) => p.role === 'teacher').id);
			await assertLessonReceives(room, teacherId, 'camera');

			await sleep(Math.max(0, LESSON_MS - (Date.now() - liveFrom)));
			// The pages' microphones send RED ([media] audio_red): the audio recordings
			// checked below are made of the Opus frames Ketang cuts out of it.
			const metrics = (await request(`${server.origin}/metrics`)).body;
			const red = Number(/^ketang_red_stripped_total (\d+)$/m.exec(metrics)?.[1]);
			console.log(`RED packets from the lesson's publishers so far: ${red}`);
			assert.ok(red > 100, `ketang_red_stripped_total ${red}`);
			await teacher.click('#end');
			await teacher.click('#end-confirm');
			const endedFrom = Date.now();
			await waitForLessonState(teacher, 'ended', 5000);
			const endedBy = Date.now();
			const streams = ['program', 'teacher-camera', 'teacher-audio', 'courseware', 'Room A-camera', 'Room A-audio'];
			const rows = await waitForRows(server, archivist, lesson.id,
				(rs) => streams.every((s) => rs.some((r) => r.stream === s && r.state === 'complete')), 5000,
				'every recording complete');
			const listedMs = Date.now() - endedBy;
			console.log(`lesson ended -> all ${rows.length} recordings complete in the catalog: ≤ ${listedMs} ms`);
			assert.ok(listedMs <= 2000, `catalog complete ${listedMs} ms after the end`);
			assert.equal(rows.length, streams.length, JSON.stringify(rows.map((r) => r.stream)));
			await teacher.close();
			await room.close();

			const lessonSeconds = [(endedFrom - liveBy) / 1000, (endedBy - liveFrom) / 1000];
			for (const row of rows) {
				assert.equal(row.lesson, lesson.id);
				assert.equal(row.title, '分数 Fractions');
				assert.equal(row.subject, 'Maths');
				assert.equal(row.grade, '7');
				assert.equal(row.teacher, 'Ms Li');
				assert.deepEqual(row.classrooms, ['Room A']);
				assert.equal(row.kind, row.stream === 'program' ? 'program' : 'source');
				const path = await fetchMedia(server, archivist, row, ctx.scratch);
				assert.equal(await sha256(path), row.sha256, `${row.stream}: SHA-256`);
				const p = await probe(path);
				const video = p.video, audio = p.audio;
				const span = (await packetSpan(path, video ? 'v' : 'a'));
				console.log(`${row.stream}: ${row.mime} ${row.size_bytes} B, catalog ${row.duration_ms} ms, ` +
					`ffprobe duration ${p.duration.toFixed(2)} s (start ${p.start.toFixed(3)}), ` +
					`${p.streams.map((s) => `${s.codec}${s.width ? ` ${s.width}x${s.height}` : ''}`).join(' + ')}`);
				assert.equal(await decodeErrors(path), '', `${row.stream}: decode errors`);
				if (row.stream === 'program') {
					assert.equal(video?.codec, 'h264');
					assert.equal(video.width, 1280);
					assert.equal(video.height, 720);
					assert.equal(audio?.codec, 'aac');
					const av = Math.abs(video.start - audio.start);
					console.log(`program: first video ${video.start.toFixed(3)} s, first audio ${audio.start.toFixed(3)} s`);
					assert.ok(av <= 0.1, `program audio/video start ${Math.round(av * 1000)} ms apart`);
					assert.ok(p.duration >= lessonSeconds[0] - 1 && p.duration <= lessonSeconds[1] + 1,
						`program lasts ${p.duration} s, the lesson ${lessonSeconds.join('..')} s`);
					const { body } = await request(`${server.origin}/api/recordings/${row.id}`,
						{ headers: { Authorization: `Bearer ${archivist}` } });
					const chapters = JSON.parse(body).chapters.map((c) => c.title);
					console.log(`program chapters: ${JSON.stringify(chapters)}`);
					assert.ok(chapters.some((t) => /On stage: Room A/.test(t)), 'no stage chapter');
					assert.ok(chapters.some((t) => /Courseware started/.test(t)), 'no courseware chapter');
				} else {
					const want = row.stream.endsWith('audio') ? 'audio' : 'video';
					assert.ok(want === 'audio' ? audio : video, `${row.stream}: no ${want} stream`);
					// Each file's length is the time its stream was published, on the lesson clock.
					const length = span.last - span.first;
					assert.ok(Math.abs(length - row.duration_ms / 1000) <= 1,
						`${row.stream}: media spans ${length} s, the catalog says ${row.duration_ms} ms`);
					// The file starts when its stream did, on the lesson clock: the teacher's
					// from the lesson's start, Room A's once it joined (video at its first
					// keyframe, which may take one more request, KT_RECORDER_KEYFRAME_RETRY_US).
					const [from, by] = row.stream.startsWith('Room A') ?
						[(roomFrom - liveBy) / 1000, (roomBy - liveFrom) / 1000] :
						[0, (roomFrom - liveFrom) / 1000];
					assert.ok(span.first >= from - 0.1 && span.first <= by + 1.5,
						`${row.stream}: starts at ${span.first} s of the lesson, began between ${from} and ${by} s`);
				}
			}
			// Sources share the lesson clock: the teacher's camera and microphone, which the page
			// started together, begin together, the camera's file at its first keyframe (at most
			// one keyframe request later).
			const cam = rows.find((r) => r.stream === 'teacher-camera');
			const mic = rows.find((r) => r.stream === 'teacher-audio');
			const camStart = (await packetSpan(await fetchMedia(server, archivist, cam, ctx.scratch), 'v')).first;
			const micStart = (await packetSpan(await fetchMedia(server, archivist, mic, ctx.scratch), 'a')).first;
			console.log(`teacher camera starts at ${camStart.toFixed(3)} s, microphone at ${micStart.toFixed(3)} s of the lesson`);
			assert.ok(camStart >= micStart - 0.1 && camStart - micStart <= 1.2,
				`teacher camera starts ${Math.round((camStart - micStart) * 1000)} ms after the microphone`);
		} finally {
			await server.stop();
		}
	});

	it('a lesson scheduled with "record": false is taught but not recorded', async () => {
		const server = await startServer();
		try {
			const lesson = await schedule(server, { title: 'Private', classrooms: ['Room A'], record: false });
			assert.equal(lesson.record, false);
			const teacher = await ctx.browser.newPage('private-teacher');
			await openLessonTeacher(teacher, server.origin, lesson.id, await server.token(lesson.id, 'teacher'));
			const room = await ctx.browser.newPage('private-room');
			await openClassroom(room, server.origin, lesson.id, await server.token(lesson.id, 'classroom'), 'Room A');
			const teacherId = await room.evaluate(() =>
				Object.values(window.ketang.participants).find((p) => p.role === 'teacher').id);
			// The lesson runs: the classroom receives the teacher's camera.
			await assertLessonReceives(room, teacherId, 'camera');
			await teacher.click('#end');
			await teacher.click('#end-confirm');
			await waitForLessonState(teacher, 'ended', 5000);
			await teacher.close();
			await room.close();
			const archivist = await server.token('', 'archivist');
			assert.deepEqual(await recordingsOf(server, archivist, lesson.id), []);
			await assert.rejects(stat(join(server.dataDir, 'recordings', lesson.id)), { code: 'ENOENT' },
				'a recordings directory was made for the lesson');
		} finally {
			await server.stop();
		}
	});

	it('kill -9 while recording: on restart every row is repaired and every file plays to ≤ 2 s before the kill', async () => {
		const first = await startServer();
		let second;
		try {
			const teacher = await ctx.browser.newPage('crash-teacher');
			const lesson = 'crash1';
			await openLessonTeacher(teacher, first.origin, lesson, await first.token(lesson, 'teacher'));
			await teacher.waitForFunction(() => window.ketang.publishPc?.connectionState === 'connected', null,
				{ timeout: 15000 });
			const publishedAt = Date.now();
			await sleep(6000);
			const killedAt = Date.now();
			await first.kill();
			await teacher.close();

			second = await startServer({ dataDir: first.dataDir });
			const archivist = await second.token('', 'archivist');
			const rows = await recordingsOf(second, archivist, lesson);
			console.log(`after the crash: ${rows.map((r) => `${r.stream} ${r.state} ${r.duration_ms} ms`).join(', ')}`);
			assert.ok(['program', 'teacher-camera', 'teacher-audio'].every((s) => rows.some((r) => r.stream === s)),
				JSON.stringify(rows.map((r) => r.stream)));
			for (const row of rows) {
				assert.equal(row.state, 'repaired', `${row.stream}`);
				const path = await fetchMedia(second, archivist, row, ctx.scratch);
				assert.equal(await sha256(path), row.sha256, `${row.stream}: SHA-256`);
				assert.equal(await decodeErrors(path), '', `${row.stream}: decode errors after kill -9`);
				const span = await packetSpan(path, row.stream.endsWith('audio') ? 'a' : 'v');
				const reach = row.stream === 'program' ? span.last : span.last - span.first;
				const needed = (killedAt - publishedAt) / 1000 - 2;
				console.log(`${row.stream}: plays ${reach.toFixed(2)} s; ${(needed + 2).toFixed(2)} s were published before the kill`);
				assert.ok(reach >= needed, `${row.stream}: only ${reach} s playable, wanted ≥ ${needed} s`);
			}
		} finally {
			await second?.stop();
		}
	});
});
