// Watch page, broadcast mode (#...&mode=hls): plays the lesson program as HLS from
// /live/LESSON/index.m3u8 — for large audiences, a few seconds behind the lesson. Natively
// where the browser plays HLS, else through hls.js (npm; `make run` installs it into
// web/node_modules). The token rides on the playlist URL (?token=): players cannot send
// headers, and the server carries it on to every segment URL.

const HLS_JS = '/node_modules/hls.js/dist/hls.mjs';
const RETRY_MS = 3000;

/** Which player this browser uses: 'native', 'hls.js', or null when it has neither. */
async function pickPlayer(video, forced) {
	if (forced !== 'hls.js' && video.canPlayType('application/vnd.apple.mpegurl'))
		return { kind: 'native' };
	try {
		const { default: Hls } = await import(HLS_JS);
		if (Hls.isSupported())
			return { kind: 'hls.js', Hls };
	} catch (err) {
		console.error('ketang watch: hls.js not available', err);
	}
	return null;
}

/**
 * Plays the broadcast of @join.lesson in @video. @onState(state, detail) gets 'connecting',
 * 'waiting' (not broadcast yet, retried), 'live', 'ended' or 'failed'. Resolves with the
 * player used ('native' or 'hls.js'), or null.
 */
export async function playHls(video, join, { onState, forced = null }) {
	const url = `/live/${encodeURIComponent(join.lesson)}/index.m3u8` +
		`?token=${encodeURIComponent(join.token)}`;
	const player = await pickPlayer(video, forced);
	if (!player) {
		onState('failed', '此浏览器无法播放直播 This browser cannot play the broadcast');
		return null;
	}
	let started = false;
	const attach = () => {
		if (player.kind === 'native') {
			video.src = url;
		} else {
			const hls = new player.Hls({ lowLatencyMode: false, liveSyncDurationCount: 3 });
			hls.on(player.Hls.Events.ERROR, (_event, data) => {
				if (data.fatal) {
					hls.destroy();
					setTimeout(check, RETRY_MS);
				}
			});
			hls.loadSource(url);
			hls.attachMedia(video);
		}
		video.play().catch(() => {});
	};
	// The playlist is there only while the lesson is broadcast: ask before handing the URL
	// to a player, so "not started yet", "ended" and "no access" read as such.
	const check = async () => {
		onState('connecting');
		let res;
		try {
			res = await fetch(url, { cache: 'no-store' });
		} catch {
			setTimeout(check, RETRY_MS);
			return;
		}
		if (res.status === 401 || res.status === 403) {
			onState('failed', '链接无效或已过期 The link is invalid or has expired');
			return;
		}
		if (!res.ok) {
			onState(started ? 'ended' : 'waiting');
			if (!started)
				setTimeout(check, RETRY_MS);
			return;
		}
		attach();
	};
	video.addEventListener('playing', () => {
		started = true;
		onState('live');
	});
	video.addEventListener('ended', () => onState('ended'));
	video.addEventListener('error', () => setTimeout(check, RETRY_MS));
	await check();
	return player.kind;
}
