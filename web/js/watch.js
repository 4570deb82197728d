// Watch page: receives the lesson through WHEP and reconnects by itself. The join link's
// "&mode=" picks what: none = the teacher's camera and audio (POST /whep/LESSON);
// "program" = the lesson program, the composite and mix also recorded and broadcast
// (POST /whep/LESSON/program, low latency); "hls" = that program as the HLS broadcast
// (watch-hls.js, seconds behind, for large audiences).

import { CONNECTION_TEXT, KetangError, WhipClient, describeError, waitForIceGathering }
	from './whip-client.js';
import { getJoinInfo, showStatus } from './join.js';

const RETRY_MAX_MS = 30000;
const DISCONNECTED_GRACE_MS = 5000; // ICE often recovers by itself first

// Read by the end-to-end tests. timings: postStart (just before the WHEP
// POST) and firstFrame (first decoded frame shown) of the latest attempt.
const ketang = { pc: null, state: 'idle', error: null, timings: {}, reconnects: 0, location: null };
window.ketang = ketang;

const $ = (id) => document.getElementById(id);
const video = $('video');
let join = null;
let client = null;
let generation = 0; // bumps on every (re)connect so stale callbacks do nothing
let retries = 0;
let retryTimer = 0;
let graceTimer = 0;

// What each WebRTC mode receives: its WHEP path under /whep/LESSON and the words for it.
const MODES = {
	teacher: { path: '', waiting: '已连接，等待老师画面… Connected, waiting for the teacher’s video…' },
	program: { path: '/program', waiting: '已连接，等待课堂节目画面… Connected, waiting for the lesson program…' },
};
let mode = MODES.teacher;
const NO_PROGRAM = '课堂节目尚未开始 The lesson program has not started yet';

const STATUS = {
	idle: '准备就绪 Ready',
	connecting: '正在连接… Connecting…',
	waiting: '已连接，等待老师画面… Connected, waiting for the teacher’s video…',
	live: '正在观看 Watching live',
	reconnecting: '网络中断，正在重连… Connection lost, reconnecting…',
	ended: '课堂已结束 The lesson has ended',
};

const HLS_STATUS = {
	connecting: '正在连接直播… Connecting to the broadcast…',
	waiting: '直播尚未开始，稍后自动播放 The broadcast has not started; it plays by itself once it does',
	live: '正在观看直播 Watching the broadcast',
	ended: '课堂已结束 The lesson has ended',
};

function setState(state, error = null) {
	ketang.state = state;
	ketang.error = error;
	const text = state === 'waiting' ? mode.waiting : STATUS[state];
	showStatus(state, error ? `失败 Failed: ${error}` : text);
}

function teardownPeer() {
	clearTimeout(graceTimer);
	if (ketang.pc) {
		ketang.pc.onconnectionstatechange = null;
		ketang.pc.ontrack = null;
		ketang.pc.close();
	}
	ketang.pc = null;
	$('conn-state').textContent = '—';
	if (client)
		client.close();
	client = null;
	ketang.location = null;
}

function watchFirstFrame(mine) {
	const seen = () => {
		if (mine !== generation || ketang.timings.firstFrame)
			return;
		ketang.timings.firstFrame = performance.now();
		if (ketang.pc && ketang.pc.connectionState === 'connected')
			setState('live');
	};
	if ('requestVideoFrameCallback' in video)
		video.requestVideoFrameCallback(seen);
	else
		video.addEventListener('loadeddata', seen, { once: true });
	// The decoder's own view, independent of when this tab gets painted
	// (background tabs render late): first framesDecoded > 0.
	const poll = async () => {
		if (mine !== generation || !ketang.pc || ketang.timings.firstDecoded)
			return;
		const stats = await ketang.pc.getStats();
		stats.forEach((s) => {
			if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0 &&
			    !ketang.timings.firstDecoded)
				ketang.timings.firstDecoded = performance.now();
		});
		if (!ketang.timings.firstDecoded)
			setTimeout(poll, 20);
	};
	setTimeout(poll, 20);
}

function onTrack(pc, mine) {
	if (mine !== generation)
		return;
	const tracks = pc.getReceivers().map((r) => r.track).filter(Boolean);
	video.srcObject = new MediaStream(tracks);
	watchFirstFrame(mine);
	video.play().catch(() => {
		// Autoplay refused (rare when muted): the unmute button plays it.
	});
}

function onConnectionState(pc, mine) {
	if (mine !== generation)
		return;
	const state = pc.connectionState;
	$('conn-state').textContent = CONNECTION_TEXT[state] || state;
	clearTimeout(graceTimer);
	if (state === 'connected') {
		retries = 0;
		setState(ketang.timings.firstFrame ? 'live' : 'waiting');
	} else if (state === 'failed') {
		scheduleRetry();
	} else if (state === 'disconnected') {
		setState('reconnecting');
		graceTimer = setTimeout(() => scheduleRetry(), DISCONNECTED_GRACE_MS);
	}
}

