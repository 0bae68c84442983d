// The "New run" form (#/new, on the runs view): pick an agent (GET /api/v1/agents), ask a
// question, Start → POST /api/v1/runs as the "Acting as" principal, then open the run.
// When no model is configured the server's explanation is shown beside the form.
'use strict';

{
  const { h, fill } = window.Glassbox;

  const AGENT_KEY = 'glassbox.newRunAgent';

  class NewRunForm {
    constructor(app) {
      this.app = app;
      this.agents = [];
      this.llm = null;
      this.loading = null;
      this.el = {
        panel: document.getElementById('new-run'),
        form: document.getElementById('new-run-form'),
        agent: document.getElementById('new-run-agent'),
        description: document.getElementById('new-run-agent-description'),
        input: document.getElementById('new-run-input'),
        start: document.getElementById('new-run-start'),
        close: document.getElementById('new-run-close'),
        error: document.getElementById('new-run-error'),
        llm: document.getElementById('new-run-llm'),
        as: document.getElementById('new-run-as'),
      };
      this.el.as.replaceChildren(app.actingAs.nameElement());
      this.el.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
      this.el.input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.submit(); }
      });
      this.el.agent.addEventListener('change', () => {
        try { window.localStorage.setItem(AGENT_KEY, this.el.agent.value); } catch { /* not remembered */ }
        this.describe();
      });
      this.el.close.addEventListener('click', () => {
        this.close();
        if (location.hash === '#/new') location.hash = '#/runs';
      });
    }

    open() {
      this.el.panel.hidden = false;
      if (!this.agents.length) this.load();
      this.el.input.focus();
    }

    close() {
      this.el.panel.hidden = true;
    }

    get isOpen() {
      return !this.el.panel.hidden;
    }

    async load() {
      if (!this.app.api) return;
      if (this.loading) return this.loading;
      this.loading = (async () => {
        try {
          const result = await this.app.api.get('/api/v1/agents');
          this.agents = result.agents || [];
          this.llm = result.llm || null;
          this.fill();
        } catch (error) {
          this.showError(error.status === 404
            ? 'This server cannot start runs (GET /api/v1/agents answered 404): update glassbox.'
            : `Could not list the agents: ${error.message}`);
        } finally {
          this.loading = null;
        }
      })();
      return this.loading;
    }

    fill() {
      let remembered = null;
      try { remembered = window.localStorage.getItem(AGENT_KEY); } catch { /* none */ }
      const current = this.el.agent.value || remembered;
      this.el.agent.replaceChildren(...this.agents.map((a) => h('option', { value: a.name, title: a.description || '' }, a.name)));
      if (this.agents.some((a) => a.name === current)) this.el.agent.value = current;
      this.el.agent.disabled = this.agents.length === 0;
      this.el.start.disabled = this.agents.length === 0;
      if (!this.agents.length) this.showError('The server has no agents configured (agents: in its configuration).');
      this.describe();
      this.showModel();
    }

    describe() {
      const agent = this.agents.find((a) => a.name === this.el.agent.value);
      if (!agent) { this.el.description.textContent = ''; return; }
      fill(this.el.description,
        agent.description ? h('span', {}, agent.description) : h('span', { class: 'muted' }, 'No description.'),
        agent.tools?.length ? h('span', { class: 'muted' }, ' · tools ', h('span', { class: 'mono' }, agent.tools.join(', '))) : null,
        agent.model ? h('span', { class: 'muted' }, ' · model ', h('span', { class: 'mono' },
          agent.provider && agent.provider !== agent.model ? `${agent.provider} ${agent.model}` : agent.model)) : null);
    }

    showModel() {
      const llm = this.llm;
      const box = this.el.llm;
      if (!llm) { box.hidden = true; return; }
      box.hidden = false;
      if (llm.configured === false) {
        box.className = 'notice error new-run-llm';
        box.dataset.state = 'unconfigured';
        box.replaceChildren(h('strong', {}, '✕ No model: '), llm.problem || 'no model is configured.',
          h('span', { class: 'muted' }, ' A run started now fails at once.'));
      } else if (llm.scripted) {
        box.className = 'notice new-run-llm';
        box.dataset.state = 'scripted';
        box.replaceChildren(h('span', { class: 'scripted-badge' }, '✎ scripted'),
          ' Replies come from a script, not from a model: runs are labelled scripted.');
      } else {
        box.className = 'notice new-run-llm';
        box.dataset.state = 'configured';
        box.replaceChildren('Model ', h('span', { class: 'mono' }, [llm.provider, llm.model].filter(Boolean).join(' · ')));
      }
    }

    showError(text) {
      this.el.error.hidden = !text;
      this.el.error.textContent = text || '';
    }

    async submit() {
      const agent = this.el.agent.value;
      const input = this.el.input.value.trim();
      if (!agent) { this.showError('Choose an agent.'); return; }
      if (!input) { this.showError('Ask the agent something.'); this.el.input.focus(); return; }
      this.showError('');
      this.el.start.disabled = true;
      this.el.start.textContent = 'Starting…';
      try {
        const result = await this.app.api.post('/api/v1/runs', { agent, input, caller: this.app.actingAs.get() });
        this.el.input.value = '';
        this.close();
        this.app.startedRuns.add(result.runId);
        location.hash = `#/runs/${encodeURIComponent(result.runId)}`;
      } catch (error) {
        this.showError(error.message + (error.code && error.status !== 0 ? ` (${error.code})` : ''));
      } finally {
        this.el.start.disabled = this.agents.length === 0;
        this.el.start.textContent = '▶ Start';
      }
    }
  }

  Object.assign(window.Glassbox, { NewRunForm });
}
