// Human approvals: what waits for a decision (GET /api/v1/approvals, kept current by the live
// approval.* events), the card with Approve / Reject that the run view and the Approvals view
// share, and the Approvals view itself (#/approvals). Decisions are POSTed as the "Acting as"
// principal; the server's refusal (403 not an approver, 409 already decided) is shown as it is.
'use strict';

{
  const { h, toMillis, relativeTime, exactTime, clockTime, prettyJSON, jsonBlock, truncate } = window.Glassbox;

  const DECISION = {
    granted: { icon: '✓', label: 'approved', cls: 'dec-ok' },
    rejected: { icon: '✕', label: 'rejected', cls: 'dec-bad' },
    pending: { icon: '◷', label: 'waiting for approval', cls: 'dec-waiting' },
    closed: { icon: '⊘', label: 'closed without a decision', cls: 'dec-moot' },
  };

  const CALL_END = new Set(['tool.denied', 'tool.completed', 'tool.failed']);
  const RUN_END = new Set(['run.completed', 'run.failed', 'run.cancelled']);

  /** Approvals by id, from the API and then from live events (a decision is final: it never goes back to pending). */
  class ApprovalsStore {
    constructor(app, store) {
      this.app = app;
      this.items = new Map();
      this.listeners = new Set();
      this.error = null;
      this.loaded = false;
      this.timer = null;
      store.subscribe((events) => this.onEvents(events));
    }

    subscribe(listener) {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }

    notify() {
      for (const listener of this.listeners) listener();
    }

    async load() {
      if (!this.app.api) return;
      try {
        const result = await this.app.api.get('/api/v1/approvals');
        for (const a of result.approvals || []) this.merge(a);
        this.error = null;
        this.loaded = true;
      } catch (error) {
        this.error = error.status === 404
          ? 'This server has no approvals API (GET /api/v1/approvals answered 404): update glassbox.'
          : error.message;
      }
      this.notify();
    }

    /** Refetch a little later (a burst of events causes one request). */
    refetch(delay = 500) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(), delay);
    }

    merge(a) {
      const old = this.items.get(a.approvalId);
      if (old && old.status !== 'pending' && a.status === 'pending') {
        this.items.set(a.approvalId, { ...a, ...pickDecision(old) });
      } else {
        this.items.set(a.approvalId, { ...old, ...a });
      }
    }

    onEvents(events) {
      let changed = false;
      for (const e of events) {
        const d = e.data || {};
        if (CALL_END.has(e.type) || RUN_END.has(e.type)) {
          // The call or its run ended: an approval nobody gave is closed (the server says so too).
          for (const a of this.items.values()) {
            if (a.status !== 'pending') continue;
            if ((CALL_END.has(e.type) && a.callId === d.callId) || (RUN_END.has(e.type) && e.stream === `run/${a.runId}`)) {
              a.status = 'closed';
              a.decidedSeq = e.seq;
              changed = true;
            }
          }
          continue;
        }
        if (!d.approvalId) continue;
        if (e.type === 'approval.requested') {
          this.merge({
            approvalId: d.approvalId, callId: d.callId, tool: d.tool, runId: d.runId, reason: d.reason,
            approver: d.approver, input: d.input, requestedAt: e.timeUnixNano, requestedSeq: e.seq,
            status: 'pending', decidedBy: null, comment: '',
          });
          changed = true;
        } else if (e.type === 'approval.granted' || e.type === 'approval.rejected') {
          this.decided(d.approvalId, e.type === 'approval.granted' ? 'granted' : 'rejected', d.decidedBy, d.comment, e.seq, false);
          changed = true;
        }
      }
      if (changed) this.notify();
    }

    /** A decision (ours, or one from the log). */
    decided(id, status, decidedBy, comment, seq, notify = true) {
      const old = this.items.get(id) || { approvalId: id };
      this.items.set(id, { ...old, status, decidedBy: decidedBy || old.decidedBy || null, comment: comment || '', decidedSeq: seq });
      if (notify) this.notify();
    }

    pending() {
      return [...this.items.values()].filter((a) => a.status === 'pending')
        .sort((a, b) => (b.requestedSeq || 0) - (a.requestedSeq || 0));
    }

    decidedList(max = 100) {
      return [...this.items.values()].filter((a) => a.status !== 'pending')
        .sort((a, b) => (b.decidedSeq || b.requestedSeq || 0) - (a.decidedSeq || a.requestedSeq || 0)).slice(0, max);
    }
  }

  function pickDecision(a) {
    return { status: a.status, decidedBy: a.decidedBy, comment: a.comment, decidedSeq: a.decidedSeq };
  }

  /**
   * The card of one approval. Pending: tool, input (JSON), reason, approver, a comment and the
   * Approve / Reject buttons; decided: one line saying who decided. `showRun` links the run.
   */
  function approvalCard(approval, app, { showRun = true } = {}) {
    const a = approval;
    const requested = toMillis(a.requestedAt);
    const card = h('div', {
      class: 'approval-card', role: 'group', 'aria-label': `Approval of ${a.tool || 'a tool call'}`,
      dataset: { approvalId: a.approvalId, status: a.status || 'pending', testid: 'approval-card' },
    });
    card.append(h('div', { class: 'ap-head' },
      h('span', { class: 'ap-icon', 'aria-hidden': 'true' }, '◷'),
      h('strong', {}, 'Approval needed'),
      h('span', { class: 'mono ap-tool' }, a.tool || '?'),
      a.approver ? h('span', { class: 'muted' }, 'from ', h('span', { class: 'mono' }, a.approver)) : null,
      showRun && a.runId ? h('span', { class: 'muted' }, 'run ', h('a', { class: 'mono', href: `#/runs/${encodeURIComponent(a.runId)}` }, truncate(a.runId, 14))) : null,
      // In the Approvals view the age ticks; inside a run the clock time matches the transcript's.
      Number.isFinite(requested) ? h('span', { class: 'muted ap-time', title: exactTime(requested), dataset: showRun ? { relMs: requested } : {} },
        showRun ? relativeTime(requested) : clockTime(requested)) : null));
    if (a.reason) card.append(h('p', { class: 'ap-reason' }, a.reason));
    if (a.input !== undefined && a.input !== null) {
      card.append(h('div', { class: 'detail-title' }, 'Input'), jsonBlock(prettyJSON(a.input), 'json ap-input'));
    }
    const body = h('div', { class: 'ap-body' });
    card.append(body);
    if (a.status && a.status !== 'pending') showDecision(card, a);
    else body.append(...decisionForm(card, a, app));
    return card;
  }

  function decisionForm(card, a, app) {
    const comment = h('input', {
      type: 'text', class: 'ap-comment', placeholder: 'Comment (optional)', 'aria-label': 'Comment', spellcheck: 'true',
      dataset: { testid: 'approval-comment' },
    });
    const error = h('p', { class: 'notice error ap-error', role: 'alert', dataset: { testid: 'approval-error' }, hidden: true });
    const approve = h('button', { type: 'button', class: 'approve', dataset: { testid: 'approve-button' } }, '✓ Approve');
    const reject = h('button', { type: 'button', class: 'reject', dataset: { testid: 'reject-button' } }, '✕ Reject');
    const decide = async (verb) => {
      const as = app.actingAs.get();
      approve.disabled = reject.disabled = true;
      error.hidden = true;
      try {
        const result = await app.api.post(`/api/v1/approvals/${encodeURIComponent(a.approvalId)}/${verb}`,
          { as, comment: comment.value.trim() });
        const status = result.status || (verb === 'approve' ? 'granted' : 'rejected');
        showDecision(card, { status, decidedBy: as, comment: comment.value.trim(), seq: result.seq });
        app.approvals?.decided(a.approvalId, status, as, comment.value.trim(), result.seq);
      } catch (e) {
        approve.disabled = reject.disabled = false;
        error.hidden = false;
        error.textContent = e.message + (e.code && !e.message.includes(e.code) ? ` (${e.code})` : '');
        card.dataset.error = e.code || String(e.status);
        if (e.status === 409) app.approvals?.refetch(0); // someone else decided first
      }
    };
    approve.addEventListener('click', () => decide('approve'));
    reject.addEventListener('click', () => decide('reject'));
    comment.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); decide('approve'); } });
    return [h('div', { class: 'ap-actions' }, comment, approve, reject,
      h('span', { class: 'muted small-text' }, 'as ', app.actingAs.nameElement())), error];
  }

  /** Turns a card into its decided state: the buttons go, one line says who decided. */
  function showDecision(card, { status, decidedBy, comment, seq }) {
    const s = DECISION[status] || DECISION.pending;
    card.dataset.status = status;
    card.classList.add('decided');
    const body = card.querySelector('.ap-body');
    body.replaceChildren(h('p', { class: `ap-decision ${s.cls}`, dataset: { testid: 'approval-decision' } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, s.icon), ` ${s.label}`,
      decidedBy ? [' by ', h('span', { class: 'mono' }, decidedBy)] : null,
      comment ? `: “${comment}”` : null,
      seq ? h('span', { class: 'muted' }, ` · seq ${seq}`) : null));
    const icon = card.querySelector('.ap-icon');
    if (icon) icon.textContent = s.icon;
    const title = card.querySelector('.ap-head strong');
    if (title) title.textContent = status === 'granted' ? 'Approved' : status === 'rejected' ? 'Rejected' : 'Approval needed';
  }

  /** #/approvals: cards of the pending approvals (newest first), then what was decided. */
  class ApprovalsView {
    constructor(app) {
      this.app = app;
      this.active = false;
      this.cards = new Map(); // approvalId → card of a pending approval
      this.el = {
        pending: document.getElementById('approvals-pending'),
        empty: document.getElementById('approvals-empty'),
        error: document.getElementById('approvals-error'),
        info: document.getElementById('approvals-info'),
        decided: document.querySelector('#approvals-decided tbody'),
        decidedWrap: document.getElementById('approvals-decided-wrap'),
      };
      app.approvals.subscribe(() => {
        this.updateBadge();
        if (this.active) this.render();
      });
      setInterval(() => {
        if (!this.active) return;
        const now = Date.now();
        for (const el of document.querySelectorAll('#view-approvals [data-rel-ms]')) el.textContent = relativeTime(Number(el.dataset.relMs), now);
      }, 5000);
    }

    activate() {
      this.active = true;
      document.title = 'Approvals · Glassbox';
      this.render();
      this.app.approvals.load();
    }

    deactivate() {
      this.active = false;
    }

    updateBadge() {
      const n = this.app.approvals.pending().length;
      this.app.setNavBadge('approvals', n ? String(n) : '');
    }

    render() {
      const store = this.app.approvals;
      const pending = store.pending();
      this.el.error.hidden = !store.error;
      this.el.error.textContent = store.error || '';
      // Keep the cards that are still pending (a comment being typed survives); add new ones in order.
      const keep = new Set(pending.map((a) => a.approvalId));
      for (const [id, card] of this.cards) if (!keep.has(id)) { card.remove(); this.cards.delete(id); }
      let previous = null;
      for (const a of pending) {
        let card = this.cards.get(a.approvalId);
        if (!card) { card = approvalCard(a, this.app); this.cards.set(a.approvalId, card); }
        if (previous ? previous.nextElementSibling !== card : this.el.pending.firstElementChild !== card) {
          if (previous) previous.after(card); else this.el.pending.prepend(card);
        }
        previous = card;
      }
      this.el.empty.hidden = pending.length > 0 || !!store.error;
      this.el.info.textContent = `${pending.length} waiting${store.loaded ? '' : ' · loading…'}`;
      const decided = store.decidedList();
      this.el.decidedWrap.hidden = decided.length === 0;
      this.el.decided.replaceChildren(...decided.map((a) => {
        const s = DECISION[a.status] || DECISION.pending;
        return h('tr', { dataset: { approvalId: a.approvalId, status: a.status } },
          h('td', {}, h('span', { class: `ap-decision ${s.cls}` }, h('span', { class: 'icon', 'aria-hidden': 'true' }, s.icon), ` ${s.label}`)),
          h('td', { class: 'mono' }, a.tool || ''),
          h('td', { class: 'mono' }, a.runId ? h('a', { href: `#/runs/${encodeURIComponent(a.runId)}` }, truncate(a.runId, 14)) : ''),
          h('td', { class: 'mono' }, a.decidedBy || ''),
          h('td', { class: 'c-reason', title: a.comment || '' }, truncate(a.comment, 80)),
          h('td', { class: 'c-reason muted', title: a.reason || '' }, truncate(a.reason, 100)));
      }));
    }
  }

  Object.assign(window.Glassbox, { ApprovalsStore, ApprovalsView, approvalCard, showDecision });
}
