// Talking to `glassbox serve`: which server, JSON requests with the server's error shape,
// and the live stream (WebSocket, falling back to Server-Sent Events) with reconnects that
// resume from the last cursor.
'use strict';

{
  const SERVER_KEY = 'glassbox.server';

  function storage() {
    try { return window.localStorage; } catch { return null; }
  }

  /** "host:port" or "http://host:port/" → "http://host:port". Returns '' for an empty input. */
  function normaliseServer(value) {
    let s = String(value || '').trim();
    if (!s) return '';
    if (!/^https?:\/\//i.test(s)) s = 'http://' + s;
    return s.replace(/\/+$/, '');
  }

  /**
   * The server the dashboard talks to: `?server=` (remembered), else a remembered choice,
   * else the page's own origin when served over HTTP. `null` when opened from disk with
   * nothing chosen yet.
   */
  function resolveServer() {
    const fromQuery = new URLSearchParams(location.search).get('server');
    if (fromQuery) {
      const server = normaliseServer(fromQuery);
      storage()?.setItem(SERVER_KEY, server);
      return { url: server, source: 'query' };
    }
    const saved = storage()?.getItem(SERVER_KEY);
    if (saved) return { url: saved, source: 'saved' };
    if (location.protocol === 'http:' || location.protocol === 'https:') return { url: location.origin, source: 'origin' };
    return { url: null, source: 'none' };
  }

  /** Remembers a server choice (or forgets it for '') and reloads the page on it. */
  function chooseServer(value) {
    const server = normaliseServer(value);
    const next = new URL(location.href);
    if (server) {
      storage()?.setItem(SERVER_KEY, server);
      next.searchParams.set('server', server);
    } else {
      storage()?.removeItem(SERVER_KEY);
      next.searchParams.delete('server');
    }
    location.href = next.toString();
  }

  /** What to tell the user when the server does not answer. */
  function unreachableMessage(server) {
    const fromDisk = location.protocol === 'file:';
    const crossOrigin = !fromDisk && server && location.origin !== new URL(server).origin;
    let hint = 'If you opened this file from disk, start it with `--cors-origin null`.';
    if (crossOrigin) hint = `This page comes from ${location.origin}: start the server with \`--cors-origin ${location.origin}\`.`;
    return `Cannot reach ${server}: is \`glassbox serve\` running? ${hint}`;
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  class Api {
    constructor(base) {
      this.base = base;
    }

    url(path, params) {
      const u = new URL(this.base + path);
      if (params) {
        for (const [key, value] of Object.entries(params)) {
          if (value === undefined || value === null || value === '') continue;
          u.searchParams.set(key, String(value));
        }
      }
      return u.toString();
    }

    async request(method, path, { params, body, signal } = {}) {
      let response;
      try {
        response = await fetch(this.url(path, params), {
          method,
          signal,
          headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (error.name === 'AbortError') throw error;
        throw new ApiError(0, 'unreachable', unreachableMessage(this.base));
      }
      const text = await response.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
      if (!response.ok) {
        const err = json && json.error;
        throw new ApiError(response.status, err?.code || `http_${response.status}`,
          err?.message || `${method} ${path} answered ${response.status} ${response.statusText}${text && !json ? ': ' + text.slice(0, 200) : ''}`);
      }
      if (json === null) throw new ApiError(response.status, 'bad_response', `${method} ${path} did not answer JSON`);
      return json;
    }

    get(path, params, options) { return this.request('GET', path, { ...options, params }); }
    post(path, body, options) { return this.request('POST', path, { ...options, body }); }

    /** Every page of an events endpoint after `after` (oldest first), at most `max` events. */
    async allEvents(path, { after = 0, max = 100000, params } = {}) {
      const events = [];
      let cursor = after;
      for (;;) {
        const page = await this.get(path, { ...params, after: cursor, limit: 1000 });
        events.push(...page.events);
        if (page.events.length === 0 || page.nextAfter <= cursor || events.length >= max) break;
        cursor = page.nextAfter;
        if (page.lastSeq !== undefined && cursor >= page.lastSeq) break;
      }
      return events;
    }
  }

  /**
   * The live stream of events. Calls `onEvents(events)` with events in seq order, never one
   * twice (dedupe by seq), and `onState(state, detail)` with 'connecting' | 'connected' |
   * 'reconnecting' | 'offline'. Reconnects with backoff and resumes from the last cursor.
   */
  class StreamClient {
    constructor(api, { onEvents, onState }) {
      this.api = api;
      this.onEvents = onEvents;
      this.onState = onState;
      this.cursor = 0;
      this.delivered = 0; // highest seq handed to onEvents
      this.attempt = 0;
      this.wsFailures = 0; // consecutive WebSocket connections that never said hello
      this.transport = 'websocket';
      this.state = 'connecting';
      this.stopped = false;
      this.socket = null;
      this.source = null;
      this.timer = null;
      this.watchdog = null;
      this.lastMessageAt = 0;
    }

    start(cursor) {
      this.cursor = cursor;
      this.delivered = cursor;
      this.stopped = false;
      this.connect();
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      clearInterval(this.watchdog);
      this.closeTransport();
    }

    setState(state, detail) {
      if (this.state === state && !detail) return;
      this.state = state;
      this.onState(state, detail);
    }

    closeTransport() {
      if (this.socket) {
        const s = this.socket;
        this.socket = null;
        s.onopen = s.onmessage = s.onclose = s.onerror = null;
        try { s.close(); } catch { /* already closed */ }
      }
      if (this.source) {
        this.source.close();
        this.source = null;
      }
    }

    deliver(events) {
      const fresh = [];
      for (const event of events) {
        if (event.seq > this.delivered) {
          fresh.push(event);
          this.delivered = event.seq;
        }
      }
      if (this.delivered > this.cursor) this.cursor = this.delivered;
      if (fresh.length) this.onEvents(fresh);
    }

    connect() {
      if (this.stopped) return;
      this.closeTransport();
      this.lastMessageAt = Date.now();
      clearInterval(this.watchdog);
      // The server sends a heartbeat after 15 s of silence: 45 s without anything means the
      // connection is dead even if the socket has not noticed.
      this.watchdog = setInterval(() => {
        if (Date.now() - this.lastMessageAt > 45000) this.lost('no heartbeat for 45 s');
      }, 5000);
      if (this.transport === 'websocket' && typeof WebSocket !== 'undefined') this.connectWebSocket();
      else this.connectSSE();
    }

    connectWebSocket() {
      const url = new URL(this.api.url('/api/v1/stream', { from: this.cursor }));
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      let hello = false;
      let socket;
      try {
        socket = new WebSocket(url.toString());
      } catch (error) {
        this.wsFailures++;
        this.lost(String(error));
        return;
      }
      this.socket = socket;
      socket.onmessage = (message) => {
        this.lastMessageAt = Date.now();
        let msg;
        try { msg = JSON.parse(message.data); } catch { return; }
        switch (msg.kind) {
          case 'hello':
            hello = true;
            this.wsFailures = 0;
            this.attempt = 0;
            this.setState('connected', { transport: 'websocket', lastSeq: msg.lastSeq });
            break;
          case 'events':
            if (!hello) { hello = true; this.setState('connected', { transport: 'websocket' }); }
            this.deliver(msg.events || []);
            if (msg.cursor > this.cursor) this.cursor = msg.cursor;
            break;
          case 'heartbeat':
            if (msg.cursor > this.cursor) this.cursor = msg.cursor;
            break;
          case 'closing':
            if (msg.cursor > this.cursor) this.cursor = msg.cursor;
            this.closingReason = msg.reason;
            break;
          default:
            break;
        }
      };
      socket.onclose = (close) => {
        if (this.socket !== socket) return;
        this.socket = null;
        if (!hello) this.wsFailures++;
        const reason = this.closingReason || close.reason || `closed (${close.code})`;
        this.closingReason = null;
        this.lost(reason);
      };
      socket.onerror = () => { /* onclose follows */ };
    }

    connectSSE() {
      const source = new EventSource(this.api.url('/api/v1/events/stream', { from: this.cursor }));
      this.source = source;
      source.onopen = () => {
        this.lastMessageAt = Date.now();
        this.attempt = 0;
        this.setState('connected', { transport: 'sse' });
      };
      source.onmessage = (message) => {
        this.lastMessageAt = Date.now();
        let event;
        try { event = JSON.parse(message.data); } catch { return; }
        this.deliver([event]);
      };
      source.addEventListener('closing', (message) => {
        try {
          const msg = JSON.parse(message.data);
          if (msg.cursor > this.cursor) this.cursor = msg.cursor;
        } catch { /* ignore */ }
        this.lost('server closing');
      });
      source.onerror = () => {
        if (this.source !== source) return;
        this.lost('event stream error');
      };
    }

    /** The connection is gone: probe the server, then reconnect with backoff. */
    lost(reason) {
      if (this.stopped) return;
      this.closeTransport();
      clearInterval(this.watchdog);
      clearTimeout(this.timer);
      this.attempt++;
      // A proxy that refuses WebSockets: after three connections that never said hello while
      // the server answers HTTP, use Server-Sent Events.
      if (this.transport === 'websocket' && this.wsFailures >= 3) this.transport = 'sse';
      if (this.state !== 'offline') this.setState('reconnecting', { reason });
      const base = this.attempt <= 1 ? 250 : Math.min(10000, 500 * 2 ** (this.attempt - 2));
      const delay = base * (0.8 + Math.random() * 0.4);
      this.timer = setTimeout(() => this.probeThenConnect(), delay);
    }

    async probeThenConnect() {
      if (this.stopped) return;
      try {
        await this.api.get('/healthz');
      } catch (error) {
        // 503 shutting_down still means "the server is there": keep trying quietly.
        if (error.status === 0 || error.code === 'unreachable') {
          this.setState('offline', { message: error.message });
          this.lost('unreachable');
          return;
        }
      }
      this.setState('reconnecting', { reason: 'connecting' });
      this.connect();
    }

    /** Reconnect now (e.g. the user clicked "retry"). */
    retryNow() {
      clearTimeout(this.timer);
      this.attempt = 0;
      this.probeThenConnect();
    }
  }

  Object.assign(window.Glassbox, { normaliseServer, resolveServer, chooseServer, unreachableMessage, ApiError, Api, StreamClient });
}
