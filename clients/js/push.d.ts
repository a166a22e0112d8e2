// SPDX-License-Identifier: GPL-2.0
// Types of push.js, the browser client of pushd (docs/HTTP.md).

export type Transport = 'websocket' | 'sse' | 'longpoll';

/** Where a subscription starts: a message id (every retained message after it) or 'oldest'. */
export type Since = number | 'oldest';

export interface PushOptions {
	/** 1-64 channel names of 1-64 characters of [A-Za-z0-9_.:-] (an array or "a,b"). */
	channels: string[] | string;
	/** The transports to use, best first. Default ['websocket', 'sse', 'longpoll']. */
	transports?: Transport[];
	/** Start after this id, or at the oldest retained message. Default: only new messages. */
	since?: Since | null;
	/** One connection for all tabs of the origin that subscribe to the same channels. Default true. */
	shared?: boolean;
	/** How tabs elect the one that connects: Web Locks when there are ('auto'), or always a BroadcastChannel protocol. */
	election?: 'auto' | 'locks' | 'broadcast';
	/** ms a transport has to open (WebSocket open, the SSE stream's first bytes, a long-poll answering or waiting). Default 10000. */
	connectTimeout?: number;
	/** pushd's --heartbeat, in seconds: an SSE stream silent for twice as long (+2 s) is dead. Default 15. */
	heartbeat?: number;
	/** pushd's --poll-timeout, in seconds. Default 30. */
	pollTimeout?: number;
	/** ms before a transport that failed is tried again beside the one that works; doubles on each failure. Default 10000. */
	upgradeMin?: number;
	/** The most upgradeMin doubles to, in ms. Default 600000. */
	upgradeMax?: number;
	/** First reconnect delay in ms (uniform in [min/2, min]), doubling. Default 1000. */
	backoffMin?: number;
	/** Largest reconnect delay in ms. Default 30000. */
	backoffMax?: number;
	onmessage?: (e: PushMessageEvent) => void;
	ongap?: (e: PushGapEvent) => void;
	onreset?: (e: PushResetEvent) => void;
	onopen?: (e: PushOpenEvent) => void;
	onclose?: (e: PushCloseEvent) => void;
	onerror?: (e: PushErrorEvent) => void;
	onrole?: (e: PushRoleEvent) => void;
}

/** One item as pushd sends it. */
export interface PushItem {
	id: number;
	channel: string;
	/** Publish time, UTC, RFC 3339 with nanoseconds. */
	time: string;
	/** The payload, when it is valid UTF-8. */
	data?: string;
	/** The payload in standard base64, when it is not. */
	data_base64?: string;
}

/** pushd's loss report: ids in [first_id, next_id) were overwritten before delivery. */
export interface PushGap {
	type: 'gap';
	first_id: number;
	next_id: number;
	lost: number;
}

export declare class PushEvent extends Event {
	constructor(type: string, detail?: object);
	/** True in tabs that got the event from the tab holding the connection. */
	readonly relayed?: boolean;
}

export interface PushMessageEvent extends PushEvent {
	readonly id: number;
	readonly channel: string;
	readonly time: string;
	readonly data?: string;
	readonly dataBase64?: string;
	readonly item: PushItem;
}

export interface PushGapEvent extends PushEvent {
	readonly firstId: number;
	readonly nextId: number;
	/** How many of the lost messages were on this subscription's channels (an upper bound when pushd itself fell behind). */
	readonly lost: number;
	readonly item: PushGap;
}

/** The device's ids started again (its module was reloaded): id is the first of the new ones. */
export interface PushResetEvent extends PushEvent {
	readonly id: number;
}

export interface PushOpenEvent extends PushEvent {
	readonly transport: Transport;
	/** The transport it replaced, on a switch without a close. */
	readonly previous?: Transport | null;
}

export interface PushCloseEvent extends PushEvent {
	readonly transport: Transport;
	readonly reason: string;
	/** WebSocket close code, when there was one. */
	readonly code?: number;
	/** False only after close() or a fatal error. */
	readonly willRetry: boolean;
}

export interface PushErrorEvent extends PushEvent {
	readonly transport?: Transport;
	readonly reason: string;
	/** The subscription stopped: pushd answered 400 (e.g. a channel list it refuses). */
	readonly fatal?: boolean;
	/** The error was a better transport tried again beside the working one. */
	readonly probe?: boolean;
	readonly error?: unknown;
}

/** This tab started (leader true) or stopped holding the connection. */
export interface PushRoleEvent extends PushEvent {
	readonly leader: boolean;
}

export interface PushEventMap {
	message: PushMessageEvent;
	gap: PushGapEvent;
	reset: PushResetEvent;
	open: PushOpenEvent;
	close: PushCloseEvent;
	error: PushErrorEvent;
	role: PushRoleEvent;
}

export type PushState = 'connecting' | 'pinning' | 'open' | 'waiting' | 'offline' | 'failed' | 'closed';

export declare class PushClient extends EventTarget {
	/** base: pushd's URL; '' is the page's origin, '/prefix' a path on it. */
	constructor(base: string, options: PushOptions);
	readonly base: string;
	readonly channels: string[];
	readonly transports: Transport[];
	/** The highest id delivered in this tab (or known to be covered), or null. */
	readonly lastId: number | null;
	/** The transport delivering to this tab (its own connection or the leader's), or null. */
	readonly transport: Transport | null;
	/** Whether this tab holds the connection. */
	readonly leader: boolean;
	readonly state: PushState;
	on<K extends keyof PushEventMap>(type: K, listener: (e: PushEventMap[K]) => void): () => void;
	addEventListener<K extends keyof PushEventMap>(type: K, listener: (e: PushEventMap[K]) => void,
		options?: boolean | AddEventListenerOptions): void;
	addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
		options?: boolean | AddEventListenerOptions): void;
	/** Stop for good; another tab takes the connection over. */
	close(): void;
}

/** The WebSocket subprotocols the client asks for (none while pushd speaks none). */
export declare const WS_PROTOCOLS: readonly string[];

export default PushClient;
