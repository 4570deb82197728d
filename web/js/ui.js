// Small DOM helpers shared by the lesson pages (teacher, classroom). No
// framework: the pages rebuild a few small lists when the lesson changes.

export const $ = (id) => document.getElementById(id);

/** Creates an element: h('button', {class: 'primary', onclick}, 'text', child...). */
export function h(tag, props = {}, ...children) {
	const el = document.createElement(tag);
	for (const [key, value] of Object.entries(props)) {
		if (value === undefined || value === null || value === false)
			continue;
		if (key.startsWith('on'))
			el.addEventListener(key.slice(2), value);
		else if (key === 'class')
			el.className = value;
		else if (key === 'dataset')
			Object.assign(el.dataset, value);
		else if (value === true)
			el.setAttribute(key, '');
		else
			el.setAttribute(key, value);
	}
	for (const child of children.flat())
		if (child !== null && child !== undefined && child !== false)
			el.append(child);
	return el;
}

/** The page's status line (#status): state is a CSS modifier, text bilingual. */
export function setStatus(state, text) {
	const line = $('status');
	line.className = `status status-${state}`;
	line.textContent = text;
}

/** Shows (text) or hides (null) a banner element by id. */
export function setBanner(id, text) {
	const banner = $(id);
	if (!banner)
		return;
	banner.hidden = !text;
	if (text)
		banner.textContent = text;
}

/** Reads lesson, token and room from the link's fragment. */
export function readFragment() {
	const params = new URLSearchParams(location.hash.slice(1));
	return {
		lesson: (params.get('lesson') || '').trim(),
		token: (params.get('token') || '').trim(),
		room: (params.get('room') || '').trim(),
	};
}

/** ?video=320x240 (tests, very weak PCs; or another query @param) or the default size. */
export function videoSize(fallback, param = 'video') {
	const asked = new URLSearchParams(location.search).get(param) || fallback;
	const [width, height] = asked.split('x').map(Number);
	return { width: { ideal: width || 640 }, height: { ideal: height || 360 } };
}

/**
 * good / fair / poor from a `quality` entry (bitrate_kbps, loss_pct, rtt_ms),
 * or unknown before the first report. Thresholds: a lesson stays
 * comfortable below ~2 % loss and ~150 ms RTT, and usable below ~8 % / 400 ms.
 */
export function qualityLevel(q) {
	if (!q || q.loss_pct === undefined)
		return 'unknown';
	const loss = Number(q.loss_pct) || 0;
	const rtt = Number(q.rtt_ms) || 0;
	const kbps = Number(q.bitrate_kbps) || 0;
	// Bitrate alone says little (a small room camera is fine at 150 kbps);
	// near zero it means the picture has stalled.
	if (loss >= 8 || rtt >= 400 || kbps < 30)
		return 'poor';
	if (loss >= 2 || rtt >= 150)
		return 'fair';
	return 'good';
}

export const QUALITY_LABEL = {
	good: '网络好 Good',
	fair: '网络一般 Fair',
	poor: '网络差 Poor',
	unknown: '网络 — Network',
};

/**
 * The tooltip of a quality indicator: the uplink's bitrate and loss, the
 * round trip, and how fast the server estimates it may send to the room.
 */
export function qualityDetail(q) {
	if (!q)
		return '尚无数据 No data yet';
	const fmt = (v, digits = 0) => (v === null || v === undefined ? '—' : Number(v).toFixed(digits));
	return `码率 Bitrate ${fmt(q.bitrate_kbps)} kbps · 丢包 Loss ${fmt(q.loss_pct, 1)} % · ` +
		`延迟 RTT ${fmt(q.rtt_ms)} ms · 下行估计 Downlink estimate ${fmt(q.estimate_kbps)} kbps`;
}

/** Bilingual text for a server error code (PROTOCOL.md, "Errors"). */
export function errorText(code, message) {
	const known = {
		'bad-token': '链接中的令牌无效，请向管理员索取新链接 The link’s token is invalid: ask your administrator for a new link',
		'token-expired': '链接已过期，请向管理员索取新链接 The link has expired: ask your administrator for a new link',
		'wrong-role': '此链接无权执行该操作 This link may not do that',
		'wrong-state': '现在不能执行该操作 That is not possible right now',
		'lesson-ended': '本节课已结束 The lesson has ended',
		replaced: '此教室已在另一个窗口或设备上打开 This classroom was opened in another window or device',
		'no-such-participant': '该教室已离开 That classroom has left',
		'not-joined': '尚未加入课堂 Not in the lesson yet',
		timeout: '服务器无应答 No answer from the server',
		closed: '连接已断开 Connection closed',
	};
	const base = known[code] || `出错了 Error: ${code}`;
	return message && !known[code] ? `${base} — ${message}` : base;
}

