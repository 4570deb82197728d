// Publish page (/publish): sends camera + microphone to the lesson through WHIP.

import { CONNECTION_TEXT, KetangError, WhipClient, describeError, waitForIceGathering }
	from './whip-client.js';
import { getJoinInfo, showStatus } from './join.js';
import { transceiverInit } from './simulcast.js';

const RETRY_MAX_MS = 15000;
const DISCONNECTED_GRACE_MS = 8000; // ICE often recovers by itself first

// Read by the end-to-end tests.
const ketang = { pc: null, state: 'idle', error: null, timings: {}, location: null };
window.ketang = ketang;

const $ = (id) => document.getElementById(id);
let join = null;
let stream = null;
let client = null;
let wanted = false; // true from "start" until "stop"
let generation = 0; // bumps on every (re)connect so stale callbacks do nothing
let retries = 0;
let retryTimer = 0;
let graceTimer = 0;
// ?simulcast=0: one video stream, as OBS sends; the server makes the sizes
// ([ingest] whip_ladder). For a teacher whose own uplink cannot carry three.
const SIMULCAST = new URLSearchParams(location.search).get('simulcast') !== '0';

const STATUS = {
	idle: '准备就绪 Ready',
	connecting: '正在连接… Connecting…',
	live: '正在直播 Live — 学生可以看到您 students can see you',
	reconnecting: '网络中断，正在重连… Connection lost, reconnecting…',
	stopped: '已下课 Stopped',
};

function setState(state, error = null) {
	ketang.state = state;
	ketang.error = error;
	showStatus(state, error ? `失败 Failed: ${error}` : STATUS[state]);
	$('start').disabled = !join || state === 'connecting' || state === 'live' ||
		state === 'reconnecting';
	$('stop').disabled = !wanted;
}

function videoConstraints() {
	const [width, height] = $('quality').value.split('x').map(Number);
	return { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30, max: 30 } };
}

async function openCamera() {
	if (stream)
		return stream;
	stream = await navigator.mediaDevices.getUserMedia({
		video: videoConstraints(),
		audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
	});
	$('preview').srcObject = stream;
	return stream;
}

function closeCamera() {
	if (stream)
		stream.getTracks().forEach((track) => track.stop());
	stream = null;
	$('preview').srcObject = null;
}

function teardownPeer() {
	clearTimeout(graceTimer);
	if (ketang.pc) {
		ketang.pc.onconnectionstatechange = null;
		ketang.pc.close();
	}
	ketang.pc = null;
	$('conn-state').textContent = '—';
	if (client)
		client.close(); // DELETE: frees our publisher slot before a retry
	client = null;
	ketang.location = null;
}

function onConnectionState(pc, mine) {
	if (mine !== generation)
		return;
	const state = pc.connectionState;
	$('conn-state').textContent = CONNECTION_TEXT[state] || state;
	clearTimeout(graceTimer);
	if (state === 'connected') {
		retries = 0;
		ketang.timings.connected = performance.now();
		setState('live');
	} else if (state === 'failed') {
		scheduleRetry();
	} else if (state === 'disconnected') {
		setState('reconnecting');
		graceTimer = setTimeout(scheduleRetry, DISCONNECTED_GRACE_MS);
	}
}

async function connect() {
	const mine = ++generation;
	const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
	ketang.pc = pc;
	pc.onconnectionstatechange = () => onConnectionState(pc, mine);
	for (const track of stream.getVideoTracks().concat(stream.getAudioTracks()))
		pc.addTransceiver(track, transceiverInit(track, stream, SIMULCAST));

	await pc.setLocalDescription(await pc.createOffer());
	await waitForIceGathering(pc, 2000);
	if (mine !== generation)
		return;
	client = new WhipClient(`/whip/${encodeURIComponent(join.lesson)}`, join.token);
	ketang.timings.postStart = performance.now();
	const answer = await client.post(pc.localDescription.sdp);
	ketang.timings.answered = performance.now();
	ketang.location = client.location;
	if (mine !== generation) {
		client.close();
		return;
	}
	await pc.setRemoteDescription({ type: 'answer', sdp: answer });
}

function fail(err) {
	console.error('ketang publish:', err);
	if (!wanted)
		return;
	if (err instanceof KetangError && (err.permanent || err.status === 409)) {
		// Retrying cannot fix a bad token or a taken seat: say so and stop.
		wanted = false;
		teardownPeer();
		setState('failed', describeError(err));
		return;
	}
	ketang.error = describeError(err);
	scheduleRetry(describeError(err));
}

function scheduleRetry(reason = null) {
	if (!wanted)
		return;
	clearTimeout(retryTimer);
	teardownPeer();
	const delay = Math.min(1000 * 2 ** retries, RETRY_MAX_MS) * (0.75 + Math.random() / 2);
	retries++;
	setState('reconnecting');
	ketang.error = reason;
	if (reason)
		showStatus('reconnecting', `${reason} — ${Math.round(delay / 1000)} 秒后重试 retrying in ${Math.round(delay / 1000)} s`);
	retryTimer = setTimeout(() => connect().catch(fail), delay);
}

async function start() {
	wanted = true;
	retries = 0;
	ketang.timings = { start: performance.now() };
	setState('connecting');
	try {
		await openCamera();
		await connect();
	} catch (err) {
		if (!(err instanceof KetangError)) {
			// Camera or browser trouble: nothing to retry.
			wanted = false;
			teardownPeer();
			closeCamera();
			setState('failed', describeError(err));
			return;
		}
		fail(err);
	}
}

function stop() {
	wanted = false;
	generation++;
	clearTimeout(retryTimer);
	teardownPeer();
	closeCamera();
	setState('stopped');
}

async function changeQuality() {
	const track = stream && stream.getVideoTracks()[0];
	if (!track)
		return;
	try {
		await track.applyConstraints(videoConstraints());
	} catch (err) {
		showStatus(ketang.state, describeError(err));
	}
}

// One line of what is being sent, every 2 s: lets a teacher see that the
// lesson is going out and at what quality.
let lastBytes = 0;
let lastTime = 0;
async function updateStats() {
	const pc = ketang.pc;
	if (!pc || ketang.state !== 'live') {
		$('stats').textContent = '';
		return;
	}
	const report = await pc.getStats();
	report.forEach((s) => {
		if (s.type !== 'outbound-rtp' || s.kind !== 'video')
			return;
		const kbps = lastTime && s.timestamp > lastTime
			? `${Math.max(0, Math.round((8 * (s.bytesSent - lastBytes)) / (s.timestamp - lastTime)))} kbps` : '';
		lastBytes = s.bytesSent;
		lastTime = s.timestamp;
		const size = s.frameWidth ? `${s.frameWidth}×${s.frameHeight}` : '';
		const fps = s.framesPerSecond ? `${Math.round(s.framesPerSecond)} fps` : '';
		$('stats').textContent = `发送 Sending: ${size} ${fps} ${kbps}`;
	});
}

async function main() {
	$('start').addEventListener('click', start);
	$('stop').addEventListener('click', stop);
	$('quality').addEventListener('change', changeQuality);
	window.addEventListener('pagehide', () => {
		if (client)
			client.close({ keepalive: true });
	});
	setInterval(() => updateStats().catch(() => {}), 2000);
	if (!window.RTCPeerConnection || !navigator.mediaDevices) {
		setState('failed', '此浏览器不支持视频直播，请使用新版 Chrome/Edge/Firefox ' +
			'This browser cannot publish video; use a recent Chrome, Edge or Firefox');
		return;
	}
	join = await getJoinInfo();
	$('lesson-id').textContent = join.lesson;
	setState('idle');
}

main();
