// One run: header (status, scripted badge, Stop), the outcome (answer, failure, stop), facts,
// the agent's transcript (transcript.js), a waterfall of the run's LLM and tool calls nested by
// span, each tool call's permission decision, and every event. Updates live from the stream
// (events of stream `run/{id}`); the transcript only ever appends.
'use strict';

{
  const {
    h, fill, eventMillis, toMillis, relativeTime, exactTime, duration, num, tokens, cost, truncate,
    statusBadge, typeBadge, summary, eventJSON, jsonBlock, prettyJSON, FINISHED, clockTime, category,
    severity, Transcript,
  } = window.Glassbox;

  const STOP_REASON = 'stopped from the dashboard';
  const END_STATUS = { 'run.completed': 'completed', 'run.failed': 'failed', 'run.cancelled': 'cancelled' };

  class RunView {
    constructor(store, app) {
      this.app = app;
      this.active = false;
      this.runId = null;
      this.run = null;
      this.asOf = 0;
      this.events = new Map(); // seq → event of this run
      this.toolCalls = new Map(); // callId → call from /api/v1/tool-calls
      this.expanded = new Set(); // waterfall rows opened
      this.openDetails = new Set(); // seqs of events opened inside waterfall details
      this.renderedEvents = new Set(); // seqs in the events list
      this.renderQueued = false;
      this.refetchTimer = null;
      this.generation = 0;
      this.el = {
        title: document.getElementById('run-title'),
        status: document.getElementById('run-status'),
        stop: document.getElementById('stop-button'),
        stopResult: document.getElementById('stop-result'),
        outcome: document.getElementById('run-outcome'),
        badges: document.getElementById('run-badges'),
        transcript: document.getElementById('run-transcript'),
        facts: document.getElementById('run-facts'),
        waterfall: document.getElementById('waterfall'),
        toolBody: document.querySelector('#run-tool-calls tbody'),
        toolEmpty: document.getElementById('run-tool-calls-empty'),
        eventsList: document.getElementById('run-events'),
        eventsCount: document.getElementById('run-events-count'),
        message: document.getElementById('run-message'),
        content: document.getElementById('run-content'),
        expandAll: document.getElementById('run-events-expand'),
        collapseAll: document.getElementById('run-events-collapse'),
      };
      this.toolRows = new Map(); // callId → { tr, lastSeq, status } of the tool calls table
      this.wfCost = 0; // ms the last waterfall rebuild took
      this.wfAt = 0;
      this.wfTimer = null;
      this.transcript = new Transcript(this.el.transcript, app);
      this.txQueue = []; // events not yet in the transcript
      this.resetLive();
      this.el.stop.addEventListener('click', () => this.stop());
      this.el.waterfall.addEventListener('click', (e) => {
        if (e.target.closest('a, button, pre, .wf-detail')) return;
        const row = e.target.closest('.wf-row');
        if (!row) return;
        const key = row.dataset.key;
        if (this.expanded.has(key)) this.expanded.delete(key); else this.expanded.add(key);
        this.renderWaterfall();
      });
      this.el.waterfall.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && e.target.classList.contains('wf-row')) { e.preventDefault(); e.target.click(); }
      });
      this.el.expandAll.addEventListener('click', () => {
        for (const d of this.el.eventsList.querySelectorAll('details')) d.open = true;
      });
      this.el.collapseAll.addEventListener('click', () => {
        for (const d of this.el.eventsList.querySelectorAll('details')) d.open = false;
      });
      store.subscribe((events) => this.onEvents(events));
      setInterval(() => { if (this.active && this.run && !FINISHED.has(this.status())) this.tick(); }, 1000);
    }

    activate(runId) {
      this.active = true;
      if (runId !== this.runId) this.open(runId);
      else if (!this.run || this.stale) { this.stale = false; this.load(); }
    }

    deactivate() {
      this.active = false;
    }

    open(runId) {
      this.generation++;
      this.runId = runId;
      this.run = null;
      this.events = new Map();
      this.toolCalls = new Map();
      this.expanded = new Set();
      this.openDetails = new Set();
      this.renderedEvents = new Set();
      this.toolRows = new Map();
      clearTimeout(this.wfTimer);
      this.wfTimer = null;
      this.wfCost = 0;
      this.transcript.reset();
      this.txQueue = [];
      this.resetLive();
      this.stopRequested = false;
      this.el.badges.textContent = '';
      this.el.stop.textContent = '■ Stop run';
      this.el.title.textContent = runId;
      this.el.status.textContent = '';
      delete this.el.status.dataset.status;
      delete this.el.outcome.dataset.key;
      this.el.facts.textContent = '';
      this.el.waterfall.textContent = '';
      this.el.toolBody.textContent = '';
      this.el.eventsList.textContent = '';
      this.el.eventsCount.textContent = '';
      this.el.stopResult.hidden = true;
      this.el.outcome.hidden = true;
      this.el.stop.disabled = true;
      this.el.message.hidden = false;
      this.el.message.className = 'notice';
      this.el.message.textContent = this.app.startedRuns?.has(runId) ? `Starting run ${runId}…` : `Loading run ${runId}…`;
      this.el.content.hidden = true;
      document.title = `Run ${runId} · Glassbox`;
      this.load();
    }

    async load() {
      if (!this.app.api || !this.runId) return;
      const generation = this.generation;
      if (this.loadingGeneration === generation) return; // already on its way
      this.loadingGeneration = generation;
      try {
        await this.loadOnce(generation);
      } finally {
        if (this.loadingGeneration === generation) this.loadingGeneration = null;
      }
    }

    async loadOnce(generation) {
      const id = encodeURIComponent(this.runId);
      try {
        const [runResult, events, calls] = await Promise.all([
          this.app.api.get(`/api/v1/runs/${id}`),
          this.app.api.allEvents(`/api/v1/runs/${id}/events`),
          this.app.api.get('/api/v1/tool-calls', { run: this.runId, limit: 1000 }).catch(() => ({ toolCalls: [] })),
        ]);
        if (generation !== this.generation) return;
        this.run = runResult.run;
        this.asOf = runResult.asOf;
        for (const e of events) this.events.set(e.seq, e);
        this.setToolCalls(calls.toolCalls || []);
        this.el.message.hidden = true;
        this.el.content.hidden = false;
        const sorted = this.sortedEvents();
        this.resetLive();
        for (const e of sorted) this.track(e);
        this.transcript.rebuild(sorted);
        this.txQueue = [];
        this.renderAll();
      } catch (error) {
        if (generation !== this.generation) return;
        this.el.message.hidden = false;
        this.el.message.className = 'notice error';
        this.el.message.textContent = error.status === 404
          ? (this.app.startedRuns?.has(this.runId)
            ? `Starting run ${this.runId}: waiting for its run.started…`
            : `No run “${this.runId}” in this log. It appears here as soon as its run.started is appended.`)
          : error.message;
        this.el.content.hidden = true;
      }
    }

    /** Run and tool calls again (debounced) after live events: the server's projections know best. */
    refetch(delay = 300) {
      const now = Date.now();
      if (this.refetchTimer && delay > 0 && now - this.refetchSince > 1000) return; // overdue: let it fire
      if (!this.refetchTimer) this.refetchSince = now;
      clearTimeout(this.refetchTimer);
      this.refetchTimer = setTimeout(async () => {
        this.refetchTimer = null;
        if (!this.runId || !this.app.api) return;
        const generation = this.generation;
        const id = encodeURIComponent(this.runId);
        if (!this.run) { this.load(); return; }
        try {
          const [runResult, calls] = await Promise.all([
            this.app.api.get(`/api/v1/runs/${id}`),
            this.app.api.get('/api/v1/tool-calls', { run: this.runId, limit: 1000 }).catch(() => null),
          ]);
          if (generation !== this.generation) return;
          this.run = runResult.run;
          this.asOf = runResult.asOf;
          if (calls) this.setToolCalls(calls.toolCalls || []);
          this.renderAll();
        } catch { /* the next event or reconnect tries again */ }
      }, delay);
    }

    setToolCalls(calls) {
      this.toolCalls = new Map(calls.map((c) => [c.callId, c]));
    }

    onEvents(events) {
      if (!this.runId) return;
      const stream = `run/${this.runId}`;
      let any = false;
      for (const e of events) {
        if (e.stream === stream && !this.events.has(e.seq)) {
          this.events.set(e.seq, e);
          this.txQueue.push(e);
          this.track(e);
          any = true;
        }
      }
      if (!any) return;
      if (this.active) {
        this.scheduleRender();
        this.refetch(300);
      } else {
        this.stale = true;
      }
    }

    scheduleRender() {
      if (this.renderQueued) return;
      this.renderQueued = true;
      const run = () => {
        if (!this.renderQueued) return;
        this.renderQueued = false;
        if (this.run) this.renderAll();
      };
      requestAnimationFrame(run);
      setTimeout(run, 100);
    }

    sortedEvents() {
      return [...this.events.values()].sort((a, b) => a.seq - b.seq);
    }

    // Stop -------------------------------------------------------------------------------------

    async stop() {
      const id = this.runId;
      const requestedBy = this.app.actingAs.get();
      this.el.stop.disabled = true;
      this.el.stop.textContent = '■ stopping…';
      this.showStopResult(`Asking the run to stop, as ${requestedBy}…`, '');
      try {
        const result = await this.app.api.post(`/api/v1/runs/${encodeURIComponent(id)}/stop`, { requestedBy, reason: STOP_REASON });
        if (id !== this.runId) return;
        this.stopRequested = true;
        // When the run has already ended (its end can arrive before this answer), renderHeader hides this again.
        this.showStopResult(`Stop requested by ${requestedBy} (run.stop_requested is seq ${result.seq}): stopping… ` +
          'The agent stops at its next step; the log records run.cancelled when it has.', 'ok');
        if (this.run && !FINISHED.has(this.run.status)) this.run.status = result.status || 'stopping';
        this.renderHeader();
        this.refetch(300);
      } catch (error) {
        if (id !== this.runId) return;
        this.showStopResult(`Could not stop the run: ${error.message}${error.code ? ` (${error.code})` : ''}`, 'error');
        this.renderHeader();
        this.refetch(0);
      }
    }

    showStopResult(text, kind) {
      const box = this.el.stopResult;
      box.hidden = false;
      box.className = `notice${kind ? ' ' + kind : ''}`;
      box.dataset.state = kind || 'pending';
      box.textContent = text;
    }

    // What the events say (ahead of the server's read model, which is refetched 300 ms later) --

    resetLive() {
      this.live = { started: null, end: null, stop: null, approvals: new Map() };
    }

    track(e) {
      const live = this.live;
      switch (e.type) {
        case 'run.started': live.started = e; break;
        case 'run.stop_requested': live.stop = e; break;
        case 'run.completed': case 'run.failed': case 'run.cancelled': live.end = e; break;
        case 'approval.requested': if (e.data?.approvalId) live.approvals.set(e.data.approvalId, e); break;
        case 'approval.granted': case 'approval.rejected': live.approvals.delete(e.data?.approvalId); break;
        default: break;
      }
    }

    /** The run's status: its end event, else a stop request, else a pending approval, else the read model's. */
    status() {
      const { end, stop, approvals } = this.live;
      if (end) return END_STATUS[end.type];
      const fromModel = this.run?.status;
      if (FINISHED.has(fromModel)) return fromModel;
      if (stop) return 'stopping';
      if (approvals.size) return 'waiting_for_approval';
      return fromModel || 'running';
    }

    get scripted() {
      return this.live.started?.data?.provider === 'scripted' || this.run?.provider === 'scripted';
    }

    // Rendering --------------------------------------------------------------------------------

    renderAll() {
      this.flushTranscript();
      this.renderHeader();
      this.renderWaterfallSoon();
      this.renderToolCalls();
      this.renderEvents();
    }

    /** The waterfall is rebuilt whole: on a long live run, at most every four times what a rebuild costs. */
    renderWaterfallSoon() {
      const wait = this.wfCost * 4 - (performance.now() - this.wfAt);
      if (wait <= 0) {
        clearTimeout(this.wfTimer);
        this.wfTimer = null;
        const t = performance.now();
        this.renderWaterfall();
        this.wfAt = performance.now();
        this.wfCost = this.wfAt - t;
      } else if (!this.wfTimer) {
        this.wfTimer = setTimeout(() => { this.wfTimer = null; if (this.run) this.renderWaterfallSoon(); }, wait);
      }
    }

    /** New events go at the end of the transcript; one older than what it shows rebuilds it. */
    flushTranscript() {
      if (!this.txQueue.length) return;
      const queue = this.txQueue.sort((a, b) => a.seq - b.seq);
      this.txQueue = [];
      if (!this.transcript.add(queue)) this.transcript.rebuild(this.sortedEvents());
    }

    runDurationMs(now = Date.now()) {
      const run = this.run;
      if (run.durationMs !== undefined && FINISHED.has(run.status)) return run.durationMs;
      const started = toMillis(run.startedAt);
      const ended = toMillis(run.endedAt);
      if (Number.isFinite(ended)) return ended - started;
      return now - started;
    }

    renderHeader() {
      const run = this.run;
      if (!run) return;
      const status = this.status();
      const finished = FINISHED.has(status);
      if (this.el.status.dataset.status !== status) {
        this.el.status.replaceChildren(statusBadge(status));
        this.el.status.dataset.status = status;
      }
      if (this.scripted && !this.el.badges.firstChild) {
        this.el.badges.append(h('span', { class: 'scripted-badge', dataset: { testid: 'scripted-badge' },
          title: 'The model replies of this run come from a script, not from a model' }, '✎ scripted'));
      }
      const stopping = !finished && (status === 'stopping' || this.stopRequested);
      this.el.stop.disabled = finished || stopping;
      this.el.stop.textContent = stopping ? '■ stopping…' : '■ Stop run';
      this.el.stop.title = finished ? `This run has ${status}: nothing to stop.`
        : stopping ? 'Stop requested: waiting for the agent to stop (run.cancelled)'
          : `Ask the agent to stop, as ${this.app.actingAs.get()} (records run.stop_requested)`;
      // Once the run has ended the outcome says how; the stop notice has done its job.
      if (finished && this.live.end && this.el.stopResult.dataset.state === 'ok') {
        this.stopRequested = false;
        this.el.stopResult.hidden = true;
      }
      const started = toMillis(run.startedAt);
      const fact = (label, value, opts = {}) => (value === undefined || value === null || value === '' ? null
        : h('div', { class: `fact${opts.wide ? ' wide' : ''}${opts.wide2 ? ' wide2' : ''}` }, h('dt', {}, label), h('dd', { class: opts.mono ? 'mono' : '', title: opts.title || null, dataset: opts.data || {} }, value)));
      const tools = `${num(run.toolCalls || 0)}${run.toolCallsDenied ? ` · ⊘ ${num(run.toolCallsDenied)} denied` : ''}` +
        `${run.toolCallsFailed ? ` · ✕ ${num(run.toolCallsFailed)} failed` : ''}`;
      this.el.facts.replaceChildren(...[
        fact('Agent', run.agent),
        fact('Caller', run.caller),
        fact('Model', [this.live.started?.data?.provider, run.model].filter((x, i, all) => x && all.indexOf(x) === i).join(' · ')),
        fact('Started', relativeTime(started), { title: exactTime(started), data: { ms: started, role: 'started' } }),
        fact('Duration', duration(this.runDurationMs()), { data: { role: 'duration' } }),
        fact('Tokens in / out', `${num(run.inputTokens || 0)} / ${num(run.outputTokens || 0)}`),
        fact('Cost', run.costUsd !== undefined ? cost(run.costUsd) : '—'),
        fact('LLM calls', num(run.llmCalls || 0)),
        fact('Tool calls', tools),
        run.guardrailBlocks ? fact('Guardrail blocks', num(run.guardrailBlocks)) : null,
        run.approvalsPending ? fact('Approvals pending', num(run.approvalsPending)) : null,
        fact('Thoughts', run.thoughts !== undefined ? num(run.thoughts) : undefined),
        fact('Events', `${num(run.events ?? this.events.size)} · seq ${run.firstSeq}–${run.lastSeq}`),
        run.missionId ? fact('Mission', `${run.missionId}${run.step ? ' · step ' + run.step : ''}`, { mono: true }) : null,
        fact('Stop requested by', run.stopRequestedBy),
        fact('Trace', run.traceId, { mono: true, wide2: true }),
      ].filter(Boolean));
      this.renderOutcome(status);
    }

    /** The answer, the failure or the stop, above everything else; or what the run waits for. */
    renderOutcome(status) {
      const box = this.el.outcome;
      const run = this.run;
      const end = this.live.end;
      const d = end?.data || {};
      const steps = d.steps ? h('span', { class: 'muted' }, ` · ${num(d.steps)} step${d.steps === 1 ? '' : 's'}`) : null;
      const key = `${status}:${end?.seq || ''}:${this.live.stop?.seq || ''}:${[...this.live.approvals.keys()].join(',')}:${run.error || ''}`;
      if (box.dataset.key === key) return; // unchanged: keep the reader's selection
      box.dataset.key = key;
      box.dataset.outcome = status;
      box.hidden = false;
      if (status === 'completed') {
        box.className = 'outcome outcome-ok';
        fill(box, h('div', { class: 'outcome-title' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✓'), 'Answer', steps),
          d.output ? h('div', { class: 'outcome-text prose', dataset: { testid: 'run-answer' } }, d.output)
            : h('div', { class: 'muted' }, 'The run completed without an answer text.'));
      } else if (status === 'failed') {
        box.className = 'outcome outcome-bad';
        fill(box, h('div', { class: 'outcome-title' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✕'), 'Failed',
          h('span', { class: 'mono outcome-type' }, d.errorType || run.errorType || ''), steps),
        h('div', { class: 'outcome-text prose', dataset: { testid: 'run-failure' } }, d.message || run.error || 'No reason was recorded.'));
      } else if (status === 'cancelled' || status === 'stopping') {
        const stop = this.live.stop?.data || {};
        const by = d.requestedBy || stop.requestedBy || run.stopRequestedBy;
        const why = d.reason || stop.reason || run.error;
        box.className = 'outcome outcome-warn';
        fill(box, h('div', { class: 'outcome-title' },
          h('span', { class: 'icon', 'aria-hidden': 'true' }, status === 'cancelled' ? '⊘' : '■'),
          status === 'cancelled' ? 'Cancelled' : 'Stopping…', by ? h('span', { class: 'muted' }, ' requested by ', h('span', { class: 'mono' }, by)) : null, steps),
        why ? h('div', { class: 'outcome-text' }, why) : null);
      } else if (status === 'waiting_for_approval') {
        const waiting = [...this.live.approvals.values()].map((e) => e.data || {});
        const review = h('button', { type: 'button', class: 'small' }, 'Review ↓');
        review.addEventListener('click', () => {
          const card = this.el.transcript.querySelector('.approval-card[data-status="pending"]');
          if (!card) return;
          card.scrollIntoView({ block: 'center' });
          card.querySelector('.ap-comment')?.focus({ preventScroll: true });
        });
        box.className = 'outcome outcome-waiting';
        fill(box, h('div', { class: 'outcome-title' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '◷'),
          'Waiting for approval', h('span', { class: 'muted' },
            waiting.map((a) => `${a.tool || 'a tool call'}${a.approver ? ' by ' + a.approver : ''}`).join(', ')), review));
      } else {
        box.hidden = true;
        box.className = 'outcome';
      }
    }

    tick() {
      const now = Date.now();
      const d = this.el.facts.querySelector('[data-role="duration"]');
      if (d) d.textContent = duration(this.runDurationMs(now));
      const s = this.el.facts.querySelector('[data-role="started"]');
      if (s) s.textContent = relativeTime(Number(s.dataset.ms), now);
      this.layoutWaterfall(); // open bars grow
    }

    /** Builds the waterfall's rows; `layoutWaterfall` positions the bars (also every second while live). */
    renderWaterfall() {
      const box = this.el.waterfall;
      const events = this.sortedEvents();
      if (!events.length) { box.textContent = 'No events yet.'; this.wf = null; return; }
      const live = this.run && !FINISHED.has(this.status());
      const model = buildTimeline(this.run, events, this.toolCalls, live ? Date.now() : null);
      const frag = document.createDocumentFragment();
      const axisLabel = h('div', { class: 'wf-label' });
      const axisTrack = h('div', { class: 'wf-track' });
      frag.append(h('div', { class: 'wf-axis' }, axisLabel, axisTrack));
      const items = [];
      for (const { node, depth } of model.rows) {
        const expanded = this.expanded.has(node.key);
        const track = h('div', { class: 'wf-track' });
        const bar = h('div', { class: `wf-bar kind-${node.kind} st-${node.status}${node.end === null ? ' open' : ''}` });
        // Tool calls: the part before tool.started (authorization, approval) is drawn lighter.
        const wait = node.kind === 'tool' && node.execStart ? h('span', { class: 'wf-wait' }) : null;
        if (wait) bar.append(wait);
        const dur = h('span', { class: 'wf-dur' });
        const grid = h('span', { class: 'wf-grid-layer' });
        track.append(grid, bar, dur);
        const markers = node.markers.map((m) => {
          const el = h('span', { class: `wf-marker mk-${m.kind}`, title: `${clockTime(m.t)} · ${m.title}` });
          track.append(el);
          return { el, t: m.t };
        });
        items.push({ node, bar, wait, dur, grid, markers });
        const row = h('div', {
          class: `wf-row kind-${node.kind} st-${node.status}${expanded ? ' expanded' : ''}`,
          tabindex: '0',
          role: 'button',
          'aria-expanded': String(expanded),
          dataset: { key: node.key, kind: node.kind, callId: node.callId || '', status: node.status },
        },
        h('div', { class: 'wf-label', style: { paddingLeft: `${6 + depth * 14}px` }, title: node.title },
          h('span', { class: 'wf-caret', 'aria-hidden': 'true' }, expanded ? '▾' : '▸'),
          h('span', { class: `wf-icon kind-${node.kind} st-${node.status}`, 'aria-hidden': 'true' }, node.icon),
          h('span', { class: 'wf-name' }, node.name),
          node.meta ? h('span', { class: 'wf-meta' }, node.meta) : null,
          node.permission ? permissionPill(node.permission) : null),
        track);
        frag.append(row);
        if (expanded) frag.append(this.detail(node));
      }
      box.textContent = '';
      box.append(frag);
      this.wf = { model, items, axisLabel, axisTrack, live };
      this.layoutWaterfall();
    }

    layoutWaterfall() {
      const wf = this.wf;
      if (!wf) return;
      const now = Date.now();
      const { t0 } = wf.model;
      const t1 = wf.live ? Math.max(wf.model.t1, now) : wf.model.t1;
      const span = Math.max(1, t1 - t0);
      const pct = (t) => ((t - t0) / span) * 100;
      const tickList = ticks(span);
      wf.axisLabel.textContent = `${num(wf.items.length)} spans · ${duration(span)}${wf.live ? ' so far' : ''}`;
      wf.axisTrack.replaceChildren(...tickList.map((t) =>
        h('span', { class: 'wf-tick', style: { left: `${(t / span) * 100}%` } }, t === 0 ? '0' : duration(t))));
      for (const item of wf.items) {
        const { node } = item;
        const start = node.start ?? t0;
        const end = node.end ?? (wf.live ? now : t1);
        const left = pct(start);
        const width = Math.max(0.4, pct(end) - left);
        item.grid.replaceChildren(...tickList.slice(1).map((t) => h('span', { class: 'wf-grid', style: { left: `${(t / span) * 100}%` } })));
        item.bar.style.left = `${left}%`;
        item.bar.style.width = `${width}%`;
        item.bar.title = `${node.title} · ${duration(end - start)}${node.end === null ? ' so far' : ''}`;
        if (item.wait) {
          const waitPct = end > start ? ((node.execStart - start) / (end - start)) * 100 : 0;
          item.wait.style.width = `${Math.min(100, Math.max(0, waitPct))}%`;
        }
        item.dur.textContent = `${duration(end - start)}${node.end === null ? ' …' : ''}`;
        // The label goes after the bar, else before it, else inside its right end.
        const endPct = left + width;
        const inside = endPct >= 78 && left <= 22;
        item.dur.classList.toggle('inside', inside);
        if (endPct < 78) { item.dur.style.left = `calc(${endPct}% + 4px)`; item.dur.style.right = ''; }
        else if (!inside) { item.dur.style.right = `calc(${100 - left}% + 4px)`; item.dur.style.left = ''; }
        else { item.dur.style.right = `calc(${100 - endPct}% + 4px)`; item.dur.style.left = ''; }
        for (const m of item.markers) m.el.style.left = `${pct(m.t)}%`;
      }
    }

    detail(node) {
      const box = h('div', { class: 'wf-detail' });
      const facts = h('dl', { class: 'kv' });
      const kv = (k, v, mono) => {
        if (v === undefined || v === null || v === '') return;
        facts.append(h('dt', {}, k), h('dd', { class: mono ? 'mono' : '' }, String(v)));
      };
      if (node.kind === 'tool') {
        const c = node.call || {};
        const p = node.permission || {};
        kv('Decision', p.decision ? `${p.decision === 'denied' ? '⊘' : '✓'} ${p.decision}` : 'not decided yet');
        kv('Rule', p.rule, true);
        kv('Reason', p.reason);
        kv('Action', p.action, true);
        kv('Resource', p.resource, true);
        kv('Denied at', p.deniedAt);
        kv('Principal', c.principal ?? node.req?.principal, true);
        kv('Risk', c.risk ?? node.req?.risk);
        kv('Executing as', c.executingAs ?? node.started?.executingAs, true);
        kv('Approval', c.approvalId ? `${c.approvalId}${c.approvedBy ? ' approved by ' + c.approvedBy : ''}` : undefined, true);
        kv('Status', c.status ?? node.status);
        kv('Duration', c.durationMs !== undefined ? duration(c.durationMs) : undefined);
        kv('Rows', c.rows !== undefined ? num(c.rows) : undefined);
        kv('Output', c.outputBytes !== undefined ? `${num(c.outputBytes)} bytes${c.truncated ? ' (truncated)' : ''}` : undefined);
        kv('Error', c.error ? `${c.errorType || 'error'}: ${c.error}` : undefined);
        kv('LLM call', node.req?.llmCallId, true);
        box.append(facts);
        if (node.req?.input !== undefined) box.append(h('div', { class: 'detail-title' }, 'Input'), jsonBlock(prettyJSON(node.req.input)));
      } else if (node.kind === 'llm') {
        const q = node.req || {};
        const r = node.resp || {};
        kv('Model', `${r.provider || q.provider || ''} ${r.model || q.model || ''}`.trim());
        kv('Messages / tools offered', `${num(q.messageCount || 0)} / ${num(q.toolCount || 0)}`);
        kv('Tokens in / out', node.resp ? `${num(r.inputTokens || 0)} / ${num(r.outputTokens || 0)}` : undefined);
        kv('Cache read tokens', r.cacheReadInputTokens ? num(r.cacheReadInputTokens) : undefined);
        kv('Latency', r.latencyMs ? duration(r.latencyMs) : undefined);
        kv('Cost', r.costUsd ? cost(r.costUsd) : undefined);
        kv('Finish', (r.finishReasons || []).join(', '));
        kv('Tool calls', (r.toolCalls || []).map((c) => `${c.name} (${c.id})`).join(', '));
        kv('Error', r.errorType ? `${r.errorType}: ${r.errorMessage || ''}` : node.failed ? `${node.failed.errorType || ''}: ${node.failed.message || ''}` : undefined);
        box.append(facts);
        if (r.content) box.append(h('div', { class: 'detail-title' }, 'Answer'), h('p', { class: 'prose' }, r.content));
      } else {
        kv('Run', this.runId, true);
        kv('Status', this.run?.status);
        kv('Output', this.run && [...this.events.values()].find((e) => e.type === 'run.completed')?.data?.output);
        box.append(facts);
      }
      const thoughts = node.events.filter((e) => e.type === 'agent.thought');
      if (thoughts.length) {
        box.append(h('div', { class: 'detail-title' }, 'Thoughts'));
        for (const t of thoughts) box.append(h('p', { class: 'thought' }, h('span', { class: 'muted' }, `step ${t.data?.step ?? '?'} · `), t.data?.text || ''));
      }
      box.append(h('div', { class: 'detail-title' }, `Events (${node.events.length})`));
      for (const e of node.events) box.append(eventDetails(e, this.openDetails));
      return box;
    }

    /** One row per call; only rows whose call changed (its lastSeq) are rebuilt. */
    renderToolCalls() {
      const body = this.el.toolBody;
      const calls = [...this.toolCalls.values()].sort((a, b) => (a.firstSeq || 0) - (b.firstSeq || 0));
      this.el.toolEmpty.hidden = calls.length > 0;
      this.el.toolBody.closest('.table-scroll').hidden = calls.length === 0;
      const rows = this.toolRows;
      const keep = new Set(calls.map((c) => c.callId));
      for (const [id, row] of rows) if (!keep.has(id)) { row.tr.remove(); rows.delete(id); }
      let previous = null;
      for (const c of calls) {
        let row = rows.get(c.callId);
        if (!row || row.lastSeq !== c.lastSeq || row.status !== c.status) {
          const tr = toolCallRow(c);
          if (row) row.tr.replaceWith(tr);
          row = { tr, lastSeq: c.lastSeq, status: c.status };
          rows.set(c.callId, row);
        }
        const inPlace = previous ? previous.nextElementSibling === row.tr : body.firstElementChild === row.tr;
        if (!inPlace) { if (previous) previous.after(row.tr); else body.prepend(row.tr); }
        previous = row.tr;
      }
    }

    renderEvents() {
      const list = this.el.eventsList;
      const events = this.sortedEvents();
      this.el.eventsCount.textContent = `(${num(events.length)})`;
      // Events only ever get added, in seq order: append the new ones.
      const lastRendered = list.lastElementChild ? Number(list.lastElementChild.dataset.seq) : 0;
      for (const e of events) {
        if (this.renderedEvents.has(e.seq)) continue;
        if (e.seq < lastRendered) { // arrived out of order (REST after stream): rebuild
          list.textContent = '';
          this.renderedEvents.clear();
          this.renderEvents();
          return;
        }
        list.append(eventDetails(e));
        this.renderedEvents.add(e.seq);
      }
    }
  }

  function toolCallRow(c) {
    return h('tr', { dataset: { callId: c.callId, decision: c.decision || '' } },
      h('td', { class: 'mono' }, c.callId),
      h('td', { class: 'mono' }, c.tool || ''),
      h('td', {}, h('span', { class: `call-status cs-${c.status}` }, c.status || '')),
      h('td', {}, c.decision ? permissionPill({ decision: c.decision, deniedAt: c.deniedAt }) : '—',
        c.deniedAt ? h('span', { class: 'muted' }, ` at ${c.deniedAt}`) : null),
      h('td', { class: 'mono' }, c.rule || ''),
      h('td', { class: 'c-reason', title: c.reason || '' }, truncate(c.reason, 120)),
      h('td', { class: 'mono' }, c.action || ''),
      h('td', { class: 'mono' }, c.resource || ''),
      h('td', { class: 'mono' }, c.principal || ''),
      h('td', { class: 'mono' }, c.executingAs || ''),
      h('td', { class: 'num' }, c.durationMs !== undefined ? duration(c.durationMs) : ''),
      h('td', { class: 'num' }, c.rows !== undefined ? num(c.rows) : ''));
  }

  /** A collapsible event: one summary line; the full JSON is built when opened. */
  function eventDetails(event, openSet) {
    const ms = eventMillis(event);
    const sev = severity(event);
    const details = h('details', { class: `event cat-${category(event.type)}${sev ? ' sev-' + sev : ''}`, dataset: { seq: event.seq, type: event.type } },
      h('summary', {},
        h('span', { class: 'c-seq' }, event.seq),
        h('span', { class: 'c-time', title: exactTime(ms, event.time) }, clockTime(ms)),
        typeBadge(event.type, event),
        h('span', { class: 'c-summary' }, summary(event))));
    details.addEventListener('toggle', () => {
      if (details.open && !details.querySelector('pre')) details.append(jsonBlock(eventJSON(event)));
      if (openSet) { if (details.open) openSet.add(event.seq); else openSet.delete(event.seq); }
    });
    if (openSet && openSet.has(event.seq)) details.open = true;
    return details;
  }

  function permissionPill(p) {
    if (!p.decision) return h('span', { class: 'perm perm-pending', title: 'no decision yet' }, '◌ pending');
    const denied = p.decision === 'denied';
    return h('span', {
      class: `perm ${denied ? 'perm-denied' : 'perm-allowed'}`,
      title: [p.decision + (p.deniedAt ? ` at ${p.deniedAt}` : ''), p.rule && `rule ${p.rule}`,
        p.action && `${p.action} on ${p.resource || '?'}`, p.reason].filter(Boolean).join(' · '),
    }, `${denied ? '⊘ denied' : '✓ allowed'}${p.rule ? ' · ' + p.rule : ''}`);
  }

  // Timeline model -------------------------------------------------------------------------------

  const RUN_END = { 'run.completed': 'ok', 'run.failed': 'error', 'run.cancelled': 'cancelled' };

  /**
   * Spans from events: the run, each LLM call (by data.callId) and each tool call (by
   * data.callId), nested by spanId/parentSpanId. `now` is set while the run is live.
   */
  function buildTimeline(run, events, toolCalls, now) {
    const root = node('run', 'run', '▶');
    root.name = 'run';
    root.meta = run ? [run.agent, run.model].filter(Boolean).join(' · ') : '';
    root.title = run ? `run ${run.runId}: ${run.task || ''}` : 'run';
    const llm = new Map();
    const tool = new Map();
    const bySpan = new Map();

    const llmNode = (e) => {
      const id = e.data?.callId || `span:${e.spanId || e.seq}`;
      let n = llm.get(id);
      if (!n) { n = node(`llm:${id}`, 'llm', '◆'); n.callId = id; n.name = id; llm.set(id, n); }
      return n;
    };
    const toolNode = (e) => {
      const id = e.data?.callId || `span:${e.spanId || e.seq}`;
      let n = tool.get(id);
      if (!n) { n = node(`tool:${id}`, 'tool', '●'); n.callId = id; n.name = e.data?.tool || id; tool.set(id, n); }
      if (e.data?.tool) n.name = e.data.tool;
      return n;
    };
    const claimSpan = (n, e) => {
      if (n.start === null) n.start = eventMillis(e);
      if (!n.spanId && e.spanId) { n.spanId = e.spanId; n.parentSpanId = e.parentSpanId; bySpan.set(e.spanId, n); }
    };
    const finish = (n, e, status) => {
      if (n.end === null) n.end = eventMillis(e);
      n.status = status;
    };

    let first = Infinity;
    let last = -Infinity;
    for (const e of events) {
      const t = eventMillis(e);
      if (t < first) first = t;
      if (t > last) last = t;
      const d = e.data || {};
      let target = null;
      switch (e.type) {
        case 'run.started':
          root.start = t;
          if (e.spanId) { root.spanId = e.spanId; bySpan.set(e.spanId, root); }
          target = root;
          break;
        case 'run.completed': case 'run.failed': case 'run.cancelled':
          finish(root, e, RUN_END[e.type]);
          target = root;
          break;
        case 'run.stop_requested':
          root.markers.push({ t, kind: 'stop', title: summary(e) });
          target = root;
          break;
        case 'llm.requested': {
          const n = llmNode(e);
          claimSpan(n, e);
          n.req = d;
          target = n;
          break;
        }
        case 'llm.responded': {
          const n = llmNode(e);
          claimSpan(n, e);
          n.resp = d;
          finish(n, e, d.errorType === 'cancelled' ? 'cancelled' : d.errorType ? 'error' : 'ok');
          target = n;
          break;
        }
        case 'llm.failed': {
          const n = llmNode(e);
          claimSpan(n, e);
          n.failed = d;
          finish(n, e, 'error');
          target = n;
          break;
        }
        case 'agent.thought': {
          target = (d.callId && llm.get(d.callId)) || (e.spanId && bySpan.get(e.spanId)) || root;
          target.markers.push({ t, kind: 'thought', title: truncate(d.text, 300) });
          break;
        }
        case 'tool.requested': {
          const n = toolNode(e);
          claimSpan(n, e);
          n.req = d;
          target = n;
          break;
        }
        case 'tool.authorized': {
          const n = toolNode(e);
          claimSpan(n, e);
          n.authorized = d;
          target = n;
          break;
        }
        case 'tool.started': {
          const n = toolNode(e);
          claimSpan(n, e);
          n.execStart = t;
          n.started = d;
          n.status = 'open';
          target = n;
          break;
        }
        case 'tool.completed': { const n = toolNode(e); claimSpan(n, e); finish(n, e, 'ok'); target = n; break; }
        case 'tool.failed': { const n = toolNode(e); claimSpan(n, e); finish(n, e, 'error'); target = n; break; }
        case 'tool.denied': { const n = toolNode(e); claimSpan(n, e); n.denied = d; finish(n, e, 'denied'); target = n; break; }
        case 'guardrail.blocked': {
          const n = toolNode(e);
          claimSpan(n, e);
          n.markers.push({ t, kind: 'block', title: summary(e) });
          finish(n, e, 'denied');
          target = n;
          break;
        }
        case 'approval.requested': case 'approval.granted': case 'approval.rejected': {
          if (d.callId) {
            const n = toolNode(e);
            claimSpan(n, e);
            n.markers.push({ t, kind: e.type === 'approval.rejected' ? 'block' : 'approval', title: summary(e) });
            if (e.type === 'approval.requested' && n.end === null) n.status = 'waiting';
            target = n;
          }
          break;
        }
        default:
          break;
      }
      (target || (e.spanId && bySpan.get(e.spanId)) || root).events.push(e);
    }
    if (root.start === null) root.start = Number.isFinite(first) ? first : now;
    const t0 = root.start;
    let t1 = Math.max(last, root.end ?? -Infinity, now ?? -Infinity);
    if (!Number.isFinite(t1) || t1 <= t0) t1 = t0 + 1;
    if (root.status === 'open' && now === null && run) {
      root.status = { completed: 'ok', failed: 'error', cancelled: 'cancelled' }[run.status] || 'open';
    }
    if (run && run.status === 'waiting_for_approval' && root.end === null) root.status = 'waiting';

    // Labels and permissions of calls.
    for (const n of llm.values()) {
      const r = n.resp;
      n.meta = [n.req?.model || r?.model, r ? `${tokens(r.inputTokens)} → ${tokens(r.outputTokens)} tok` : null,
        n.status === 'error' ? 'error' : null].filter(Boolean).join(' · ');
      n.title = `LLM call ${n.callId}${n.meta ? ' · ' + n.meta : ''}`;
    }
    for (const n of tool.values()) {
      const call = toolCalls.get(n.callId);
      n.call = call;
      const fromEvents = n.denied ? { decision: 'denied', ...pick(n.denied, ['rule', 'reason', 'action', 'resource']), deniedAt: n.denied.stage }
        : n.authorized ? { decision: 'allowed', ...pick(n.authorized, ['rule', 'action', 'resource']) } : null;
      n.permission = call && call.decision
        ? { decision: call.decision, rule: call.rule, reason: call.reason, action: call.action, resource: call.resource, deniedAt: call.deniedAt }
        : fromEvents || (n.req ? {} : null);
      n.meta = n.callId;
      n.icon = n.status === 'denied' ? '⊘' : n.status === 'error' ? '✕' : '●';
      n.title = `tool ${n.name} (${n.callId})${n.permission?.decision ? ' · ' + n.permission.decision : ''}`;
    }

    // Nest by parentSpanId; anything without a known parent hangs under the run.
    const all = [...llm.values(), ...tool.values()];
    for (const n of all) {
      if (n.start === null) n.start = t0;
      if (n.end === null && now === null) {
        // The run is over but this call never finished (stopped, crashed): end it with the run.
        n.end = Math.max(n.start, root.end ?? t1);
        n.status = 'unfinished';
        n.meta = [n.meta, 'never finished'].filter(Boolean).join(' · ');
      }
      let parent = n.parentSpanId ? bySpan.get(n.parentSpanId) : null;
      if (!parent || parent === n) parent = root;
      parent.children.push(n);
    }
    const rows = [];
    const seen = new Set();
    const visit = (n, depth) => {
      if (seen.has(n)) return;
      seen.add(n);
      rows.push({ node: n, depth });
      n.children.sort((a, b) => a.start - b.start || (a.events[0]?.seq || 0) - (b.events[0]?.seq || 0));
      for (const c of n.children) visit(c, depth + 1);
    };
    visit(root, 0);
    for (const n of all) if (!seen.has(n)) visit(n, 1); // a span cycle: show it anyway
    return { t0, t1, rows };
  }

  function node(key, kind, icon) {
    return {
      key, kind, icon, name: '', meta: '', title: '', start: null, end: null, status: 'open',
      spanId: null, parentSpanId: null, children: [], markers: [], events: [], callId: null,
    };
  }

  function pick(obj, keys) {
    const out = {};
    for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
    return out;
  }

  /** Tick positions (ms from start) for an axis `span` ms long: about 5 labelled ticks. */
  function ticks(span) {
    const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000,
      300000, 600000, 900000, 1800000, 3600000, 7200000, 21600000, 43200000, 86400000];
    const step = steps.find((s) => span / s <= 6) || span / 5;
    const out = [];
    for (let t = 0; t <= span * 1.0001 && out.length < 12; t += step) out.push(t);
    return out;
  }


  Object.assign(window.Glassbox, { RunView, eventDetails, buildTimeline, ticks });
}
