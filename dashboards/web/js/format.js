// Formatting helpers shared by every view: times, durations, numbers, event categories
// and one-line summaries of event payloads. Pure functions, no DOM except `h`.
'use strict';

window.Glassbox = window.Glassbox || {};

{
  /** Creates an element: h('div', {class: 'x', dataset: {seq: 1}, onclick: fn}, 'text', child). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') el.className = value;
        else if (key === 'dataset') Object.assign(el.dataset, value);
        else if (key === 'style') Object.assign(el.style, value);
        else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
        else if (key in el && typeof value !== 'string') el[key] = value;
        else el.setAttribute(key, value === true ? '' : String(value));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else el.append(child instanceof Node ? child : String(child));
    }
  }

  /** Replaces an element's children, skipping null/undefined/false as `h` does (replaceChildren would print "null"). */
  function fill(el, ...children) {
    el.textContent = '';
    append(el, children);
    return el;
  }

  /** Milliseconds since the epoch of an event, run field (unix ns) or ISO string. */
  function toMillis(value) {
    if (value === undefined || value === null) return NaN;
    if (typeof value === 'number') return value > 1e14 ? value / 1e6 : value; // unix ns → ms
    if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value) / 1e6;
    return Date.parse(value);
  }

  function eventMillis(event) {
    const fromNanos = toMillis(event.timeUnixNano);
    return Number.isFinite(fromNanos) ? fromNanos : toMillis(event.time);
  }

  /** "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
  function relativeTime(ms, now = Date.now()) {
    if (!Number.isFinite(ms)) return '';
    const s = (now - ms) / 1000;
    if (s < 1) return 'just now';
    if (s < 60) return `${Math.floor(s)} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }

  /** Exact time for hover titles: local time with milliseconds, then the UTC ISO string. */
  function exactTime(ms, iso) {
    if (!Number.isFinite(ms)) return iso || '';
    const d = new Date(ms);
    const pad = (n, w = 2) => String(n).padStart(w, '0');
    const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
    return `${local} local · ${iso || d.toISOString()}`;
  }

  // One formatter for every clock time: toLocaleTimeString builds a new one per call, which
  // costs about 0.2 ms (two seconds for a run of 10,000 events).
  const clockFormat = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

  /** Clock time "14:03:07" for compact displays. */
  function clockTime(ms) {
    if (!Number.isFinite(ms)) return '';
    return clockFormat.format(ms);
  }

  /** Human duration: "850 ms", "3.5 s", "2 min 5 s", "1 h 4 min". */
  function duration(ms) {
    if (ms === undefined || ms === null || !Number.isFinite(ms)) return '';
    if (ms < 0) ms = 0;
    if (ms < 1) return `${ms.toFixed(2)} ms`;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 10) return `${s.toFixed(1)} s`;
    if (s < 60) return `${Math.floor(s)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
    const hours = Math.floor(m / 60);
    if (hours < 24) return `${hours} h ${m % 60} min`;
    return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  }

  const numberFormat = new Intl.NumberFormat('en-US');
  function num(value) {
    if (value === undefined || value === null || value === '') return '';
    return numberFormat.format(value);
  }

  /** Compact token counts: 812, 3.6 k, 1.2 M. */
  function tokens(value) {
    if (!value) return '0';
    if (value < 10000) return numberFormat.format(value);
    if (value < 1e6) return `${(value / 1000).toFixed(1)} k`;
    return `${(value / 1e6).toFixed(2)} M`;
  }

  function cost(usd) {
    if (usd === undefined || usd === null) return '';
    if (usd === 0) return '$0';
    if (usd < 0.01) return `$${usd.toFixed(4)}`;
    return `$${usd.toFixed(2)}`;
  }

  function bytes(n) {
    if (n === undefined || n === null) return '';
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  }

  function truncate(text, max = 160) {
    if (text === undefined || text === null) return '';
    const s = String(text).replace(/\s+/g, ' ').trim();
    return s.length > max ? s.slice(0, max - 1) + '…' : s;
  }

  /** Compact JSON for one-line summaries. */
  function compactJSON(value, max = 160) {
    if (value === undefined) return '';
    let s;
    try { s = JSON.stringify(value); } catch { s = String(value); }
    return truncate(s, max);
  }

  function prettyJSON(value) {
    return JSON.stringify(value, null, 2);
  }

  // Event categories: colour and icon per family of types.
  const CATEGORY_OF_PREFIX = {
    run: 'run', mission: 'run', step: 'run',
    llm: 'llm', agent: 'thought',
    tool: 'tool',
    approval: 'approval',
    guardrail: 'guardrail',
    audit: 'audit', api: 'audit', auth: 'audit', policy: 'audit',
    worker: 'worker',
  };

  function category(type) {
    const prefix = String(type || '').split('.')[0];
    return CATEGORY_OF_PREFIX[prefix] || 'other';
  }

  const BAD_TYPES = new Set(['run.failed', 'tool.denied', 'tool.failed', 'guardrail.blocked', 'approval.rejected',
    'auth.failed', 'mission.failed', 'step.failed', 'llm.failed']);
  const WARN_TYPES = new Set(['run.cancelled', 'run.stop_requested', 'approval.requested', 'step.retry_scheduled']);

  /** 'bad' | 'warn' | '' : an accent on top of the category colour. */
  function severity(event) {
    if (BAD_TYPES.has(event.type)) return 'bad';
    if (event.type === 'llm.responded' && event.data && event.data.errorType) return 'bad';
    if (event.type === 'audit.queried' && event.data && event.data.error) return 'bad';
    if (WARN_TYPES.has(event.type)) return 'warn';
    return '';
  }

  const TYPE_ICONS = {
    'run.started': '▶', 'run.completed': '✓', 'run.failed': '✕', 'run.cancelled': '⊘', 'run.stop_requested': '■',
    'llm.requested': '◇', 'llm.responded': '◆', 'llm.failed': '✕', 'agent.thought': '…',
    'tool.requested': '○', 'tool.authorized': '◎', 'tool.denied': '⊘', 'tool.started': '◑', 'tool.completed': '●',
    'tool.failed': '✕', 'guardrail.blocked': '⊗', 'approval.requested': '?', 'approval.granted': '✓',
    'approval.rejected': '✕', 'audit.queried': '≡', 'mission.started': '▶', 'mission.completed': '✓',
    'mission.failed': '✕', 'step.scheduled': '○', 'step.started': '▷', 'step.completed': '✓', 'step.failed': '✕',
    'step.retry_scheduled': '↻', 'worker.spawned': '+', 'worker.exited': '−', 'api.called': '⇄', 'auth.failed': '✕',
    'policy.loaded': '§',
  };

  function typeIcon(type) {
    return TYPE_ICONS[type] || '·';
  }

  /** A badge element for an event type: icon + name, coloured by category. */
  function typeBadge(type, event) {
    const sev = event ? severity(event) : (BAD_TYPES.has(type) ? 'bad' : '');
    return h('span', { class: `type-badge cat-${category(type)}${sev ? ' sev-' + sev : ''}`, title: type },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, typeIcon(type)), type);
  }

  // Run statuses: colour AND icon AND text.
  const RUN_STATUS = {
    running: { icon: '●', label: 'running' },
    waiting_for_approval: { icon: '◷', label: 'waiting for approval' },
    stopping: { icon: '■', label: 'stopping' },
    completed: { icon: '✓', label: 'completed' },
    failed: { icon: '✕', label: 'failed' },
    cancelled: { icon: '⊘', label: 'cancelled' },
  };

  const FINISHED = new Set(['completed', 'failed', 'cancelled']);

  function statusBadge(status) {
    const s = RUN_STATUS[status] || { icon: '?', label: status || 'unknown' };
    return h('span', { class: `status status-${status || 'unknown'}`, dataset: { status: status || 'unknown' } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, s.icon), s.label);
  }

  /** One-line, human summary of an event's payload. */
  function summary(event) {
    const d = event.data || {};
    const by = (x) => (x ? ` by ${x}` : '');
    switch (event.type) {
      case 'run.started':
        return `${d.agent || '?'}${d.caller ? ' for ' + d.caller : ''}: ${truncate(d.task, 140)}`;
      case 'run.completed': return truncate(d.output, 180) || `completed in ${d.steps || 0} steps`;
      case 'run.failed': return `${d.errorType ? d.errorType + ': ' : ''}${truncate(d.message, 160)}`;
      case 'run.cancelled': return `cancelled${by(d.requestedBy)}${d.reason ? ': ' + truncate(d.reason, 120) : ''}`;
      case 'run.stop_requested': return `stop requested${by(d.requestedBy)}${d.reason ? ': ' + truncate(d.reason, 120) : ''}`;
      case 'llm.requested':
        return `${d.callId || ''} ${d.model || ''} · ${num(d.messageCount || 0)} messages${d.attempt > 1 ? ' · attempt ' + d.attempt : ''}`;
      case 'llm.responded': {
        if (d.errorType) return `${d.callId || ''} error ${d.errorType}: ${truncate(d.errorMessage, 120)}`;
        const calls = (d.toolCalls || []).map((c) => c.name).join(', ');
        return `${d.callId || ''} · ${num(d.inputTokens || 0)} → ${num(d.outputTokens || 0)} tokens` +
          `${d.latencyMs ? ' · ' + duration(d.latencyMs) : ''}${calls ? ' · calls ' + calls : ''}` +
          `${d.content ? ' · ' + truncate(d.content, 80) : ''}`;
      }
      case 'llm.failed': return `${d.callId || ''} ${d.errorType || ''}: ${truncate(d.message || d.errorMessage, 140)}`;
      case 'agent.thought': return truncate(d.text, 200);
      case 'tool.requested': return `${d.tool || '?'} ${d.callId || ''} ${compactJSON(d.input, 130)}`;
      case 'tool.authorized':
        return `${d.tool || '?'} allowed: ${d.action || ''} on ${d.resource || ''}${d.rule ? ' (rule ' + d.rule + ')' : ''}` +
          `${d.approvalRequired ? ' · needs approval' : ''}`;
      case 'tool.denied':
        return `${d.tool || '?'} denied${d.rule ? ' by ' + d.rule : ''}: ${truncate(d.reason, 140)}`;
      case 'tool.started': return `${d.tool || '?'} ${d.callId || ''}${d.executingAs ? ' as ' + d.executingAs : ''}`;
      case 'tool.completed':
        return `${d.tool || '?'} ${d.callId || ''}${d.rows !== undefined ? ' · ' + num(d.rows) + ' rows' : ''}` +
          `${d.outputBytes ? ' · ' + bytes(d.outputBytes) : ''}${d.durationMs !== undefined ? ' · ' + duration(d.durationMs) : ''}` +
          `${d.truncated ? ' · truncated' : ''}`;
      case 'tool.failed': return `${d.tool || '?'} ${d.errorType || 'failed'}: ${truncate(d.message, 140)}`;
      case 'guardrail.blocked': return `${d.guardrail || 'guardrail'} blocked ${d.tool || ''}: ${truncate(d.reason, 140)}`;
      case 'approval.requested': return `${d.tool || ''} needs approval${d.approver ? ' from ' + d.approver : ''}: ${truncate(d.reason, 120)}`;
      case 'approval.granted': return `granted${by(d.decidedBy)}${d.comment ? ': ' + truncate(d.comment, 120) : ''}`;
      case 'approval.rejected': return `rejected${by(d.decidedBy)}${d.comment ? ': ' + truncate(d.comment, 120) : ''}`;
      case 'audit.queried':
        return `${d.principal || ''}: ${truncate(d.query, 120)}${d.error ? ' · error: ' + truncate(d.error, 80) : ` · ${num(d.rows || 0)} rows`}`;
      default: return compactJSON(d, 200);
    }
  }

  /** Shell-style glob (* and ?) or substring match, case-insensitive. */
  function matcher(pattern) {
    const p = String(pattern || '').trim().toLowerCase();
    if (!p) return null;
    if (/[*?]/.test(p)) {
      const re = new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      return (value) => re.test(String(value || '').toLowerCase());
    }
    return (value) => String(value || '').toLowerCase().includes(p);
  }

  /** A blob cell from the audit endpoint ({base64}) as hex. */
  function blobToHex(base64) {
    try {
      const raw = atob(base64);
      let out = '';
      for (let i = 0; i < raw.length; i++) out += raw.charCodeAt(i).toString(16).padStart(2, '0');
      return out;
    } catch {
      return base64;
    }
  }

  /** Exact `timeUnixNano` as a decimal string, rebuilt from the ISO time (JSON numbers lose it). */
  function exactUnixNanos(event) {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(event.time || '');
    if (!m || typeof BigInt === 'undefined') return null;
    const seconds = Date.parse(m[1] + 'Z') / 1000;
    if (!Number.isFinite(seconds)) return null;
    const nanos = BigInt(seconds) * 1000000000n + BigInt((m[2] || '').padEnd(9, '0'));
    const s = nanos.toString();
    // Only when it agrees with the number we have (to the precision of a double).
    if (typeof event.timeUnixNano === 'number' && Math.abs(Number(s) - event.timeUnixNano) > 1e4) return null;
    return s;
  }

  /** Pretty JSON of an event envelope, with an exact timeUnixNano. */
  function eventJSON(event) {
    const exact = exactUnixNanos(event);
    if (!exact) return prettyJSON(event);
    const marker = '@@glassbox-int@@';
    const text = JSON.stringify({ ...event, timeUnixNano: marker }, null, 2);
    return text.replace(`"${marker}"`, exact);
  }

  const JSON_TOKEN = /("(?:\\u[a-fA-F0-9]{4}|\\[^u]|[^\\"])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

  /** A <pre> with the JSON text, keys/strings/numbers/literals in spans (built as DOM, no HTML). */
  function jsonBlock(text, className = 'json') {
    const pre = document.createElement('pre');
    pre.className = className;
    let last = 0;
    for (const m of text.matchAll(JSON_TOKEN)) {
      if (m.index > last) pre.append(text.slice(last, m.index));
      let cls;
      if (m[1] !== undefined) cls = m[2] ? 'j-key' : 'j-str';
      else if (m[3] !== undefined) cls = 'j-lit';
      else cls = 'j-num';
      const span = document.createElement('span');
      span.className = cls;
      span.textContent = m[1] !== undefined ? m[1] : m[0];
      pre.append(span);
      if (m[2]) pre.append(m[2]);
      last = m.index + m[0].length;
    }
    if (last < text.length) pre.append(text.slice(last));
    return pre;
  }

  Object.assign(window.Glassbox, { h, fill, toMillis, eventMillis, relativeTime, exactTime, clockTime, duration, num, tokens, cost, bytes, truncate, compactJSON, prettyJSON, category, severity, typeIcon, typeBadge, RUN_STATUS, FINISHED, statusBadge, summary, matcher, blobToHex, exactUnixNanos, eventJSON, jsonBlock });
}
