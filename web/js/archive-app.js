// The archive page (/archive): search the recordings catalog, play a recording with its
// chapters, download it. The token comes from the link's fragment (#token=..., never sent
// to the server in a URL the server logs) or from the paste box. API calls send it as a
// Bearer header; the <video> and download link put it in ?token= because a media element
// cannot send headers (signaling/PROTOCOL.md, "Archive API").

import { $, h, setStatus } from './ui.js';

const PAGE = 20;
const state = { token: '', offset: 0, total: 0, current: null };

function formatDuration(ms) {
	if (ms === null || ms === undefined || ms < 0)
		return '—';
	const s = Math.round(ms / 1000);
	const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
	const two = (n) => String(n).padStart(2, '0');
	return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

function formatDate(iso) {
	return iso ? new Date(iso).toLocaleString() : '—';
}

const KIND = { program: '合成 Program', source: '原始 Source' };

async function api(path) {
	const res = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
	const body = await res.json().catch(() => ({}));
	if (!res.ok) {
		const why = res.status === 401 ? '令牌无效或已过期 Token invalid or expired'
			: res.status === 403 ? '此令牌不能查看录像 This token cannot open the archive'
				: `${res.status} ${body.message || ''}`;
		throw new Error(why);
	}
	return body;
}

/** Local midnight of a yyyy-mm-dd date input, as Unix seconds; days = 1 gives the next one. */
function dayStart(value, days = 0) {
	const [y, m, d] = value.split('-').map(Number);
	return Math.floor(new Date(y, m - 1, d + days).getTime() / 1000);
}

function query() {
	const q = new URLSearchParams({ limit: PAGE, offset: state.offset });
	for (const name of ['q', 'teacher', 'subject', 'grade']) {
		const v = $(name).value.trim();
		if (v)
			q.set(name, v);
	}
	if ($('from').value)
		q.set('from', dayStart($('from').value));
	if ($('to').value)
		q.set('to', dayStart($('to').value, 1));
	return q;
}

function row(rec) {
	const title = rec.title || rec.lesson;
	return h('li', {},
		h('button', { type: 'button', class: 'archive-item', dataset: { id: rec.id }, onclick: () => open(rec.id) },
			h('strong', {}, title),
			h('span', {}, `${rec.teacher || '—'} · ${rec.subject || ''} ${rec.grade || ''}`),
			h('span', {}, `${formatDate(rec.started_at)} · ${formatDuration(rec.duration_ms)} · ${KIND[rec.kind] || rec.kind} ${rec.stream}`)));
}

async function search() {
	setStatus('connecting', '查找中… Searching…');
	try {
		const body = await api(`/api/recordings?${query()}`);
		state.total = body.total;
		$('list').replaceChildren(...body.recordings.map(row));
		$('count').textContent = `(${body.total})`;
		$('results').hidden = false;
		$('prev').disabled = state.offset === 0;
		$('next').disabled = state.offset + body.recordings.length >= body.total;
		setStatus('live', body.total ? `找到 ${body.total} 个录像 Found ${body.total}` : '没有找到录像 Nothing found');
	} catch (err) {
		setStatus('failed', err.message);
	}
}

function mediaUrl(rec, download) {
	const q = new URLSearchParams({ token: state.token });
	if (download)
		q.set('download', '1');
	return `${rec.media_url}?${q}`;
}

async function open(id) {
	try {
		const rec = await api(`/api/recordings/${encodeURIComponent(id)}`);
		state.current = rec;
		$('player-title').textContent = rec.title || rec.lesson;
		$('player-meta').textContent = `${rec.teacher || '—'} · ${rec.subject} ${rec.grade} · ` +
			`${formatDate(rec.started_at)} · ${formatDuration(rec.duration_ms)} · ${KIND[rec.kind] || rec.kind} ${rec.stream}`;
		$('video').src = mediaUrl(rec, false);
		$('download').href = mediaUrl(rec, true);
		$('chapters').replaceChildren(...rec.chapters.map((c) =>
			h('li', {}, h('button', { type: 'button', class: 'archive-chapter', onclick: () => seek(c.at_ms) },
				`${formatDuration(c.at_ms)} ${c.title}`))));
		if (!rec.chapters.length)
			$('chapters').append(h('li', { class: 'hint' }, '没有章节 No chapters'));
		$('player').hidden = false;
		for (const el of document.querySelectorAll('.archive-item'))
			el.classList.toggle('selected', el.dataset.id === String(id));
		$('video').play().catch(() => {}); // autoplay may be refused; the controls remain
	} catch (err) {
		setStatus('failed', err.message);
	}
}

function seek(ms) {
	const video = $('video');
	video.currentTime = ms / 1000;
	video.play().catch(() => {});
}

function start(token) {
	state.token = token;
	$('token-form').hidden = true;
	$('search-form').hidden = false;
	search();
}

function init() {
	const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
	$('token-form').addEventListener('submit', (e) => {
		e.preventDefault();
		const t = $('token-input').value.trim();
		const m = /[#&]token=([^&]+)/.exec(t); // a whole link pasted
		if (t)
			start(m ? decodeURIComponent(m[1]) : t);
	});
	$('search-form').addEventListener('submit', (e) => {
		e.preventDefault();
		state.offset = 0;
		search();
	});
	$('prev').addEventListener('click', () => {
		state.offset = Math.max(0, state.offset - PAGE);
		search();
	});
	$('next').addEventListener('click', () => {
		state.offset += PAGE;
		search();
	});
	if (fromLink)
		start(fromLink.trim());
	else
		$('token-form').hidden = false;
}

init();
