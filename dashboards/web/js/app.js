// Entry point: picks the server, loads the first events, keeps the live stream connected,
// routes between the views (#/feed, #/runs, #/new, #/runs/{id}, #/approvals, #/audit), keeps
// the "Acting as" principal and the pending approvals, and handles the keyboard.
'use strict';

{
  const { Api, StreamClient, resolveServer, chooseServer, unreachableMessage } = window.Glassbox;
  const { EventStore } = window.Glassbox;
  const { FeedView } = window.Glassbox;
  const { RunsView } = window.Glassbox;
  const { RunView } = window.Glassbox;
  const { AuditView } = window.Glassbox;
  const { ActingAs, ApprovalsStore, ApprovalsView, NewRunForm } = window.Glassbox;

  const INITIAL_EVENTS = 1000; // loaded over HTTP before the stream takes over

  class App {
    constructor() {
      this.server = resolveServer();
      this.api = this.server.url ? new Api(this.server.url) : null;
      this.store = new EventStore();
      this.stream = null;
      this.actingAs = new ActingAs(document.getElementById('acting-as'));
      this.startedRuns = new Set(); // runs started from this page (their view waits for run.started)
      this.approvals = new ApprovalsStore(this, this.store);
      this.newRun = new NewRunForm(this);
      this.views = {
        feed: new FeedView(this.store, this),
        runs: new RunsView(this.store, this),
        run: new RunView(this.store, this),
        approvals: new ApprovalsView(this),
        audit: new AuditView(this),
      };
      this.current = null;
      this.el = {
        state: document.getElementById('connection-state'),
        stateLabel: document.querySelector('#connection-state .label'),
        banner: document.getElementById('banner'),
        serverButton: document.getElementById('server-button'),
        serverForm: document.getElementById('server-form'),
        serverInput: document.getElementById('server-url'),
        serverOrigin: document.getElementById('server-origin'),
        toast: document.getElementById('toast'),
      };
      this.setupServerForm();
      window.addEventListener('hashchange', () => this.route());
      document.addEventListener('keydown', (e) => this.onKey(e));
      this.route();
      this.boot();
    }

    // Server choice ----------------------------------------------------------------------------

    setupServerForm() {
      const { serverButton, serverForm, serverInput, serverOrigin } = this.el;
      serverButton.textContent = this.server.url ? new URL(this.server.url).host : 'choose server';
      serverButton.title = this.server.url ? `Server: ${this.server.url} (click to change)` : 'Choose the glassbox server';
      serverInput.value = this.server.url || '';
      serverButton.addEventListener('click', () => {
        serverForm.hidden = !serverForm.hidden;
        if (!serverForm.hidden) serverInput.focus();
      });
      serverForm.addEventListener('submit', (e) => {
        e.preventDefault();
        chooseServer(serverInput.value);
      });
      const onHttp = location.protocol === 'http:' || location.protocol === 'https:';
      serverOrigin.hidden = !onHttp;
      serverOrigin.addEventListener('click', () => chooseServer(''));
    }

    // Connection -------------------------------------------------------------------------------

    setState(state, detail = {}) {
      this.el.state.dataset.state = state;
      const labels = { connecting: 'connecting', connected: 'live', reconnecting: 'reconnecting', offline: 'offline' };
      this.el.stateLabel.textContent = labels[state] || state;
      const transport = detail.transport ? ` over ${detail.transport === 'sse' ? 'Server-Sent Events' : 'WebSocket'}` : '';
      this.el.state.title = {
        connecting: `Connecting to ${this.server.url}…`,
        connected: `Connected to ${this.server.url}${transport}: events appear as they are appended.`,
        reconnecting: `Connection lost (${detail.reason || 'closed'}): reconnecting; no event is lost.`,
        offline: detail.message || `Cannot reach ${this.server.url}`,
      }[state] || state;
      if (state === 'offline') this.showBanner(detail.message || unreachableMessage(this.server.url), true);
      else if (state === 'connected') this.hideBanner();
    }

    showBanner(text, withRetry) {
      const banner = this.el.banner;
      banner.hidden = false;
      banner.textContent = '';
      // `code` in messages becomes <code>.
      text.split('`').forEach((part, i) => {
        if (i % 2) { const code = document.createElement('code'); code.textContent = part; banner.append(code); }
        else banner.append(part);
      });
      if (withRetry) {
        const retry = document.createElement('button');
        retry.type = 'button';
        retry.className = 'small';
        retry.textContent = 'Retry now';
        retry.addEventListener('click', () => (this.stream ? this.stream.retryNow() : this.boot()));
        const change = document.createElement('button');
        change.type = 'button';
        change.className = 'small';
        change.textContent = 'Change server';
        change.addEventListener('click', () => { this.el.serverForm.hidden = false; this.el.serverInput.focus(); });
        if (this.api) banner.append(' ', retry);
        banner.append(' ', change);
      }
    }

    hideBanner() {
      this.el.banner.hidden = true;
    }

    /** First load over HTTP (types, counts, the newest events), then the stream from there. */
    async boot(attempt = 0) {
      if (!this.api) {
        this.setState('offline', {
          message: 'Opened from disk: enter the URL of a running `glassbox serve` (started with `--cors-origin null`) in the server field, or add ?server=http://127.0.0.1:PORT to this page\'s address.',
        });
        this.el.serverForm.hidden = false;
        return;
      }
      clearTimeout(this.bootTimer);
      this.setState(attempt ? 'reconnecting' : 'connecting');
      try {
        const [types, stats] = await Promise.all([this.api.get('/api/v1/types'), this.api.get('/api/v1/stats')]);
        this.store.setTypes(types.types || []);
        this.store.setStats(stats);
        this.views.feed.setTypes(types.types || []);
        const after = Math.max(0, (stats.lastSeq || 0) - INITIAL_EVENTS);
        const page = await this.api.get('/api/v1/events', { after, limit: INITIAL_EVENTS });
        this.store.ingest(page.events || []);
        const cursor = Math.max(page.nextAfter || 0, this.store.lastSeq, after);
        this.stream = new StreamClient(this.api, {
          onEvents: (events) => this.store.ingest(events),
          onState: (state, detail) => this.onStreamState(state, detail),
        });
        this.stream.start(cursor);
        this.approvals.load();
        if (this.current) this.current.view.activate(this.current.param);
      } catch (error) {
        const message = error.code === 'unreachable' ? error.message : `${this.server.url} answered: ${error.message}`;
        this.setState('offline', { message });
        const delay = Math.min(10000, 500 * 2 ** attempt);
        this.bootTimer = setTimeout(() => this.boot(attempt + 1), delay);
      }
    }

    onStreamState(state, detail) {
      // A server whose log is behind what we have seen serves another (new) log: start over.
      if (state === 'connected' && detail?.lastSeq !== undefined && detail.lastSeq < this.store.lastSeq) {
        this.showBanner(`The server's log ends at seq ${detail.lastSeq}, before what this page has seen (${this.store.lastSeq}): it is another log. Reloading…`);
        this.stream.stop();
        setTimeout(() => location.reload(), 1500);
        return;
      }
      this.setState(state, detail);
      // Back after being away: views refetch what they derive from the server.
      if (state === 'connected' && this.wasDisconnected) {
        this.views.runs.dirty = true;
        if (this.current?.name === 'runs') this.views.runs.refetch(0);
        if (this.current?.name === 'run') this.views.run.refetch(0);
        this.approvals.refetch(0);
        this.api.get('/api/v1/stats').then((stats) => { this.store.serverLastSeq = stats.lastSeq; }).catch(() => {});
      }
      this.wasDisconnected = state !== 'connected';
    }

    // Routing ----------------------------------------------------------------------------------

    route() {
      const hash = location.hash.replace(/^#\/?/, '');
      const [path] = hash.split('?');
      const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
      let name = 'feed';
      let param;
      if (parts[0] === 'runs' && parts[1]) { name = 'run'; param = parts.slice(1).join('/'); }
      else if (parts[0] === 'runs') name = 'runs';
      else if (parts[0] === 'new') { name = 'runs'; param = 'new'; }
      else if (parts[0] === 'approvals') name = 'approvals';
      else if (parts[0] === 'audit') name = 'audit';
      const view = this.views[name];
      if (this.current && this.current.view !== view) this.current.view.deactivate();
      for (const section of document.querySelectorAll('main > .view')) section.hidden = section.id !== `view-${name}`;
      for (const link of document.querySelectorAll('#nav a')) {
        const active = link.dataset.route === (name === 'run' ? 'runs' : name);
        link.classList.toggle('active', active);
        if (active) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
      }
      this.current = { name, view, param };
      document.body.dataset.view = name;
      if (name !== 'run') document.title = `${{ feed: 'Feed', runs: param === 'new' ? 'New run' : 'Runs', approvals: 'Approvals', audit: 'Audit' }[name]} · Glassbox`;
      if (this.api) view.activate(param);
      document.querySelector('main').scrollTop = 0;
    }

    // Keyboard ---------------------------------------------------------------------------------

    onKey(e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target;
      const typing = target.closest?.('input, textarea, select, [contenteditable="true"]');
      if (e.key === 'Escape' && typing) { target.blur(); return; }
      if (typing) return;
      if (e.key === '/') {
        e.preventDefault();
        if (this.current?.name !== 'feed') location.hash = '#/feed';
        this.views.feed.focusFilter();
      } else if (e.key === ' ' && this.current?.name === 'feed' && !target.closest?.('button, a, summary')) {
        e.preventDefault();
        this.views.feed.togglePause();
      }
    }

    // Small shared UI --------------------------------------------------------------------------

    setNavBadge(route, text) {
      const badge = document.querySelector(`#nav a[data-route="${route}"] .pill`);
      if (!badge) return;
      badge.hidden = !text;
      badge.textContent = text;
    }

    showError(error) {
      this.toast(error.message || String(error), true);
    }

    toast(text, isError) {
      const el = this.el.toast;
      el.textContent = text;
      el.className = `toast${isError ? ' error' : ''}`;
      el.hidden = false;
      clearTimeout(this.toastTimer);
      this.toastTimer = setTimeout(() => { el.hidden = true; }, isError ? 6000 : 2000);
    }

    async copy(text) {
      try {
        await navigator.clipboard.writeText(text);
        this.toast('Copied');
      } catch {
        this.toast('The browser refused the clipboard: select the text instead.', true);
      }
    }
  }

  window.glassbox = new App();
}
