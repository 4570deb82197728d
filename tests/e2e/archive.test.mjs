// The /archive page against the real server (issue #4): a recording imported with
// `ketang recording add` (a real file made by ffmpeg, with chapters) is found by search
// with an archivist token from the link's fragment, plays (currentTime advances), and a
// chapter click seeks. A teacher token is refused with a readable message.
//
// The file is H.264 + AAC in MP4 with faststart, as the program recording: Debian 12's
// chromium plays it (canPlayType "probably", printed by the test). Run inside tests/netns-run.sh; needs
// KETANG_BIN, ffmpeg and tests/e2e/node_modules.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launchBrowser } from './lib/browser.mjs';
import { ketangBinary, startServer } from './lib/server.mjs';

const run = promisify(execFile);
const bin = await ketangBinary();

describe('archive page', () => {
	let server, browser;

	before(async () => {
		server = await startServer();
		browser = await launchBrowser();
		const file = join(server.dataDir, 'lesson.mp4');
		await run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=6:size=320x240:rate=15',
			'-f', 'lavfi', '-i', 'sine=duration=6', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', file]);
		const add = (lesson, title, chapters = []) => run(bin, ['recording', 'add', '--config', server.config,
			'--lesson', lesson, '--file', file, '--title', title, '--teacher', 'Ms Li', '--subject', 'Maths',
			'--grade', '7', '--duration-ms', '6000',
			...chapters.flatMap((c) => ['--chapter', c])]);
		await add('other1', 'Poems 诗歌');
		await add('frac1', 'Fractions 分数', ['1500:Room A on stage', '4000:Courseware']);
	});

	after(async () => {
		await browser?.close();
		await server?.stop();
	});

	it('finds, plays and seeks a recording', async () => {
		const token = await server.token('', 'archivist');
		const page = await browser.newPage('archive');
		await page.goto(`${server.origin}/archive#token=${encodeURIComponent(token)}`);
		const h264 = await page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'));
		console.log(`this chromium canPlayType(H.264 + AAC in MP4) = "${h264}"`);

		await page.locator('.archive-item').first().waitFor();
		assert.equal(await page.locator('.archive-item').count(), 2);
		await page.fill('#q', '分数');
		await page.click('#search-form button[type=submit]');
		await page.waitForFunction(() => document.querySelectorAll('.archive-item').length === 1);
		assert.match(await page.locator('.archive-item').first().textContent(), /Fractions/);
		await page.locator('.archive-item').first().click();

		await page.locator('.archive-chapter').first().waitFor();
		assert.equal(await page.locator('.archive-chapter').count(), 2);
		const download = await page.getAttribute('#download', 'href');
		assert.match(download, /\/api\/recordings\/\d+\/media\?token=.*&download=1/);

		// muted, so autoplay is allowed in headless chromium
		await page.evaluate(() => { const v = document.getElementById('video'); v.muted = true; v.play(); });
		await page.waitForFunction(() => document.getElementById('video').currentTime > 0.5, null, { timeout: 15000 });
		const t1 = await page.evaluate(() => document.getElementById('video').currentTime);
		await page.waitForTimeout(700);
		const t2 = await page.evaluate(() => document.getElementById('video').currentTime);
		assert.ok(t2 > t1, `currentTime did not advance (${t1} -> ${t2})`);

		await page.locator('.archive-chapter', { hasText: 'Courseware' }).click();
		await page.waitForFunction(() => {
			const v = document.getElementById('video');
			return v.currentTime >= 3.9 && v.currentTime < 5.5 && !v.seeking;
		}, null, { timeout: 10000 });
		await page.locator('.archive-chapter', { hasText: 'Room A' }).click();
		await page.waitForFunction(() => {
			const v = document.getElementById('video');
			return v.currentTime >= 1.4 && v.currentTime < 3.0 && !v.seeking;
		}, null, { timeout: 10000 });
		assert.deepEqual(browser.problems, []);
		await page.close();
	});

	it('refuses a teacher token with a readable message', async () => {
		const token = await server.token('frac1', 'teacher');
		const page = await browser.newPage('archive-teacher');
		await page.goto(`${server.origin}/archive#token=${encodeURIComponent(token)}`);
		await page.waitForFunction(() => /archive|录像/.test(document.getElementById('status').textContent)
			&& document.getElementById('status').className.includes('failed'));
		assert.equal(await page.locator('.archive-item').count(), 0);
		await page.close();
	});
});
