// Teacher page (/teacher#lesson=ID&token=TOKEN): runs a lesson over the
// lesson WebSocket. Publishes camera + microphone, shares courseware, shows
// one tile per classroom (video, link quality, hand, stage, mute) with the
// floor controls, the raise-hand queue and chat.
//
// The camera goes out as three simulcast layers (simulcast.js), so each
// classroom gets the size its link carries.
//
// Classrooms are shown one picture each ("individual") or as the classroom
// wall, one server-made picture of them all ("wall", PROTOCOL.md `view`):
// individual while there are at most WALL_ABOVE classrooms, the wall when
// more, until the teacher picks one with the switch.
//
// Query flags: ?fake-courseware shares a second camera track as courseware
// instead of asking for the screen (headless tests: screen capture needs a
// picker there), ?courseware-video=WxH its size (default 640x360);
// ?video=WxH sets the camera size (default 1280x720).

import { LessonClient } from './lesson-client.js';
import { getJoinInfo } from './join.js';
import { describeError } from './whip-client.js';
import { $, QUALITY_LABEL, errorText, exposeForTests, h, notice, qualityDetail, qualityLevel,
	setBanner, setStatus, showTracks, videoSize, wireChat } from './ui.js';

const FAKE_COURSEWARE = new URLSearchParams(location.search).has('fake-courseware');

let client = null;
let camera = null; // MediaStream: camera + microphone
let courseware = null; // MediaStream: the shared screen (or the fake second camera)
const tiles = new Map(); // participant id -> tile elements

const WALL_ABOVE = 4; // more classrooms than this: the wall by default
const view = {
	choice: null, // the teacher's pick ('wall' | 'individual'), null = automatic
	mode: 'individual', // what the server was asked for and accepted since the last join
	pending: false,
	unavailable: false, // the server refused the wall (switched off)
	layout: null, // the last `wall` message
};
const wallLayouts = []; // every `wall` message, for the tests

// Read by the end-to-end tests.
const pageTimings = { joinStart: 0 };
const recordingEvents = []; // `recording` lesson events (a recording that failed)
exposeForTests(() => client, pageTimings, {
	recordingEvents,
	wallLayouts,
	get view() { return { mode: view.mode, choice: view.choice, layout: view.layout }; },
});

const STATUS = {
	connecting: ['connecting', '正在进入课堂… Joining the lesson…'],
	joined: ['live', '正在上课 Lesson live'],
	reconnecting: ['reconnecting', '网络中断，正在重新连接… Reconnecting…'],
	ended: ['ended', '已下课 Lesson ended'],
	left: ['idle', '已离开 Left'],
};

function onState({ detail }) {
	window.ketang.state = detail.state;
	if (detail.state === 'failed') {
		window.ketang.error = detail.reason;
		const err = client.error || {};
		setStatus('failed', '无法进入课堂 Cannot join');
		setBanner('banner-reconnecting', null);
		notice(null);
		setBanner('notice', errorText(err.code, err.message));
		$('start').disabled = false;
		return;
	}
	const [css, text] = STATUS[detail.state] || ['idle', detail.state];
	setStatus(css, text);
	setBanner('banner-reconnecting', detail.state === 'reconnecting'
		? '网络中断，正在自动重新连接，请稍候… 无需任何操作。 Connection lost: reconnecting by itself, nothing to do.'
		: null);
	const joined = detail.state === 'joined';
	if (!joined) {
		view.mode = 'individual'; // a new join starts individual: asked again once joined
		view.pending = false;
	}
	$('share').disabled = !joined && !courseware;
	$('end').disabled = !joined;
	$('chat-input').disabled = !joined;
	if (detail.state === 'ended')
		showEnded();
	render();
}

function showEnded() {
	stopShare();
	if (camera)
		camera.getTracks().forEach((t) => t.stop());
	camera = null;
	$('lesson').hidden = true;
	$('ended-screen').hidden = false;
	$('end-dialog').close();
}

async function start() {
	$('start').disabled = true;
	setStatus('connecting', '正在打开摄像头… Opening the camera…');
	try {
		camera = await navigator.mediaDevices.getUserMedia({
			// Chromium sends three layers from 960x540 up, two from 480x270, one below.
			video: { ...videoSize('1280x720'), frameRate: { ideal: 25, max: 30 } },
			audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
		});
	} catch (err) {
		setStatus('failed', describeError(err));
		$('start').disabled = false;
		return;
	}
	$('preview').srcObject = camera;
	$('start-card').hidden = true;
	$('me-card').hidden = false;
	client.setSource('camera', camera.getVideoTracks()[0], camera, { simulcast: true });
	if (camera.getAudioTracks()[0])
		client.setSource('audio', camera.getAudioTracks()[0], camera);
	pageTimings.startPressed = performance.now();
	client.start();
}

