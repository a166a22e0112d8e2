// SPDX-License-Identifier: GPL-2.0
// push/sse.js - an incremental text/event-stream parser (WHATWG HTML,
// "Interpreting an event stream").  The SSE transport reads the stream with
// fetch() rather than EventSource because an EventSource hides comments: the
// ": hb" heartbeats are what tells a live but quiet stream from one a proxy
// is buffering.  Pure: text in, records out.

export class SseParser {
	constructor() {
		this.buf = '';
		this.data = [];
		this.event = '';
		this.id = null;
		this.started = false;	// a leading U+FEFF is skipped once
		this.cr = false;	// the last chunk ended in CR: an LF next is part of it
	}

	/**
	 * Feed decoded text; returns what it completes, in order:
	 *   {type: 'event', event, data, id}   (event defaults to 'message')
	 *   {type: 'comment', text}            (": hb" gives text 'hb' with the space kept off)
	 *   {type: 'retry', ms}
	 * A line cut by the end of the chunk waits for the next one.
	 */
	feed(text) {
		const out = [];
		if (!this.started && text.length) {
			this.started = true;
			if (text.charCodeAt(0) === 0xfeff)
				text = text.slice(1);
		}
		if (this.cr && text[0] === '\n')
			text = text.slice(1);
		this.cr = false;
		this.buf += text;
		let start = 0;
		for (;;) {
			let i = start;
			const n = this.buf.length;
			while (i < n && this.buf[i] !== '\n' && this.buf[i] !== '\r')
				i++;
			if (i === n)
				break;
			this.line(this.buf.slice(start, i), out);
			if (this.buf[i] === '\r') {
				if (i + 1 === n) {
					this.cr = true;
					start = n;
					break;
				}
				if (this.buf[i + 1] === '\n')
					i++;
			}
			start = i + 1;
		}
		this.buf = this.buf.slice(start);
		return out;
	}

	/** The stream ended: an event without its blank line is dropped (as WHATWG says). */
	end() {
		this.buf = '';
		this.data = [];
		this.event = '';
		return [];
	}

	line(line, out) {
		if (line === '') {
			if (this.data.length) {
				out.push({ type: 'event', event: this.event || 'message',
					data: this.data.join('\n'), id: this.id });
			}
			this.data = [];
			this.event = '';
			return;
		}
		if (line[0] === ':') {
			out.push({ type: 'comment', text: line.slice(1).replace(/^ /, '') });
			return;
		}
		const colon = line.indexOf(':');
		const field = colon < 0 ? line : line.slice(0, colon);
		let value = colon < 0 ? '' : line.slice(colon + 1);
		if (value[0] === ' ')
			value = value.slice(1);
		switch (field) {
		case 'data':
			this.data.push(value);
			break;
		case 'event':
			this.event = value;
			break;
		case 'id':
			if (!value.includes('\0'))
				this.id = value;
			break;
		case 'retry':
			if (/^[0-9]+$/.test(value))
				out.push({ type: 'retry', ms: Number(value) });
			break;
		default:
			break;	// unknown fields are ignored
		}
	}
}
