// Recording under real lesson conditions (issue #4). During one recorded lesson:
// - the teacher stops the courseware share and starts it again;
// - both publishers leave (the classroom's page and the teacher's page close);
// - they come back to the same lesson, the teacher with a 640x480 camera
//   instead of 320x240: a resolution change.
// Every stream still has exactly one recording: one catalog row and one file
// that decodes without an error, from the stream's start to the end of the
// lesson. The teacher camera and courseware files hold both sizes, old first.
// The program's chapters mark each courseware start and stop.
//
// KETANG_E2E_KEEP=1 keeps the downloaded files and the server's data dir.
// Run inside tests/netns-run.sh; needs KETANG_BIN, ffmpeg and tests/e2e/node_modules.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { launchBrowser, loadPlaywright } from './lib/browser.mjs';
import { request } from './lib/http.mjs';
import { decodeErrors, packetSpan, probe } from './lib/media.mjs';
import { assertLessonReceives, lessonInbound, openClassroom, openLessonTeacher, waitForLessonState, waitLessonStops }
	from './lib/pages.mjs';
import { fetchMedia, schedule, useBrowserAndScratch, waitForRows } from './lib/recordings.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

await loadPlaywright();
await ketangBinary();

const run = promisify(execFile);

/** The frame sizes in a video file, in order of appearance, without repeats. */
async function frameSizes(path) {
	const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
		'frame=width,height', '-of', 'csv=p=0', path], { maxBuffer: 64 * 1024 * 1024 });
	const sizes = [];
	for (const line of stdout.split('\n').filter((l) => /\d/.test(l))) {
		const size = line.split(',').slice(0, 2).join('x');
		if (sizes[sizes.length - 1] !== size)
			sizes.push(size);
	}
	return sizes;
}

/** The widest frame the page has decoded of participant's source, once wider than
 * 320 (or what it is after 25 s: a new subscriber starts on a low simulcast layer and
 * climbs as its bandwidth estimate does, which a loaded machine slows). */