/**
 * Plays a media element; resolves false when the browser wants a user
 * gesture first (autoplay policy), true otherwise.
 */
export async function tryPlay(el) {
	try {
		await el.play();
		return true;
	} catch (err) {
		return err && err.name !== 'NotAllowedError' ? true : false;
	}
}

/** Puts tracks in a media element unless it already shows exactly them. */
export function showTracks(el, tracks) {
	const wanted = tracks.filter(Boolean);
	const current = el.srcObject ? el.srcObject.getTracks() : [];
	if (wanted.length === current.length && wanted.every((t) => current.includes(t)))
		return false;
	el.srcObject = wanted.length ? new MediaStream(wanted) : null;
	return true;
}

/** Appends one chat line to the list element and keeps it scrolled down. */
export function appendChat(list, msg, mine) {
	const at = new Date(msg.at || Date.now());
	const time = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
	list.append(h('li', { class: mine ? 'chat-mine' : '' },
		h('span', { class: 'chat-who' }, `${msg.name || msg.from || '?'} · ${time}`),
		h('span', { class: 'chat-text' }, String(msg.text))));
	while (list.children.length > 200)
		list.firstChild.remove();
	list.scrollTop = list.scrollHeight;
}

/** Wires a chat form (#chat-form, #chat-input) to client.request('chat'). */
export function wireChat(client, onError) {
	const form = $('chat-form');
	const input = $('chat-input');
	form.addEventListener('submit', async (event) => {
		event.preventDefault();
		const text = input.value.trim();
		if (!text)
			return;
		input.value = '';
		try {
			await client.request('chat', { text: text.slice(0, 500) });
		} catch (err) {
			input.value = text;
			onError(err);
		}
	});
	client.addEventListener('chathistory', (event) => {
		const list = $('chat-list');
		list.replaceChildren();
		for (const msg of event.detail)
			appendChat(list, msg, client.me && msg.from === client.me.id);
	});
	client.addEventListener('chat', (event) => {
		const msg = event.detail;
		appendChat($('chat-list'), msg, client.me && msg.from === client.me.id);
	});
}

/**
 * Records when the first frame of track is decoded, as performance.now():
 * the decoder's view from getStats (framesDecoded > 0 on the inbound-rtp of
 * the track's mid), so a background tab's late painting does not count.
 */
export function watchFirstFrame(pc, mid, onFrame) {
	let done = false;
	const poll = async () => {
		if (done || pc.connectionState === 'closed')
			return;
		const stats = await pc.getStats().catch(() => null);
		stats?.forEach((s) => {
			if (!done && s.type === 'inbound-rtp' && s.kind === 'video' && s.mid === mid && s.framesDecoded > 0) {
				done = true;
				onFrame(performance.now());
			}
		});
		if (!done)
			setTimeout(poll, 50);
	};
	poll();
	return () => {
		done = true;
	};
}

/**
 * window.ketang for the end-to-end tests: the page's state plus live views of
 * its LessonClient (getClient() may return null before joining). extra adds
 * page-specific fields.
 */
export function exposeForTests(getClient, pageTimings, extra = {}) {
	const c = getClient;
	const state = {
		state: 'idle',
		error: null,
		get ws() { return c() ? c().ws : null; },
		get publishPc() { return c() ? c().publishPc : null; },
		get subscribePc() { return c() ? c().subscribePc : null; },
		get participants() { return c() ? c().participants : {}; },
		get me() { return c() ? c().me : null; },
		get stage() { return c() ? c().stage : null; },
		get feeds() { return c() ? c().feeds : []; },
		get streams() {
			return c() ? c().remoteStreams.map(({ mid, participant, source, kind }) =>
				({ mid, participant, source, kind })) : [];
		},
		get rejoins() { return c() ? c().rejoins : 0; },
		get timings() { return { ...pageTimings, ...(c() ? c().timings : {}) }; },
		get client() { return c(); },
	};
	Object.defineProperties(state, Object.getOwnPropertyDescriptors(extra));
	window.ketang = state;
	return state;
}

/** A transient notice in the #notice banner (8 s). */
export function notice(text) {
	setBanner('notice', text);
	clearTimeout(notice.timer);
	if (text)
		notice.timer = setTimeout(() => setBanner('notice', null), 8000);
}
