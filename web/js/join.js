// The join link (lesson + token in the URL fragment, so tokens never reach
// server logs) and the form that asks for it when it is missing.

import { parseJoinLink } from './whip-client.js';

/**
 * Reads the lesson and token from location.hash. If either is missing, shows
 * the form #join-form (fields #join-lesson and #join-token) and resolves when
 * the user submits it; the values are then written into the fragment so a
 * reload keeps them.
 */
export function getJoinInfo() {
	const fromHash = parseJoinLink(location.hash);
	if (fromHash.lesson && fromHash.token)
		return Promise.resolve(fromHash);

	const form = document.getElementById('join-form');
	// The player/studio means nothing until we know the lesson: hide it.
	const panel = document.querySelector('[data-needs-join]');
	if (panel)
		panel.hidden = true;
	const lessonInput = document.getElementById('join-lesson');
	const tokenInput = document.getElementById('join-token');
	lessonInput.value = fromHash.lesson;
	form.hidden = false;
	(fromHash.lesson ? tokenInput : lessonInput).focus();

	return new Promise((resolve) => {
		form.addEventListener('submit', function onSubmit(event) {
			event.preventDefault();
			// The token field also takes a whole pasted join link.
			let info = { lesson: lessonInput.value.trim(), token: tokenInput.value.trim() };
			if (info.token.includes('token=')) {
				const pasted = parseJoinLink(info.token);
				info = { lesson: pasted.lesson || info.lesson, token: pasted.token };
			}
			if (!info.lesson || !info.token) {
				document.getElementById('join-error').hidden = false;
				(info.lesson ? tokenInput : lessonInput).focus();
				return;
			}
			form.removeEventListener('submit', onSubmit);
			form.hidden = true;
			if (panel)
				panel.hidden = false;
			const params = new URLSearchParams(info);
			history.replaceState(null, '', `#${params}`);
			resolve(info);
		});
	});
}

/** Sets the page's status line: state is a CSS modifier, text is bilingual. */
export function showStatus(state, text) {
	const line = document.getElementById('status');
	line.className = `status status-${state}`;
	line.textContent = text;
}
