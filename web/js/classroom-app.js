// Classroom page (/classroom#lesson=ID&token=TOKEN&room=NAME): opening the
// link is all a classroom does. The page joins by itself, publishes the room
// camera + microphone and shows the courseware large, the teacher camera
// picture-in-picture and the on-stage classroom; raise/lower hand, banners
// when muted or on stage, reconnects by itself, and a lesson-ended screen.
//
// Query flags: ?video=WxH sets the room camera size (default 640x360);
// ?audio=mix|forward picks the audio (else the choice last made on this
// computer, else forward: one track per speaker).

import { LessonClient } from './lesson-client.js';
import { getJoinInfo } from './join.js';
import { describeError } from './whip-client.js';
import { $, errorText, exposeForTests, notice, readFragment, setBanner, setStatus, showTracks,
	tryPlay, videoSize, watchFirstFrame, wireChat } from './ui.js';

let client = null;
let camera = null;
let stopFrameWatch = null;
let watchedMid = null;
let watchedPc = null;
const audioSinks = new Map(); // track id -> <audio>

// Read by the end-to-end tests. joinStart is navigation start (0 on the
// performance.now() clock); firstTeacherFrame is the first decoded frame of
// the teacher's camera (getStats framesDecoded), teacherFrameAt the latest
// such first frame (after a rejoin).
const pageTimings = { joinStart: 0, firstTeacherFrame: null, teacherFrameAt: null };
exposeForTests(() => client, pageTimings, { audioBlocked: false });

const STATUS = {
	connecting: ['connecting', '正在进入课堂… Joining the lesson…'],
	joined: ['live', '已进入课堂 In the lesson'],
	reconnecting: ['reconnecting', '正在重新连接… Reconnecting…'],
	ended: ['ended', '已下课 Lesson ended'],
	left: ['idle', '已离开 Left'],
};

function onState({ detail }) {
	window.ketang.state = detail.state;
	if (detail.state === 'failed') {
		const err = client.error || {};
		window.ketang.error = detail.reason;
		setStatus('failed', err.code === 'replaced' ? '已在别处打开 Opened elsewhere' : '无法进入课堂 Cannot join');
		setBanner('banner-reconnecting', null);
		setBanner('notice', `${errorText(err.code, err.message)}`);
		return;
	}
	const [css, text] = STATUS[detail.state] || ['idle', detail.state];
	setStatus(css, text);
	setBanner('banner-reconnecting', detail.state === 'reconnecting'
		? '网络中断，正在自动重新连接，请稍候… 无需任何操作。 Connection lost: reconnecting by itself, nothing to do.'
		: null);
	if (detail.state === 'ended')
		showEnded();
	render();
}

function showEnded() {
	if (camera)
		camera.getTracks().forEach((t) => t.stop());
	camera = null;
	for (const el of audioSinks.values())
		el.srcObject = null;
	$('room').hidden = true;
	['banner-muted', 'banner-stage', 'notice'].forEach((id) => setBanner(id, null));
	$('ended-screen').hidden = false;
}

function teacherId() {
	const teacher = Object.values(client.participants).find((p) => p.role === 'teacher');
	if (teacher)
		return teacher.id;
	// The streams name the teacher even if the participant list lags behind.
	const sent = client.remoteStreams.find((s) => s.source === 'courseware');
	return sent ? sent.participant : null;
}

/** Who sends the teacher's @source: a lesson source scheduled for it (an RTSP
 * camera or an encoder, chosen by the school) first, else the teacher's page. */
function teacherSender(source) {
	for (const f of client.feeds)
		if (f.role !== 'classroom' && client.remoteTrack(f.id, source))
			return f.id;
	return teacherId();
}

function renderVideos() {
	const camFrom = teacherSender('camera');
	const cam = camFrom && client.remoteTrack(camFrom, 'camera');
	const slidesFrom = teacherSender('courseware');
	const slides = slidesFrom && client.remoteTrack(slidesFrom, 'courseware');
	// Courseware large with the teacher small; without courseware, the teacher large.
	showTracks($('main-video'), [slides || cam]);
	showTracks($('teacher-video'), [slides ? cam : null]);
	$('teacher-pip').hidden = !(slides && cam);
	$('main-waiting').hidden = !!(slides || cam);
	$('main-waiting').textContent = client.state === 'reconnecting'
		? '正在重新连接… Reconnecting…'
		: '等待老师开始上课… Waiting for the teacher…';

	const stagedId = client.stage && client.me && client.stage !== client.me.id ? client.stage : null;
	const stagedCam = stagedId && client.remoteTrack(stagedId, 'camera');
	showTracks($('onstage-video'), [stagedCam]);
	$('onstage').hidden = !stagedCam;
	const staged = stagedId && client.participant(stagedId);
	$('onstage-name').textContent = staged ? staged.name : '';
	watchTeacherFrame(camFrom);
}

function watchTeacherFrame(teacher) {
	const stream = teacher && client.remoteStreams.find((s) => s.participant === teacher && s.source === 'camera');
	if (!stream || !client.subscribePc || (stream.mid === watchedMid && client.subscribePc === watchedPc))
		return;
	if (stopFrameWatch)
		stopFrameWatch();
	watchedMid = stream.mid;
	watchedPc = client.subscribePc;
	stopFrameWatch = watchFirstFrame(client.subscribePc, stream.mid, (at) => {
		pageTimings.firstTeacherFrame = pageTimings.firstTeacherFrame || at;
		pageTimings.teacherFrameAt = at;
	});
}