async function toggleShare() {
	if (courseware) {
		stopShare();
		return;
	}
	try {
		courseware = FAKE_COURSEWARE
			? await navigator.mediaDevices.getUserMedia({ video: videoSize('640x360', 'courseware-video') })
			: await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 10, max: 15 } }, audio: false });
	} catch (err) {
		if (err && err.name !== 'NotAllowedError') // NotAllowed: the teacher cancelled the picker
			notice(`无法共享屏幕 Cannot share the screen: ${describeError(err)}`);
		return;
	}
	const track = courseware.getVideoTracks()[0];
	track.contentHint = 'detail'; // slides: keep text sharp rather than motion smooth
	track.addEventListener('ended', stopShare); // the browser's own "Stop sharing" bar
	$('courseware-preview').srcObject = courseware;
	$('courseware-figure').hidden = false;
	$('share').textContent = '停止共享 Stop sharing';
	client.setSource('courseware', track, courseware);
}

function stopShare() {
	if (!courseware)
		return;
	courseware.getTracks().forEach((t) => t.stop());
	courseware = null;
	$('courseware-preview').srcObject = null;
	$('courseware-figure').hidden = true;
	$('share').textContent = '共享课件 Share courseware';
	if (client && client.state !== 'ended')
		client.setSource('courseware', null);
}

async function command(type, fields = {}) {
	try {
		await client.request(type, fields);
	} catch (err) {
		notice(errorText(err.code, err.message));
	}
}

// ---- classroom gallery --------------------------------------------------------

function makeTile(id) {
	const t = {};
	t.video = h('video', { class: 'tile-video', autoplay: true, playsinline: true });
	t.waiting = h('span', { class: 'tile-waiting' }, '等待画面… Waiting for video…');
	t.dot = h('span', { class: 'q-dot q-unknown' });
	t.qlabel = h('span', { class: 'q-label' });
	t.quality = h('span', { class: 'quality', tabindex: '0' }, t.dot, t.qlabel);
	t.name = h('strong', { class: 'tile-name' });
	t.hand = h('span', { class: 'badge badge-hand' }, '✋ 举手 Hand up');
	t.staged = h('span', { class: 'badge badge-stage' }, '🎤 台上 On stage');
	t.muted = h('span', { class: 'badge badge-muted' }, '🔇 已静音 Muted');
	t.feed = h('span', { class: 'badge badge-feed' });
	t.stageBtn = h('button', { type: 'button', class: 'stage-btn', onclick: () => toggleStage(id) });
	t.muteBtn = h('button', { type: 'button', class: 'mute-btn', onclick: () => toggleMute(id) });
	t.root = h('div', { class: 'tile', dataset: { participant: id } },
		h('div', { class: 'tile-media' }, t.video, t.waiting),
		h('div', { class: 'tile-head' }, t.name, t.quality),
		h('div', { class: 'tile-badges' }, t.hand, t.staged, t.muted, t.feed),
		h('div', { class: 'tile-actions' }, t.stageBtn, t.muteBtn));
	return t;
}

function updateTile(t, p) {
	t.name.textContent = p.name || p.id;
	const level = qualityLevel(p.quality);
	t.dot.className = `q-dot q-${level}`;
	t.qlabel.textContent = QUALITY_LABEL[level];
	t.quality.title = qualityDetail(p.quality);
	t.quality.dataset.level = level;
	t.hand.hidden = !p.hand;
	t.staged.hidden = !p.staged;
	t.muted.hidden = !p.muted;
	t.root.classList.toggle('tile-on-stage', !!p.staged);
	t.root.classList.toggle('tile-hand', !!p.hand);
	t.stageBtn.textContent = p.staged ? '下台 Unstage' : '上台 Stage';
	t.muteBtn.textContent = p.muted ? '取消静音 Unmute' : '静音 Mute';
	const live = client.state === 'joined';
	t.stageBtn.disabled = t.muteBtn.disabled = !live;
	// A camera source has no page: nothing to stage or mute (yet), its state instead.
	t.stageBtn.hidden = t.muteBtn.hidden = !!p.feed;
	t.feed.hidden = !p.feed;
	if (p.feed) {
		t.feed.textContent = feedLabel(p.feed);
		t.feed.dataset.state = p.feed.state;
		t.feed.title = p.feed.reason || '';
	}
	const video = client.remoteTrack(p.id, 'camera');
	if (showTracks(t.video, [video, client.remoteTrack(p.id, 'audio')]))
		t.video.play().catch(() => {});
	t.waiting.hidden = !!video;
}