async function connect() {
	const mine = ++generation;
	ketang.timings = {};
	setState(retries ? 'reconnecting' : 'connecting');
	const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
	ketang.pc = pc;
	pc.onconnectionstatechange = () => onConnectionState(pc, mine);
	pc.ontrack = () => onTrack(pc, mine);
	pc.addTransceiver('video', { direction: 'recvonly' });
	pc.addTransceiver('audio', { direction: 'recvonly' });

	await pc.setLocalDescription(await pc.createOffer());
	await waitForIceGathering(pc, 2000);
	if (mine !== generation)
		return;
	client = new WhipClient(`/whep/${encodeURIComponent(join.lesson)}${mode.path}`, join.token);
	ketang.timings.postStart = performance.now();
	const answer = await client.post(pc.localDescription.sdp);
	ketang.location = client.location;
	if (mine !== generation) {
		client.close();
		return;
	}
	await pc.setRemoteDescription({ type: 'answer', sdp: answer });
}

function fail(err) {
	console.error('ketang watch:', err);
	if (err instanceof KetangError && err.permanent) {
		// A bad or expired token will not get better by retrying.
		teardownPeer();
		setState('failed', describeError(err));
		return;
	}
	// The program runs only while the lesson is live (and recorded or broadcast): keep trying.
	const noProgram = err instanceof KetangError && err.code === 'no-program';
	scheduleRetry(noProgram ? NO_PROGRAM : describeError(err));
}

function scheduleRetry(reason = null) {
	clearTimeout(retryTimer);
	teardownPeer();
	const delay = Math.min(1000 * 2 ** retries, RETRY_MAX_MS) * (0.75 + Math.random() / 2);
	retries++;
	ketang.reconnects++;
	setState('reconnecting');
	ketang.error = reason;
	const secs = Math.round(delay / 1000);
	showStatus('reconnecting', `${reason || STATUS.reconnecting} — ${secs} 秒后重试 retrying in ${secs} s`);
	retryTimer = setTimeout(() => connect().catch(fail), delay);
}

function toggleSound() {
	video.muted = !video.muted;
	$('unmute').textContent = video.muted ? '开启声音 Unmute' : '关闭声音 Mute';
	video.play().catch(() => {});
}

let lastBytes = 0;
let lastTime = 0;
async function updateStats() {
	const pc = ketang.pc;
	if (!pc || pc.connectionState !== 'connected') {
		$('stats').textContent = '';
		return;
	}
	const report = await pc.getStats();
	report.forEach((s) => {
		if (s.type !== 'inbound-rtp' || s.kind !== 'video')
			return;
		const kbps = lastTime && s.timestamp > lastTime
			? `${Math.max(0, Math.round((8 * (s.bytesReceived - lastBytes)) / (s.timestamp - lastTime)))} kbps` : '';
		lastBytes = s.bytesReceived;
		lastTime = s.timestamp;
		const total = s.packetsReceived + s.packetsLost;
		const loss = total > 0 ? Math.round((100 * s.packetsLost) / total) : 0;
		const size = s.frameWidth ? `${s.frameWidth}×${s.frameHeight}` : '';
		const fps = s.framesPerSecond ? `${Math.round(s.framesPerSecond)} fps` : '';
		$('stats').textContent = `接收 Receiving: ${size} ${fps} ${kbps} · 丢包 loss ${loss}%`;
	});
}

// The HLS broadcast: no peer connection; the player reports its state.
async function watchBroadcast(forced) {
	const { playHls } = await import('./watch-hls.js');
	ketang.mode = 'hls';
	$('conn-state').textContent = 'HLS';
	ketang.player = await playHls(video, join, {
		forced,
		onState: (state, detail) => {
			ketang.state = state;
			ketang.error = state === 'failed' ? detail : null;
			showStatus(state, detail || HLS_STATUS[state] || state);
		},
	});
}

async function main() {
	$('unmute').addEventListener('click', toggleSound);
	$('fullscreen').addEventListener('click', () => video.requestFullscreen().catch(() => {}));
	window.addEventListener('pagehide', () => {
		if (client)
			client.close({ keepalive: true });
	});
	setInterval(() => updateStats().catch(() => {}), 2000);
	if (!window.RTCPeerConnection && !location.hash.includes('mode=hls')) {
		setState('failed', '此浏览器不支持视频直播，请使用新版 Chrome/Edge/Firefox ' +
			'This browser cannot play live video; use a recent Chrome, Edge or Firefox');
		return;
	}
	join = await getJoinInfo();
	$('lesson-id').textContent = join.lesson;
	const params = new URLSearchParams(location.hash.slice(1));
	if (params.get('mode') === 'hls') {
		await watchBroadcast(params.get('player'));
		return;
	}
	ketang.mode = params.get('mode') === 'program' ? 'program' : 'teacher';
	mode = MODES[ketang.mode];
	connect().catch(fail);
}

main();
