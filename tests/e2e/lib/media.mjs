// Real checks of recorded files with ffprobe and ffmpeg (Debian's), and fetching them
// through the archive API.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * ffprobe of @path: { duration, start, streams: [{ type, codec, width, height, start }],
 * video: first video stream or undefined, audio: likewise }.
 */
export async function probe(path) {
	const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries',
		'format=duration,start_time:stream=codec_type,codec_name,width,height,start_time', '-of', 'json', path]);
	const j = JSON.parse(stdout);
	const streams = (j.streams || []).map((s) => ({ type: s.codec_type, codec: s.codec_name, width: s.width,
		height: s.height, start: Number(s.start_time) }));
	return {
		duration: Number(j.format?.duration),
		start: Number(j.format?.start_time),
		streams,
		video: streams.find((s) => s.type === 'video'),
		audio: streams.find((s) => s.type === 'audio'),
	};
}

/**
 * First and last packet times (seconds) of @path's first stream of @type ('v' or 'a'):
 * what a player can actually reach, also in a file whose index a crash never wrote.
 */
export async function packetSpan(path, type) {
	const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', `${type}:0`, '-show_entries',
		'packet=pts_time', '-of', 'csv=p=0', path], { maxBuffer: 64 * 1024 * 1024 });
	// Blank lines (the trailing newline, packets without a time) are not packets: Number('')
	// would read them as 0 s.
	const times = stdout.split('\n').filter((l) => /\d/.test(l)).map(Number)
		.filter((t) => Number.isFinite(t) && t >= 0);
	if (!times.length)
		return null;
	return { first: Math.min(...times), last: Math.max(...times), packets: times.length };
}

/**
 * Decodes every stream of @path; resolves ffmpeg's error output ('' = clean). Frames keep
 * their own timestamps (fps_mode passthrough): live video has a variable frame rate, and
 * ffmpeg's default constant-rate output would complain about two frames rounding to one
 * output slot, which says nothing about the file.
 */
export async function decodeErrors(path) {
	try {
		const { stderr } = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-fps_mode', 'passthrough',
			'-f', 'null', '-'],
			{ maxBuffer: 16 * 1024 * 1024 });
		// Lines from ffmpeg's own null output muxer are about the output, not the file
		// (known: a courseware file with two frames in one millisecond, see issue #4 note);
		// so is ffmpeg's "Last message repeated N times" right after one of them.
		const kept = [];
		let dropped = false;
		for (const l of stderr.split('\n')) {
			if (!l.trim())
				continue;
			if (l.startsWith('[null @') || (dropped && /^\s*Last message repeated/.test(l))) {
				dropped = true;
				continue;
			}
			dropped = false;
			kept.push(l);
		}
		return kept.join('\n');
	} catch (err) {
		return `ffmpeg failed: ${err.stderr || err.message}`.trim();
	}
}

/** GET @url (self-signed HTTPS) into @path; resolves { status, headers, size }. */
export function download(url, path) {
	return new Promise((resolve, reject) => {
		https.get(url, { rejectUnauthorized: false }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', async () => {
				const body = Buffer.concat(chunks);
				await writeFile(path, body);
				resolve({ status: res.statusCode, headers: res.headers, size: body.length });
			});
			res.on('error', reject);
		}).on('error', reject);
	});
}

/** SHA-256 of the file at @path, lowercase hex. */
export async function sha256(path) {
	return createHash('sha256').update(await readFile(path)).digest('hex');
}
