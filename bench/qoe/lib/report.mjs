// Prints the QoE bench's rows as an aligned table (and, for the dip, its
// extra figures on the same row).

const COLUMNS = [
	['profile', 'profile', (r) => r.profile],
	['server', 'server', (r) => r.server],
	['kbit/s', 'received, video + audio', (r) => r.kbps.toFixed(0)],
	['fps', 'frames decoded per second', (r) => r.fps.toFixed(1)],
	['res', 'most shown resolution', (r) => r.resolution],
	['frozen%', 'time frozen (incl. before the first frame)', (r) => r.frozenPct.toFixed(1)],
	['freezes', 'freeze count', (r) => String(r.freezes)],
	['max>5s', 'longest freeze after 5 s, s', (r) => r.longestFreezeAfter5s.toFixed(2)],
	['cr-frz', "Chromium's freezeCount / totalFreezesDuration", (r) =>
		r.chromeFreezes == null ? '-' : `${r.chromeFreezes}/${r.chromeFrozenS.toFixed(1)}s`],
	['conceal%', 'audio concealed samples', (r) => fmt(r.concealedPct, 2)],
	['vJB', 'video jitter-buffer delay, ms', (r) => fmt(r.videoJbMs, 0)],
	['aJB', 'audio jitter-buffer delay, ms', (r) => fmt(r.audioJbMs, 0)],
	['rtt', 'round trip, ms', (r) => fmt(r.rttMs, 0)],
	['vloss%', 'video packets lost (after NACK)', (r) => fmt(r.videoLossPct, 1)],
	['reconn', 'times the watcher page reconnected (counters summed per connection)', (r) => String(r.reconnects ?? 0)],
	['dip', 'dip: pre-dip height → lowest, back after s, concealed % in dip', (r) =>
		r.preDipHeight === undefined ? '' :
			`${r.preDipHeight}p→${r.dipLowestHeight}p back ${r.returnS == null ? 'never' : r.returnS.toFixed(1) + 's'} ` +
			`conceal ${fmt(r.dipConcealedPct, 2)}%`],
	['sent', "the teacher's camera layers at the end (rid:size@fps, limitation)", (r) =>
		(r.sent || []).join(' ')],
];

function fmt(v, digits) {
	return v == null || Number.isNaN(v) ? '-' : v.toFixed(digits);
}

export function printTable(rows, { header = true } = {}) {
	const cells = rows.map((r) => COLUMNS.map(([, , f]) => f(r)));
	const widths = COLUMNS.map(([h], i) => Math.max(h.length, 10, ...cells.map((c) => c[i].length)));
	const line = (vals) => vals.map((v, i) => v.padEnd(widths[i])).join(' ').trimEnd();
	if (header) {
		process.stdout.write(`${line(COLUMNS.map(([h]) => h))}\n`);
	}
	for (const c of cells)
		process.stdout.write(`${line(c)}\n`);
}

export function printLegend() {
	for (const [h, what] of COLUMNS)
		process.stdout.write(`  ${h.padEnd(9)} ${what}\n`);
}
