// A stand-in for `ketang serve` used only to test the web pages on their
// own: serves web/ with the server's CSP over plain HTTP on 127.0.0.1 (a
// secure context) and hands WHIP/WHEP offers to a callback, which the
// web-pages test answers from a relay page in the browser.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

// Must match the pages' header, KT_HTTP_PAGE_CSP in server/kt-http-security.c.
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; " +
	"worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; " +
	"frame-ancestors 'none'";

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8' };

/**
 * Serves one file of web/ the way the server does: "/" is index.html and a
 * clean page URL "/teacher" is teacher.html.
 */
export async function serveStatic(pathname, res) {
	let file = normalize(pathname).replace(/^\/+/, '') || 'index.html';
	if (!extname(file))
		file += '.html';
	try {
		const data = await readFile(join(WEB_ROOT, file));
		res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
			'Content-Security-Policy': CSP });
		res.end(data);
	} catch {
		res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Security-Policy': CSP });
		res.end('{"error":"not_found","message":"no such file"}');
	}
}

/**
 * onOffer({ kind: 'whip'|'whep', lesson, token, sdp }) resolves
 * { status, body } (status 201 with the answer SDP). Every request is
 * recorded in `requests`.
 */
export async function startMockServer(onOffer) {
	const requests = [];
	let sessions = 0;
	const server = createServer(async (req, res) => {
		const url = new URL(req.url, 'http://x');
		let body = '';
		for await (const chunk of req)
			body += chunk;
		requests.push({ method: req.method, path: url.pathname, headers: req.headers, body });
		const api = /^\/(whip|whep)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
		if (api && req.method === 'POST' && !api[3]) {
			const token = (req.headers.authorization || '').replace(/^Bearer /, '');
			const answer = await onOffer({ kind: api[1], lesson: api[2], token, sdp: body });
			if (answer.status !== 201) {
				res.writeHead(answer.status, { 'Content-Type': 'application/json' });
				res.end(answer.body);
				return;
			}
			res.writeHead(201, { 'Content-Type': 'application/sdp',
				Location: `/${api[1]}/${api[2]}/s${++sessions}` });
			res.end(answer.body);
			return;
		}
		if (api && req.method === 'DELETE' && api[3]) {
			res.writeHead(200);
			res.end();
			return;
		}
		await serveStatic(url.pathname, res);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const origin = `http://127.0.0.1:${server.address().port}`;
	return { origin, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}
