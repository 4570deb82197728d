// Fault test (issue 7 item 4): the server is killed (`kill -9`) mid-lesson and restarted.
//
// A scheduled lesson, recording on, live with the /teacher page and one /classroom page
// (one browser). Ketang is killed with SIGKILL and started again on the same data dir and
// port. Asserts that:
//   - both pages reconnect by themselves (no reload): 'reconnecting', then 'joined' again,
//     and media flows again both ways (decoded frames rising on fresh connections);
//   - it is the same lesson: same id on the pages, and the API lists it live;
//   - once the teacher ends it, the catalog lists the recordings of both runs: those of the
//     killed run repaired at start-up, those of the second complete; every file decodes with
//     ffmpeg, matches its catalog checksum, and the catalog's duration is its packets' span.
// Prints the time from the restarted server listening to each page joined again and to
// the first teacher frame on the classroom, and each recording's state and length.
//
// Run inside tests/netns-run.sh; needs KETANG_BIN, ffmpeg and tests/e2e/node_modules.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadPlaywright } from './lib/browser.mjs';
import { request } from './lib/http.mjs';
import { decodeErrors, packetSpan, sha256 } from './lib/media.mjs';
import { assertLessonReceives, openClassroom, openLessonTeacher, participantId, waitForLessonState }
	from './lib/pages.mjs';
import { fetchMedia, schedule, useBrowserAndScratch, waitForRows } from './lib/recordings.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const RUN_MS = 6000; // media recorded in each run
const BACK_MS = 15000; // pages must be joined again this soon after the server listens
// A small program: the composite's encoder shares 2 cores with the browser.
const CONFIG = '[recording]\nprogram_width=640\nprogram_height=360\n';
const STREAMS = ['program', 'teacher-camera', 'teacher-audio', 'Room A-camera', 'Room A-audio'];

/** The id of the teacher as @page sees it. */
const teacherOf = (page) => page.evaluate(() =>
	Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id);

async function lessonState(server, id) {
	const res = await request(`${server.origin}/api/lessons/${id}`,
		{ headers: { Authorization: `Bearer ${await server.token('', 'admin')}` } });
	assert.equal(res.status, 200, res.body);
	return JSON.parse(res.body).state;
}

describe('kill -9 mid-lesson and restart', () => {
	const ctx = useBrowserAndScratch();

	it('pages come back by themselves, the lesson goes on, both runs’ recordings are intact', { timeout: 150000 },
		async () => {
			const first = await startServer({ extraConfig: CONFIG });
			let second;
			try {
				const lesson = await schedule(first, { title: '断电 Crash', subject: 'Maths', teacher: 'Ms Li',
					classrooms: ['Room A'] });
				const teacher = await ctx.browser.newPage('teacher');
				await openLessonTeacher(teacher, first.origin, lesson.id, await first.token(lesson.id, 'teacher'));
				const room = await ctx.browser.newPage('Room A');
				await openClassroom(room, first.origin, lesson.id, await first.token(lesson.id, 'classroom'), 'Room A');
				await assertLessonReceives(room, await teacherOf(room), 'camera');
				await assertLessonReceives(teacher, await participantId(teacher, 'Room A'), 'camera');
				assert.equal(await lessonState(first, lesson.id), 'live');
				await sleep(RUN_MS);

				await first.kill();
				const killedAt = Date.now();
				for (const page of [teacher, room])
					await waitForLessonState(page, 'reconnecting', 10000);
				second = await startServer({ dataDir: first.dataDir, port: first.port, extraConfig: CONFIG });
				const listeningAt = Date.now();
				console.log(`killed -> listening again: ${listeningAt - killedAt} ms`);
				for (const [name, page] of [['teacher', teacher], ['Room A', room]]) {
					await waitForLessonState(page, 'joined', BACK_MS);
					const at = await page.evaluate(() => performance.timeOrigin + window.ketang.timings.rejoinedAt);
					console.log(`${name}: joined again ${Math.round(at - listeningAt)} ms after the server listened`);
				}
				// Same pages (no reload: the rejoin counter lives in the page), same lesson.
				for (const page of [teacher, room]) {
					assert.equal(await page.evaluate(() => window.ketang.rejoins), 1);
					assert.equal(await page.evaluate(() => window.ketang.client.lesson?.id), lesson.id);
				}
				assert.equal(await lessonState(second, lesson.id), 'live');
				await room.waitForFunction(() => window.ketang.timings.teacherFrameAt > window.ketang.timings.rejoinedAt,
					null, { timeout: 15000, polling: 100 });
				const frameAt = await room.evaluate(() => performance.timeOrigin + window.ketang.timings.teacherFrameAt);
				console.log(`Room A: teacher picture again ${Math.round(frameAt - listeningAt)} ms after the server listened`);
				await assertLessonReceives(room, await teacherOf(room), 'camera');
				await assertLessonReceives(room, await teacherOf(room), 'audio');
				const roomId = await participantId(teacher, 'Room A');
				await assertLessonReceives(teacher, roomId, 'camera');
				await assertLessonReceives(teacher, roomId, 'audio');
				await sleep(RUN_MS);

				await teacher.click('#end');
				await teacher.click('#end-confirm');
				await waitForLessonState(teacher, 'ended', 5000);
				const archivist = await second.token('', 'archivist');
				const done = (rs) => STREAMS.every((s) => rs.some((r) => r.stream === s && r.state === 'repaired') &&
					rs.some((r) => r.stream === s && r.state === 'complete'));
				const rows = await waitForRows(second, archivist, lesson.id, done, 10000,
					'a repaired and a complete recording of every stream');
				assert.equal(await lessonState(second, lesson.id), 'ended');
				for (const row of rows.sort((a, b) => a.started_at - b.started_at || a.stream.localeCompare(b.stream))) {
					assert.ok(['repaired', 'complete'].includes(row.state), `${row.stream}: ${row.state}`);
					const path = await fetchMedia(second, archivist, row, ctx.scratch);
					assert.equal(await sha256(path), row.sha256, `${row.stream} (${row.state}): SHA-256`);
					const span = await packetSpan(path, row.stream.endsWith('audio') ? 'a' : 'v');
					const seconds = span ? span.last - span.first : 0;
					console.log(`${row.state} ${row.stream}: ${row.file_name}, catalog ${row.duration_ms} ms, ` +
						`packets over ${seconds.toFixed(2)} s`);
					assert.equal(await decodeErrors(path), '', `${row.stream} (${row.state}): decode errors`);
					// Each run had RUN_MS of media at least; allow the crash's unwritten tail.
					assert.ok(seconds >= RUN_MS / 1000 - 2.5, `${row.stream} (${row.state}): only ${seconds} s`);
					// The catalog says how long it plays (the archive shows it), also after a crash.
					assert.ok(Math.abs(row.duration_ms / 1000 - seconds) <= 1.5,
						`${row.stream} (${row.state}): catalog ${row.duration_ms} ms, packets over ${seconds} s`);
				}
			} finally {
				await second?.stop();
			}
		});
});