async function decodedWidth(page, participant, source) {
	const deadline = Date.now() + 25000;
	let width = 0;
	while (Date.now() < deadline) {
		width = await page.evaluate(async ([p, src]) => {
			const k = window.ketang;
			const mid = k.streams.find((x) => x.participant === p && x.source === src)?.mid;
			let w = 0;
			(await k.subscribePc?.getStats())?.forEach((r) => {
				if (r.type === 'inbound-rtp' && r.mid === mid)
					w = Math.max(w, r.frameWidth || 0);
			});
			return w;
		}, [participant, source]);
		if (width > 320)
			break;
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	return width;
}

const teacherIdOn = (page) => page.evaluate(() =>
	Object.values(window.ketang.participants).find((p) => p.role === 'teacher')?.id);

describe('recording continuity', () => {
	const ctx = useBrowserAndScratch();

	it('courseware stop/start and a teacher who leaves and rejoins larger: one whole recording per stream', async () => {
		const server = await startServer();
		let second = null;
		try {
			const lesson = await schedule(server, { title: '连续 Continuity', subject: 'Science', grade: '5',
				teacher: 'Mr Wang', classrooms: ['Room A'] });
			const archivist = await server.token('', 'archivist');
			const teacherToken = await server.token(lesson.id, 'teacher');
			let teacher = await ctx.browser.newPage('teacher');
			const liveFrom = Date.now();
			await openLessonTeacher(teacher, server.origin, lesson.id, teacherToken);
			await teacher.click('#share');
			let room = await ctx.browser.newPage('Room A');
			await openClassroom(room, server.origin, lesson.id, await server.token(lesson.id, 'classroom'), 'Room A');
			let teacherId = await teacherIdOn(room);
			await assertLessonReceives(room, teacherId, 'courseware');

			// The share stops and starts again.
			await teacher.click('#share');
			assert.ok(await waitLessonStops(room, teacherId, 'courseware'), 'courseware still flowing');
			const stopped = await lessonInbound(room, teacherId, 'courseware');
			await teacher.click('#share');
			await assertLessonReceives(room, teacherId, 'courseware', { since: stopped });

			// Both publishers leave: the classroom's page closes, then the teacher's. The
			// teacher comes back from another browser (its own fake camera: one browser's
			// camera stays at the size it was first opened at) with a 640x480 camera,
			// then the classroom. The new camera keeps its resolution on a busy machine
			// (maintain-resolution), so the change is always there to record.
			await room.close();
			await teacher.close();
			second = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
			teacher = await second.newPage('teacher again');
			await openLessonTeacher(teacher, server.origin, lesson.id, teacherToken,
				{ size: '640x480', coursewareSize: '640x480' });
			await teacher.click('#share');
			await teacher.evaluate(async () => {
				for (const sender of window.ketang.publishPc.getSenders()) {
					if (sender.track?.kind !== 'video')
						continue;
					const params = sender.getParameters();
					params.degradationPreference = 'maintain-resolution';
					await sender.setParameters(params);
				}
			});
			room = await ctx.browser.newPage('Room A again');
			await openClassroom(room, server.origin, lesson.id, await server.token(lesson.id, 'classroom'), 'Room A');
			teacherId = await teacherIdOn(room);
			await assertLessonReceives(room, teacherId, 'courseware');
			for (const source of ['camera', 'courseware']) {
				const width = await decodedWidth(room, teacherId, source);
				// On failure, what the teacher was sending: a layer Chromium dropped under
				// CPU load (qualityLimitationReason 'cpu') is not the server's choice.
				assert.ok(width > 320, `the classroom decodes the new ${source} size: ${width} wide; ` +
					`the teacher sends ${JSON.stringify(await teacher.evaluate(async () =>
						[...(await window.ketang.publishPc.getStats()).values()]
							.filter((r) => r.type === 'outbound-rtp' && r.kind === 'video')
							.map(({ mid, rid, frameWidth, framesPerSecond, qualityLimitationReason }) =>
								({ mid, rid, frameWidth, framesPerSecond, qualityLimitationReason }))))}`);
			}
			await new Promise((resolve) => setTimeout(resolve, 2000));

			await teacher.click('#end');
			await teacher.click('#end-confirm');
			await waitForLessonState(teacher, 'ended', 5000);
			const endedBy = Date.now();
			const lessonSeconds = (endedBy - liveFrom) / 1000;
			const streams = ['program', 'teacher-camera', 'teacher-audio', 'courseware', 'Room A-camera', 'Room A-audio'];
			const rows = await waitForRows(server, archivist, lesson.id,
				(rs) => streams.every((s) => rs.some((r) => r.stream === s && r.state === 'complete')), 5000,
				'every recording complete');
			// Exactly one recording per stream: nothing was split by the stop, the leave or the new size.
			assert.deepEqual(rows.map((r) => r.stream).sort(), [...streams].sort(),
				JSON.stringify(rows.map((r) => [r.stream, r.state])));
			await teacher.close();
			await room.close();

			for (const row of rows) {
				const path = await fetchMedia(server, archivist, row, ctx.scratch);
				const p = await probe(path);
				assert.equal(await decodeErrors(path), '', `${row.stream}: decode errors`);
				const span = await packetSpan(path, p.video ? 'v' : 'a');
				console.log(`${row.stream}: ${row.duration_ms} ms, media ${span.first.toFixed(2)}..${span.last.toFixed(2)} s ` +
					`of a ${lessonSeconds.toFixed(2)} s lesson`);
				// Every stream goes on to the end of the lesson (the teacher's across its rejoin).
				assert.ok(span.last >= lessonSeconds - 2.5, `${row.stream}: ends at ${span.last} s`);
				if (row.stream.startsWith('teacher') || row.stream === 'program')
					assert.ok(span.first <= 2.5, `${row.stream}: starts at ${span.first} s`);
				if (row.stream === 'teacher-camera' || row.stream === 'courseware') {
					const sizes = await frameSizes(path);
					console.log(`${row.stream} frame sizes: ${sizes.join(' -> ')}`);
					// The old size first, then a larger one: 640x480, or what Chromium's
					// quality adaptation made of it on a busy machine.
					const wider = sizes.slice(1).some((sz) => Number(sz.split('x')[0]) > 320);
					assert.ok(sizes[0] === '320x240' && wider, `${row.stream} sizes ${sizes.join(', ')}`);
				}
				if (row.stream === 'program') {
					assert.equal(p.video.width, 1280);
					assert.equal(p.video.height, 720);
					const { body } = await request(`${server.origin}/api/recordings/${row.id}`,
						{ headers: { Authorization: `Bearer ${archivist}` } });
					const chapters = JSON.parse(body).chapters.map((c) => c.title);
					console.log(`program chapters: ${JSON.stringify(chapters)}`);
					const count = (re) => chapters.filter((t) => re.test(t)).length;
					assert.ok(count(/Courseware started/) >= 2, 'courseware started twice');
					assert.ok(count(/Courseware stopped/) >= 1, 'courseware stopped');
				}
			}
		} finally {
			await second?.close();
			await server.stop({ keepData: !!process.env.KETANG_E2E_KEEP });
		}
	});
});