const FEED_STATE = {
	connecting: '连接中 Connecting',
	live: '直播中 Live',
	reconnecting: '重新连接中 Reconnecting',
};

function feedLabel(f) {
	const retry = f.state === 'reconnecting' && f.retry_s ? ` (${f.retry_s} s)` : '';
	return `📷 ${FEED_STATE[f.state] || f.state}${retry}`;
}

/** The teacher's camera and courseware sources (not classrooms): one line each. */
function renderFeeds() {
	const list = $('feeds');
	const feeds = client.feeds.filter((f) => f.role !== 'classroom');
	list.hidden = feeds.length === 0;
	list.replaceChildren(...feeds.map((f) => h('li', { dataset: { feed: f.id } },
		h('span', { class: 'badge badge-feed', dataset: { state: f.state }, title: f.reason || '' },
			`${f.name}: ${feedLabel(f)}`))));
}

function renderGallery(classrooms) {
	const gallery = $('gallery');
	for (const [id, t] of tiles) {
		if (!classrooms.some((p) => p.id === id)) {
			t.video.srcObject = null;
			t.root.remove();
			tiles.delete(id);
		}
	}
	for (const p of classrooms) {
		let t = tiles.get(p.id);
		if (!t) {
			t = makeTile(p.id);
			tiles.set(p.id, t);
			gallery.append(t.root);
		}
		updateTile(t, p);
	}
	$('gallery-empty').hidden = classrooms.length > 0;
	$('classroom-count').textContent = String(classrooms.length);
}

function renderHands(classrooms) {
	const staged = classrooms.find((p) => p.staged);
	$('stage-line').hidden = !staged;
	$('stage-name').textContent = staged ? staged.name : '';
	$('unstage').disabled = client.state !== 'joined';
	const queue = classrooms.filter((p) => p.hand && !p.staged).sort((a, b) => (a.handAt || 0) - (b.handAt || 0));
	$('hands-empty').hidden = queue.length > 0;
	const list = $('hands');
	// render() runs on every lesson event, link-quality updates included: rebuilding an
	// unchanged queue would swap the Stage button under the teacher's pointer and lose
	// the click. Rebuild only when the queue itself changed.
	const key = JSON.stringify(queue.map((p) => [p.id, p.name]));
	if (list.dataset.key !== key) {
		list.dataset.key = key;
		list.replaceChildren(...queue.map((p) => h('li', { dataset: { participant: p.id } },
			h('span', { class: 'hand-name' }, `✋ ${p.name || p.id}`),
			h('button', { type: 'button', class: 'primary',
				onclick: () => command('stage', { participant: p.id }) }, '上台 Stage'))));
	}
	for (const button of list.querySelectorAll('button'))
		button.disabled = client.state !== 'joined';
}

// ---- the classroom wall -------------------------------------------------------

function wantedView(classrooms) {
	if (view.unavailable)
		return 'individual';
	return view.choice || (classrooms > WALL_ABOVE ? 'wall' : 'individual');
}

/** Asks the server for the view the page wants, one request at a time. */
async function syncView(classrooms) {
	const want = wantedView(classrooms);
	if (!client || client.state !== 'joined' || view.pending || want === view.mode)
		return;
	view.pending = true;
	try {
		await client.request('view', { mode: want });
		view.mode = want;
	} catch (err) {
		if (err.code !== 'closed') { // closed: the rejoin asks again
			notice(`无法切换画面 Cannot switch the view: ${errorText(err.code, err.message)}`);
			// A server without the wall: individual from now on. Otherwise stay as we are
			// until the teacher picks again (no retry loop on every render).
			if (want === 'wall' && ['unavailable', 'unknown-type', 'media-unavailable'].includes(err.code))
				view.unavailable = true;
			else
				view.choice = view.mode;
		}
	} finally {
		view.pending = false;
	}
	render();
}

function pickView(mode) {
	view.choice = mode;
	render();
}

/** A click on the wall: the classroom's own tile below (its buttons), highlighted. */
function pickWallTile(id) {
	const t = tiles.get(id);
	if (!t)
		return;
	for (const other of tiles.values())
		other.root.classList.toggle('tile-picked', other === t);
	t.root.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
	t.stageBtn.focus({ preventScroll: true });
}

