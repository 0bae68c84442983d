// The runs list: GET /api/v1/runs, refetched (debounced) when an event of a run/… stream
// arrives; durations of running runs tick every second.
'use strict';

{
  const {
    h, toMillis, relativeTime, exactTime, duration, tokens, num, cost, truncate, statusBadge, FINISHED,
  } = window.Glassbox;

  class RunsView {
    constructor(store, app) {
      this.app = app;
      this.active = false;
      this.runs = [];
      this.asOf = 0;
      this.dirty = true;
      this.loading = false;
      this.refetchTimer = null;
      this.el = {
        body: document.querySelector('#runs tbody'),
        status: document.getElementById('runs-status-filter'),
        agent: document.getElementById('runs-agent-filter'),
        info: document.getElementById('runs-info'),
        empty: document.getElementById('runs-empty'),
        error: document.getElementById('runs-error'),
      };
      this.el.status.addEventListener('change', () => this.refetch(0));
      this.el.agent.addEventListener('change', () => this.refetch(0));
      this.knownAgents = new Set();
      this.el.body.addEventListener('click', (e) => {
        if (e.target.closest('a')) return;
        const row = e.target.closest('tr[data-run-id]');
        if (row) location.hash = `#/runs/${encodeURIComponent(row.dataset.runId)}`;
      });
      store.subscribe((events) => {
        if (events.some((e) => e.stream && e.stream.startsWith('run/'))) {
          this.dirty = true;
          if (this.active) this.refetch(300);
        }
      });
      setInterval(() => { if (this.active) this.tick(); }, 1000);
    }

    activate(param) {
      this.active = true;
      if (param === 'new') this.app.newRun.open();
      if (this.dirty || !this.runs.length) this.refetch(0);
      else this.render();
    }

    deactivate() {
      this.active = false;
    }

    /** Debounced (a burst of events causes one request), but at most a second late under a steady stream. */
    refetch(delay = 300) {
      const now = Date.now();
      if (this.refetchTimer && delay > 0 && now - this.refetchSince > 1000) return; // overdue: let it fire
      if (!this.refetchTimer) this.refetchSince = now;
      clearTimeout(this.refetchTimer);
      this.refetchTimer = setTimeout(() => { this.refetchTimer = null; this.load(); }, delay);
    }

    async load() {
      if (!this.app.api) return;
      if (this.loading) { this.again = true; return; }
      this.loading = true;
      this.dirty = false;
      try {
        const result = await this.app.api.get('/api/v1/runs', {
          status: this.el.status.value,
          agent: this.el.agent.value,
          limit: 200,
        });
        this.runs = result.runs || [];
        this.asOf = result.asOf;
        this.updateAgents();
        this.el.error.hidden = true;
        this.render();
      } catch (error) {
        this.el.error.hidden = false;
        this.el.error.textContent = error.message;
      } finally {
        this.loading = false;
        if (this.again) { this.again = false; this.refetch(100); }
      }
    }

    /** The agent filter lists every agent seen so far. */
    updateAgents() {
      const before = this.knownAgents.size;
      for (const run of this.runs) if (run.agent) this.knownAgents.add(run.agent);
      if (this.knownAgents.size === before && this.el.agent.options.length > 1) return;
      const current = this.el.agent.value;
      this.el.agent.replaceChildren(h('option', { value: '' }, 'All agents'),
        ...[...this.knownAgents].sort().map((a) => h('option', { value: a }, a)));
      this.el.agent.value = current;
    }

    render() {
      const body = this.el.body;
      const now = Date.now();
      // Keep each run's <tr> (focus, hover and references survive a refetch); replace its cells.
      const existing = new Map([...body.children].map((tr) => [tr.dataset.runId, tr]));
      body.replaceChildren(...this.runs.map((run) => {
        const fresh = this.row(run, now);
        const old = existing.get(run.runId);
        if (!old) return fresh;
        old.className = fresh.className;
        old.dataset.status = fresh.dataset.status;
        old.replaceChildren(...fresh.childNodes);
        return old;
      }));
      this.el.empty.hidden = this.runs.length > 0;
      const filtered = this.el.status.value || this.el.agent.value;
      this.el.empty.textContent = filtered ? 'No run matches these filters.'
        : 'No runs yet. Start one with “+ New run”; runs also appear here when any agent appends run.started (try glassbox serve --demo).';
      this.el.info.textContent = `${num(this.runs.length)} run${this.runs.length === 1 ? '' : 's'} · as of seq ${this.asOf}`;
    }

    row(run, now) {
      const started = toMillis(run.startedAt);
      const live = !FINISHED.has(run.status);
      const tools = [h('span', {}, num(run.toolCalls || 0))];
      if (run.toolCallsDenied) tools.push(h('span', { class: 'bad-text', title: 'denied' }, ` · ⊘ ${num(run.toolCallsDenied)} denied`));
      if (run.toolCallsFailed) tools.push(h('span', { class: 'bad-text', title: 'failed' }, ` · ✕ ${num(run.toolCallsFailed)} failed`));
      if (run.guardrailBlocks) tools.push(h('span', { class: 'bad-text', title: 'blocked by a guardrail' }, ` · ⊘ ${num(run.guardrailBlocks)} blocked`));
      if (run.approvalsPending) tools.push(h('span', { class: 'warn-text' }, ` · ◷ ${num(run.approvalsPending)} pending`));
      const href = `#/runs/${encodeURIComponent(run.runId)}`;
      return h('tr', { class: `run-row status-row-${run.status}`, dataset: { runId: run.runId, status: run.status, testid: 'run-row' } },
        h('td', { class: 'c-status' }, statusBadge(run.status)),
        h('td', { class: 'mono c-run' }, h('a', { href }, run.runId)),
        h('td', { class: 'c-agent' }, run.agent || '',
          run.provider === 'scripted' ? h('span', { class: 'scripted-badge small', title: 'The model replies come from a script' }, '✎ scripted') : null),
        h('td', { class: 'c-caller' }, run.caller || ''),
        h('td', { class: 'c-task', title: run.task || '' }, truncate(run.task, 90)),
        h('td', { class: 'num c-duration', dataset: { started, live: live ? '1' : '' } },
          live ? duration(now - started) : duration(run.durationMs)),
        h('td', { class: 'num c-tokens', title: `${num(run.inputTokens || 0)} in · ${num(run.outputTokens || 0)} out${run.costUsd ? ' · ' + cost(run.costUsd) : ''}` },
          `${tokens(run.inputTokens)} / ${tokens(run.outputTokens)}`),
        h('td', { class: 'num c-llm', title: 'LLM calls' }, num(run.llmCalls || 0)),
        h('td', { class: 'c-tools' }, tools),
        h('td', { class: 'c-started', title: exactTime(started), dataset: { ms: started } }, relativeTime(started, now)));
    }

    tick() {
      const now = Date.now();
      for (const cell of this.el.body.querySelectorAll('td.c-duration[data-live="1"]')) {
        cell.textContent = duration(now - Number(cell.dataset.started));
      }
      for (const cell of this.el.body.querySelectorAll('td.c-started')) {
        cell.textContent = relativeTime(Number(cell.dataset.ms), now);
      }
    }
  }

  Object.assign(window.Glassbox, { RunsView });
}
