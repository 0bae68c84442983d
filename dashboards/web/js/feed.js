// The live feed: newest events first, filters, pause/resume, counts per type.
// Only the rows in view are in the DOM (a virtual list), so 10,000 events stay smooth.
'use strict';

{
  const {
    h, eventMillis, relativeTime, exactTime, typeBadge, summary, category, severity, num, matcher,
    eventJSON, jsonBlock, typeIcon,
  } = window.Glassbox;

  const OVERSCAN = 8; // rows rendered above and below the viewport
  const EXPANDED_GUESS = 320; // px, until an expanded row has been measured

  class FeedView {
    constructor(store, app) {
      this.store = store;
      this.app = app;
      this.active = false;
      this.paused = false;
      this.waiting = []; // events that arrived while paused
      this.matches = []; // matching events, oldest first; displayed newest first
      this.expanded = new Set(); // seqs of expanded rows
      this.heights = new Map(); // seq → measured height of an expanded row
      this.rendered = new Map(); // seq → row element
      this.rowHeight = 0;
      this.newAbove = 0;
      this.textCache = new WeakMap();
      this.renderQueued = false;
      this.countsDirty = true;
      this.lastCountsRender = 0;

      this.el = {
        type: document.getElementById('filter-type'),
        stream: document.getElementById('filter-stream'),
        actor: document.getElementById('filter-actor'),
        text: document.getElementById('filter-text'),
        pause: document.getElementById('pause-button'),
        waiting: document.getElementById('feed-waiting'),
        status: document.getElementById('feed-status'),
        counts: document.getElementById('type-counts'),
        scroller: document.getElementById('feed'),
        canvas: document.querySelector('#feed .feed-canvas'),
        empty: document.getElementById('feed-empty'),
        older: document.getElementById('load-older'),
        newAbove: document.getElementById('feed-new-above'),
        clear: document.getElementById('filter-clear'),
      };
      this.filter = this.readFilter();

      let filterTimer = null;
      const onFilter = () => {
        clearTimeout(filterTimer);
        filterTimer = setTimeout(() => this.applyFilter(), 120);
      };
      for (const input of [this.el.stream, this.el.actor, this.el.text]) input.addEventListener('input', onFilter);
      this.el.type.addEventListener('change', () => this.applyFilter());
      this.el.clear.addEventListener('click', () => this.clearFilters());
      this.el.pause.addEventListener('click', () => this.togglePause());
      this.el.waiting.addEventListener('click', () => this.togglePause());
      this.el.scroller.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
      this.el.canvas.addEventListener('click', (e) => this.onRowClick(e));
      this.el.canvas.addEventListener('keydown', (e) => {
        if ((e.key === 'Enter') && e.target.classList.contains('feed-row')) {
          e.preventDefault();
          this.toggleRow(Number(e.target.dataset.seq));
        }
      });
      this.el.older.addEventListener('click', () => this.loadOlder());
      this.el.newAbove.addEventListener('click', () => { this.el.scroller.scrollTop = 0; });
      window.addEventListener('resize', () => { this.rowHeight = 0; this.heights.clear(); this.scheduleRender(); });

      store.subscribe((events) => this.onEvents(events));
      setInterval(() => { if (this.active) this.refreshTimes(); }, 1000);
    }

    activate() {
      this.active = true;
      this.countsDirty = true;
      this.renderNow();
    }

    deactivate() {
      this.active = false;
    }

    // Filters ----------------------------------------------------------------------------------

    readFilter() {
      return {
        type: matcher(this.el.type.value),
        typeExact: this.el.type.value && !this.el.type.value.includes('*') ? this.el.type.value : null,
        stream: matcher(this.el.stream.value),
        actor: matcher(this.el.actor.value),
        text: this.el.text.value.trim().toLowerCase(),
      };
    }

    get filtering() {
      const f = this.filter;
      return Boolean(f.type || f.stream || f.actor || f.text);
    }

    matchesFilter(event) {
      const f = this.filter;
      if (f.typeExact ? event.type !== f.typeExact : f.type && !f.type(event.type)) return false;
      if (f.stream && !f.stream(event.stream)) return false;
      if (f.actor && !f.actor(event.actor)) return false;
      if (f.text) {
        let text = this.textCache.get(event);
        if (text === undefined) {
          text = JSON.stringify(event).toLowerCase();
          this.textCache.set(event, text);
        }
        if (!text.includes(f.text)) return false;
      }
      return true;
    }

    applyFilter() {
      this.filter = this.readFilter();
      const limit = this.paused ? this.pausedAt : Infinity;
      this.matches = this.store.events.filter((e) => e.seq <= limit && this.matchesFilter(e));
      this.el.scroller.scrollTop = 0;
      this.newAbove = 0;
      this.el.clear.hidden = !this.filtering;
      this.countsDirty = true;
      this.renderNow();
    }

    clearFilters() {
      this.el.type.value = '';
      this.el.stream.value = '';
      this.el.actor.value = '';
      this.el.text.value = '';
      this.applyFilter();
    }

    /** Sets the type filter (from a count chip); the same type again clears it. */
    filterByType(type) {
      this.ensureTypeOption(type);
      this.el.type.value = this.el.type.value === type ? '' : type;
      this.applyFilter();
    }

    focusFilter() {
      this.el.text.focus();
      this.el.text.select();
    }

    // Type select and counts -------------------------------------------------------------------

    /** Fills the type select from /api/v1/types, with family wildcards (tool.*) first. */
    setTypes(types) {
      const select = this.el.type;
      const current = select.value;
      select.textContent = '';
      select.append(h('option', { value: '' }, 'All types'));
      const families = [...new Set(types.map((t) => t.type.split('.')[0]))];
      const groupFamilies = h('optgroup', { label: 'Families' });
      for (const f of families) groupFamilies.append(h('option', { value: `${f}.*` }, `${f}.*`));
      const groupTypes = h('optgroup', { label: 'Types' });
      for (const t of types) groupTypes.append(h('option', { value: t.type, dataset: { type: t.type } }, t.type));
      select.append(groupFamilies, groupTypes);
      this.typeGroup = groupTypes;
      select.value = current;
      this.countsDirty = true;
      this.updateCounts(true);
    }

    ensureTypeOption(type) {
      if (!this.typeGroup) return;
      if ([...this.el.type.options].some((o) => o.value === type)) return;
      this.typeGroup.append(h('option', { value: type, dataset: { type } }, type));
    }

    updateCounts(force) {
      if (!this.countsDirty) return;
      const now = performance.now();
      if (!force && now - this.lastCountsRender < 500) {
        this.scheduleRender(500);
        return;
      }
      this.lastCountsRender = now;
      this.countsDirty = false;
      const counts = this.store.counts;
      let total = 0;
      for (const n of counts.values()) total += n;
      for (const option of this.el.type.options) {
        if (option.value === '') option.textContent = `All types (${num(total)})`;
        else if (option.dataset.type) option.textContent = `${option.value} (${num(counts.get(option.value) || 0)})`;
      }
      const selected = this.el.type.value;
      const chips = [...counts.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const box = this.el.counts;
      box.textContent = '';
      for (const [type, n] of chips) {
        this.ensureTypeOption(type);
        box.append(h('button', {
          type: 'button',
          class: `count-chip cat-${category(type)}${severity({ type }) ? ' sev-' + severity({ type }) : ''}${selected === type ? ' selected' : ''}`,
          dataset: { type, count: n, testid: 'type-count' },
          title: `${type}: ${num(n)} events in the log. Click to filter.`,
          onclick: () => this.filterByType(type),
        }, h('span', { class: 'icon', 'aria-hidden': 'true' }, typeIcon(type)), h('span', { class: 'name' }, type), h('span', { class: 'n' }, num(n))));
      }
      if (!chips.length) box.append(h('span', { class: 'muted' }, 'No events in the log yet.'));
    }

    // Live events ------------------------------------------------------------------------------

    onEvents(events) {
      this.countsDirty = true;
      if (this.paused) {
        this.waiting.push(...events);
      } else {
        this.addMatching(events);
      }
      // The store keeps the newest MAX_EVENTS: forget rows it dropped.
      const oldest = this.store.oldestSeq;
      if (this.matches.length && this.matches[0].seq < oldest) {
        let cut = 0;
        while (cut < this.matches.length && this.matches[cut].seq < oldest) cut++;
        this.matches.splice(0, cut);
      }
      this.scheduleRender();
    }

    addMatching(events) {
      let added = 0;
      for (const event of events) {
        if (this.matchesFilter(event)) {
          this.matches.push(event);
          added++;
        }
      }
      if (added && this.el.scroller.scrollTop > 2) {
        // Reading older rows: keep them where they are instead of pushing them down.
        this.pendingShift = (this.pendingShift || 0) + added;
        this.newAbove += added;
      }
    }

    togglePause() {
      this.paused = !this.paused;
      if (this.paused) {
        this.pausedAt = this.store.lastSeq;
      } else {
        const waiting = this.waiting;
        this.waiting = [];
        this.addMatching(waiting.filter((e) => e.seq >= this.store.oldestSeq));
      }
      this.el.pause.setAttribute('aria-pressed', String(this.paused));
      this.el.pause.classList.toggle('paused', this.paused);
      this.el.pause.querySelector('.label').textContent = this.paused ? 'Resume' : 'Pause';
      this.el.pause.querySelector('.icon').textContent = this.paused ? '▶' : '❚❚';
      this.renderNow();
    }

    async loadOlder() {
      const oldest = this.store.oldestSeq;
      if (oldest <= 1) return;
      const room = this.store.max - this.store.events.length;
      if (room <= 0) {
        this.el.status.textContent = `Holding the newest ${num(this.store.max)} events: use the Audit console for older ones.`;
        return;
      }
      const limit = Math.min(1000, room, oldest - 1);
      this.el.older.disabled = true;
      try {
        const page = await this.app.api.get('/api/v1/events', { after: oldest - 1 - limit, limit });
        this.store.prependOlder(page.events);
        this.applyFilter();
      } catch (error) {
        this.app.showError(error);
      } finally {
        this.el.older.disabled = false;
      }
    }

    // Rows -------------------------------------------------------------------------------------

    onRowClick(e) {
      if (e.target.closest('a, button, pre')) return;
      if (String(window.getSelection?.() || '').length > 0) return; // selecting text, not clicking
      const row = e.target.closest('.feed-row');
      if (row) this.toggleRow(Number(row.dataset.seq));
    }

    toggleRow(seq) {
      if (this.expanded.has(seq)) {
        this.expanded.delete(seq);
        this.heights.delete(seq);
      } else {
        this.expanded.add(seq);
      }
      const old = this.rendered.get(seq);
      if (old) { old.remove(); this.rendered.delete(seq); }
      this.renderNow();
      this.rendered.get(seq)?.focus({ preventScroll: true });
    }

    buildRow(event) {
      const ms = eventMillis(event);
      const expanded = this.expanded.has(event.seq);
      const sev = severity(event);
      const runId = event.stream?.startsWith('run/') ? event.stream.slice(4) : null;
      const streamCell = runId
        ? h('a', { class: 'c-stream', href: `#/runs/${encodeURIComponent(runId)}`, title: `Open run ${runId}` }, event.stream)
        : h('span', { class: 'c-stream', title: event.stream }, event.stream);
      const row = h('div', {
        class: `feed-row cat-${category(event.type)}${sev ? ' sev-' + sev : ''}${expanded ? ' expanded' : ''}`,
        role: 'listitem',
        tabindex: '0',
        'aria-expanded': String(expanded),
        dataset: { seq: event.seq, type: event.type, testid: 'feed-row' },
      },
      h('div', { class: 'row-line' },
        h('span', { class: 'c-seq' }, event.seq),
        h('span', { class: 'c-time', title: exactTime(ms, event.time), dataset: { ms } }, relativeTime(ms)),
        h('span', { class: 'c-type' }, typeBadge(event.type, event)),
        streamCell,
        h('span', { class: 'c-actor', title: event.actor }, event.actor),
        h('span', { class: 'c-summary', title: summary(event) }, summary(event))));
      if (expanded) {
        row.append(h('div', { class: 'row-detail' },
          h('div', { class: 'detail-actions' },
            runId ? h('a', { href: `#/runs/${encodeURIComponent(runId)}` }, `Open run ${runId} →`) : null,
            h('button', { type: 'button', class: 'small', onclick: () => this.app.copy(eventJSON(event)) }, 'Copy JSON'),
            h('button', { type: 'button', class: 'small', onclick: () => this.toggleRow(event.seq) }, 'Collapse')),
          jsonBlock(eventJSON(event))));
      }
      return row;
    }

    measureRowHeight() {
      const probe = this.buildRow({ seq: 0, type: 'run.started', stream: 'run/x', actor: 'x', time: '', data: {} });
      probe.style.visibility = 'hidden';
      this.el.canvas.append(probe);
      this.rowHeight = probe.offsetHeight || 28;
      probe.remove();
    }

    scheduleRender(delay) {
      if (!this.active || this.renderQueued) return;
      this.renderQueued = true;
      const run = () => {
        if (!this.renderQueued) return;
        this.renderQueued = false;
        this.renderNow();
      };
      if (delay) { setTimeout(run, delay); return; }
      // requestAnimationFrame stops in background tabs; the timeout keeps rendering going there.
      requestAnimationFrame(run);
      setTimeout(run, 100);
    }

    renderNow() {
      this.renderQueued = false;
      if (!this.active) return;
      this.updateCounts(false);
      if (!this.rowHeight) this.measureRowHeight();
      const rowH = this.rowHeight;
      const scroller = this.el.scroller;
      const n = this.matches.length;

      if (this.pendingShift) {
        scroller.scrollTop += this.pendingShift * rowH;
        this.pendingShift = 0;
      }
      if (scroller.scrollTop <= 2) this.newAbove = 0;

      const top = scroller.scrollTop;
      const viewport = scroller.clientHeight || 600;
      const tops = new Map(); // display index → y
      let first = 0;
      let last = -1;
      let total;
      if (this.expanded.size === 0) {
        total = n * rowH;
        first = Math.max(0, Math.floor(top / rowH) - OVERSCAN);
        last = Math.min(n - 1, Math.ceil((top + viewport) / rowH) + OVERSCAN);
        for (let i = first; i <= last; i++) tops.set(i, i * rowH);
      } else {
        let y = 0;
        first = -1;
        const low = top - OVERSCAN * rowH;
        const high = top + viewport + OVERSCAN * rowH;
        for (let i = 0; i < n; i++) {
          const seq = this.matches[n - 1 - i].seq;
          const rh = this.expanded.has(seq) ? (this.heights.get(seq) || EXPANDED_GUESS) : rowH;
          if (y + rh >= low && y <= high) {
            if (first < 0) first = i;
            last = i;
            tops.set(i, y);
          }
          y += rh;
        }
        total = y;
        if (first < 0) first = 0;
      }
      this.el.canvas.style.height = `${total}px`;

      const needed = new Set();
      for (const [i, y] of tops) {
        const event = this.matches[n - 1 - i];
        needed.add(event.seq);
        let row = this.rendered.get(event.seq);
        if (!row) {
          row = this.buildRow(event);
          this.rendered.set(event.seq, row);
          this.el.canvas.append(row);
        }
        row.style.transform = `translateY(${y}px)`;
      }
      for (const [seq, row] of this.rendered) {
        if (!needed.has(seq)) {
          if (row.contains(document.activeElement) && this.expanded.has(seq)) continue;
          row.remove();
          this.rendered.delete(seq);
        }
      }

      // Measure expanded rows; render again if a guess was wrong.
      let remeasure = false;
      for (const seq of this.expanded) {
        const row = this.rendered.get(seq);
        if (!row || !needed.has(seq)) continue;
        const height = row.offsetHeight;
        if (height && this.heights.get(seq) !== height) {
          this.heights.set(seq, height);
          remeasure = true;
        }
      }
      if (remeasure) this.scheduleRender();

      this.renderChrome();
    }

    renderChrome() {
      const n = this.matches.length;
      const held = this.store.events.length;
      this.el.empty.hidden = n > 0;
      if (n === 0) {
        this.el.empty.textContent = held === 0
          ? 'Waiting for events… Agents append to the log; they appear here as they happen.'
          : `No event among the newest ${num(held)} matches these filters.`;
      }
      this.el.status.textContent = this.filtering
        ? `${num(n)} of ${num(held)} events match`
        : `${num(held)} events · last seq ${this.store.lastSeq}`;
      this.el.waiting.hidden = !this.paused;
      this.el.waiting.textContent = this.paused ? `${num(this.waiting.length)} waiting` : '';
      this.app.setNavBadge('feed', this.paused && this.waiting.length ? num(this.waiting.length) : '');
      this.el.newAbove.hidden = this.newAbove === 0;
      this.el.newAbove.textContent = `↑ ${num(this.newAbove)} new`;
      const oldest = this.store.oldestSeq;
      this.el.older.hidden = !(oldest > 1 && this.store.events.length < this.store.max && this.store.events.length > 0);
    }

    refreshTimes() {
      const now = Date.now();
      for (const row of this.rendered.values()) {
        const cell = row.querySelector('.c-time');
        if (cell) cell.textContent = relativeTime(Number(cell.dataset.ms), now);
      }
    }
  }

  Object.assign(window.Glassbox, { FeedView });
}