/** One <audio> per received audio track (teacher, on-stage classroom). */
async function renderAudio() {
	const tracks = client.remoteStreams.filter((s) => s.kind === 'audio').map((s) => s.track);
	for (const [id, el] of audioSinks) {
		if (!tracks.some((t) => t.id === id)) {
			el.srcObject = null;
			el.remove();
			audioSinks.delete(id);
		}
	}
	for (const track of tracks) {
		if (audioSinks.has(track.id))
			continue;
		const el = document.createElement('audio');
		el.autoplay = true;
		el.srcObject = new MediaStream([track]);
		$('audio-sinks').append(el);
		audioSinks.set(track.id, el);
		if (!(await tryPlay(el)))
			askForGesture();
	}
}

/** Autoplay with sound needs one click on some browsers: a big Start button. */
function askForGesture() {
	window.ketang.audioBlocked = true;
	$('start-overlay').hidden = false;
}

async function onStartClicked() {
	$('start-overlay').hidden = true;
	window.ketang.audioBlocked = false;
	for (const el of audioSinks.values())
		if (!(await tryPlay(el)))
			askForGesture();
	for (const id of ['main-video', 'teacher-video', 'onstage-video'])
		$(id).play().catch(() => {});
}

function renderSelf() {
	const me = client.me && client.participant(client.me.id);
	const joined = client.state === 'joined';
	const hand = !!(me && me.hand);
	$('hand').disabled = !joined;
	$('hand').textContent = hand ? '👇 放下手 Lower hand' : '✋ 举手 Raise hand';
	$('hand').classList.toggle('hand-up', hand);
	$('chat-input').disabled = !joined;
	setBanner('banner-muted', joined && me && me.muted
		? '🔇 老师已将本教室静音 The teacher muted this classroom — 其他教室听不到你们 the other classrooms cannot hear you'
		: null);
	setBanner('banner-stage', joined && me && me.staged
		? '🎤 本教室正在发言 You are on stage — 所有教室都能看到、听到你们 every classroom sees and hears you'
		: null);
	if (me && me.name)
		$('room-name').textContent = `教室 Classroom: ${me.name}`;
}

function render() {
	if (!client || client.state === 'ended')
		return;
	if (client.lesson)
		$('lesson-title').textContent = client.lesson.title || client.lesson.id;
	renderSelf();
	renderVideos();
	renderAudio();
}

const AUDIO_KEY = 'ketang.classroom.audio';

/** The audio this classroom asked for: ?audio=, else the last choice here, else forward. */
function initialAudio() {
	const asked = new URLSearchParams(location.search).get('audio');
	let saved = null;
	try {
		saved = localStorage.getItem(AUDIO_KEY);
	} catch {
		// Storage may be off (private mode): the choice then lasts for this page.
	}
	return (asked || saved) === 'mix' ? 'mix' : 'forward';
}

async function onAudioMixChanged() {
	const box = $('audio-mix');
	const mode = box.checked ? 'mix' : 'forward';
	box.disabled = true;
	try {
		await client.setAudio(mode);
		try {
			localStorage.setItem(AUDIO_KEY, mode);
		} catch {
			// Not remembered after a reload; still kept for reconnects.
		}
	} catch (err) {
		box.checked = client.audio === 'mix';
		notice(`单路混音不可用 Single audio mix unavailable: ${errorText(err.code, err.message)}`);
	} finally {
		box.disabled = false;
	}
}

async function toggleHand() {
	const me = client.me && client.participant(client.me.id);
	try {
		await client.request(me && me.hand ? 'lower_hand' : 'raise_hand');
	} catch (err) {
		notice(errorText(err.code, err.message));
	}
}

async function openCamera() {
	try {
		camera = await navigator.mediaDevices.getUserMedia({
			video: { ...videoSize('640x360'), frameRate: { ideal: 15, max: 20 } },
			audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
		});
	} catch (err) {
		notice(`${describeError(err)} — 本教室仍可观看上课 this classroom can still watch the lesson`);
		return;
	}
	$('self-video').srcObject = camera;
	client.setSource('camera', camera.getVideoTracks()[0], camera);
	if (camera.getAudioTracks()[0])
		client.setSource('audio', camera.getAudioTracks()[0], camera);
}

async function main() {
	if (!window.RTCPeerConnection || !navigator.mediaDevices || !window.WebSocket) {
		setStatus('failed', '此浏览器不支持视频上课，请使用新版 Chrome/Edge/Firefox ' +
			'This browser cannot run a lesson: use a recent Chrome, Edge or Firefox');
		return;
	}
	const room = readFragment().room;
	const join = await getJoinInfo();
	if (room)
		$('room-name').textContent = `教室 Classroom: ${room}`;
	$('lesson-title').textContent = join.lesson;
	client = new LessonClient({ token: join.token, name: room, audio: initialAudio() });
	$('audio-mix').checked = client.audio === 'mix';
	$('audio-mix').addEventListener('change', onAudioMixChanged);
	client.addEventListener('state', onState);
	client.addEventListener('change', render);
	client.addEventListener('streams', render);
	client.addEventListener('servererror', ({ detail }) => notice(errorText(detail.code, detail.message)));
	wireChat(client, (err) => notice(errorText(err.code, err.message)));
	$('hand').addEventListener('click', toggleHand);
	$('start-audio').addEventListener('click', onStartClicked);
	window.addEventListener('pagehide', () => client.leave());
	// Join at once; the camera follows (publishing starts when it is open).
	client.start();
	await openCamera();
}

main();