function renderWallTiles(layout) {
	const box = $('wall-tiles');
	const key = JSON.stringify(layout);
	if (box.dataset.key === key)
		return;
	box.dataset.key = key;
	$('wall-view').style.aspectRatio = `${layout.width} / ${layout.height}`;
	box.replaceChildren(...layout.tiles.map((t) => {
		const b = h('button', { type: 'button', class: 'wall-tile', title: t.name,
			'aria-label': t.name, dataset: { participant: t.participant },
			onclick: () => pickWallTile(t.participant) });
		b.style.left = `${(100 * t.x) / layout.width}%`;
		b.style.top = `${(100 * t.y) / layout.height}%`;
		b.style.width = `${(100 * t.width) / layout.width}%`;
		b.style.height = `${(100 * t.height) / layout.height}%`;
		return b;
	}));
}

function renderView(classrooms) {
	const wall = view.mode === 'wall';
	const shown = view.pending ? wantedView(classrooms) : view.mode;
	$('view-wall').setAttribute('aria-pressed', String(shown === 'wall'));
	$('view-individual').setAttribute('aria-pressed', String(shown !== 'wall'));
	$('view-wall').disabled = view.unavailable || client.state !== 'joined';
	$('view-individual').disabled = client.state !== 'joined';
	$('wall-view').hidden = !wall;
	$('wall-hint').hidden = !wall;
	$('gallery').classList.toggle('gallery-wall', wall);
	const stream = client.remoteStreams.find((x) => x.source === 'wall');
	if (showTracks($('wall-video'), [wall && stream ? stream.track : null]))
		$('wall-video').play().catch(() => {});
	$('wall-waiting').hidden = !!stream;
	if (wall && view.layout)
		renderWallTiles(view.layout);
	syncView(classrooms);
}

function render() {
	if (!client)
		return;
	if (client.lesson)
		$('lesson-title').textContent = client.lesson.title || client.lesson.id;
	const classrooms = Object.values(client.participants).filter((p) => p.role === 'classroom')
		.concat(client.feeds.filter((f) => f.role === 'classroom')
			.map((f) => ({ id: f.id, name: f.name, role: 'classroom', feed: f })));
	renderFeeds();
	renderGallery(classrooms);
	renderHands(classrooms);
	renderView(classrooms.length);
}

function toggleStage(id) {
	const p = client.participant(id);
	if (p && p.staged)
		command('unstage');
	else
		command('stage', { participant: id });
}

function toggleMute(id) {
	const p = client.participant(id);
	command(p && p.muted ? 'unmute' : 'mute', { participant: id });
}

function askEnd() {
	$('end-dialog').returnValue = '';
	$('end-dialog').showModal();
}

async function main() {
	if (!window.RTCPeerConnection || !navigator.mediaDevices || !window.WebSocket) {
		setStatus('failed', '此浏览器不支持视频上课，请使用新版 Chrome/Edge/Firefox ' +
			'This browser cannot run a lesson: use a recent Chrome, Edge or Firefox');
		return;
	}
	const join = await getJoinInfo();
	$('lesson-title').textContent = join.lesson;
	client = new LessonClient({ token: join.token });
	client.addEventListener('state', onState);
	client.addEventListener('change', render);
	client.addEventListener('streams', render);
	client.addEventListener('servererror', ({ detail }) => notice(errorText(detail.code, detail.message)));
	client.addEventListener('publish', ({ detail }) => {
		if (!detail.ok)
			notice(`发送画面失败 Could not send your video: ${errorText(detail.error.code, detail.error.message)}`);
	});
	client.addEventListener('message', ({ detail }) => {
		if (detail.type === 'wall') {
			view.layout = detail;
			wallLayouts.push(detail);
			render();
			return;
		}
		if (detail.type !== 'recording' || detail.state !== 'failed')
			return;
		recordingEvents.push(detail);
		notice(`录制已停止（${detail.stream}），课堂继续 Recording of ${detail.stream} stopped, ` +
			`the lesson goes on: ${detail.message}`);
	});
	wireChat(client, (err) => notice(errorText(err.code, err.message)));
	$('chat-input').disabled = true;
	$('start').addEventListener('click', start);
	$('share').addEventListener('click', toggleShare);
	$('end').addEventListener('click', askEnd);
	$('unstage').addEventListener('click', () => command('unstage'));
	$('view-wall').addEventListener('click', () => pickView('wall'));
	$('view-individual').addEventListener('click', () => pickView('individual'));
	$('end-dialog').addEventListener('close', () => {
		if ($('end-dialog').returnValue === 'end')
			command('end_lesson');
	});
	window.addEventListener('pagehide', () => client.leave());
	$('start').disabled = false;
}

main();
