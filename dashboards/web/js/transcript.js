// An agent run as it reads: the task, each model call (tokens, latency, cost, finish reason; the
// answer text and the tool calls it asked for, collapsible), the agent's thoughts as paragraphs
// that grow while the model streams, each tool call with its status, permission decision,
// guardrail block, approval and result, and how the run ended. Built incrementally: events are
// appended in seq order and each one touches only its own entry.
'use strict';

{
  const {
    h, fill, eventMillis, exactTime, clockTime, duration, num, cost, bytes, truncate, compactJSON, prettyJSON, jsonBlock,
    approvalCard, showDecision,
  } = window.Glassbox;

  // Tool call statuses: colour (CSS ts-*) AND icon AND word.
  const TOOL_STATUS = {
    requested: { icon: '○', label: 'requested' },
    authorized: { icon: '◎', label: 'authorized' },
    waiting: { icon: '◷', label: 'waiting for approval' },
    denied: { icon: '⊘', label: 'denied' },
    running: { icon: '◑', label: 'running' },
    completed: { icon: '✓', label: 'completed' },
    failed: { icon: '✕', label: 'failed' },
    unfinished: { icon: '◌', label: 'never finished' },
  };

  const LLM_STATUS = {
    waiting: { icon: '◇', label: 'answering…' },
    done: { icon: '◆', label: 'answered' },
    error: { icon: '✕', label: 'failed' },
    unfinished: { icon: '◇', label: 'never answered' },
    cancelled: { icon: '⊘', label: 'cancelled' },
  };

  function toolStatusBadge(status) {
    const s = TOOL_STATUS[status] || { icon: '?', label: status };
    return h('span', { class: `tool-status ts-${status}`, dataset: { status } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, s.icon), s.label);
  }

  function llmMeta(d) {
    return [d.step ? `step ${d.step}` : null, d.model, d.attempt > 1 ? `attempt ${d.attempt}` : null,
      d.messageCount ? `${num(d.messageCount)} messages` : null].filter(Boolean).join(' · ');
  }

  /** A <details> whose body (JSON) is built the first time it is opened. */
  function lazyJSON(label, value, { open = false, preview = true } = {}) {
    const details = h('details', { class: 'tx-json' },
      h('summary', {}, h('span', { class: 'tx-json-label' }, label),
        preview ? h('code', { class: 'tx-json-preview' }, compactJSON(value, 220)) : null));
    const build = () => { if (details.open && !details.querySelector('pre')) details.append(jsonBlock(prettyJSON(value))); };
    details.addEventListener('toggle', build);
    if (open) { details.open = true; build(); }
    return details;
  }

  class Transcript {
    /** `app` gives the API and the acting principal to the approval cards. */
    constructor(box, app) {
      this.box = box;
      this.app = app;
      this.reset();
    }

    reset() {
      this.box.textContent = '';
      this.lastSeq = 0;
      this.llm = new Map(); // callId → { el, icon, state, stats, thoughts, more }
      this.tools = new Map(); // callId → { el, badge, steps, status }
      this.cards = new Map(); // approvalId → card
      this.thought = null; // { callId, p }: the paragraph the next consecutive thought joins
      this.finished = false;
    }

    /** Appends events newer than everything shown; returns false if one is older (the caller rebuilds). */
    add(events) {
      for (const e of events) {
        if (e.seq <= this.lastSeq) return false;
      }
      for (const e of events) {
        this.render(e);
        this.lastSeq = e.seq;
      }
      return true;
    }

    rebuild(events) {
      this.reset();
      this.add(events);
    }

    entry(kind, e, ...children) {
      const el = h('div', { class: `tx-entry tx-${kind}`, dataset: { kind, seq: e.seq } }, ...children);
      this.box.append(el);
      return el;
    }

    time(e) {
      const ms = eventMillis(e);
      return h('span', { class: 'tx-time', title: exactTime(ms, e.time) }, clockTime(ms));
    }

    render(e) {
      const d = e.data || {};
      if (e.type !== 'agent.thought') this.thought = null;
      switch (e.type) {
        case 'run.started': this.task(e, d); break;
        case 'llm.requested': this.llmEntry(e, d); break;
        case 'agent.thought': this.addThought(e, d); break;
        case 'llm.responded': this.llmResponded(e, d); break;
        case 'llm.failed': this.llmFailed(e, d); break;
        case 'tool.requested': this.toolEntry(e, d); break;
        case 'tool.authorized': this.toolAuthorized(e, d); break;
        case 'tool.denied': this.toolDenied(e, d); break;
        case 'guardrail.blocked': this.guardrail(e, d); break;
        case 'approval.requested': this.approvalRequested(e, d); break;
        case 'approval.granted': case 'approval.rejected': this.approvalDecided(e, d); break;
        case 'tool.started': this.toolStarted(e, d); break;
        case 'tool.completed': this.toolCompleted(e, d); break;
        case 'tool.failed': this.toolFailed(e, d); break;
        case 'run.stop_requested':
          this.entry('stop', e, h('div', { class: 'tx-line line-warn' },
            h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, '■'),
            h('span', {}, `Stop requested${d.requestedBy ? ' by ' : ''}`, d.requestedBy ? h('span', { class: 'mono' }, d.requestedBy) : null,
              d.reason ? `: ${d.reason}` : ''), this.time(e)));
          break;
        case 'run.resumed':
          this.entry('resumed', e, h('div', { class: 'tx-line' },
            h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, '↻'),
            h('span', {}, `Resumed after seq ${d.afterSeq ?? '?'}${d.reason ? ': ' + d.reason : ''}`,
              (d.completedLlmCalls || d.completedToolCalls)
                ? h('span', { class: 'muted' }, ` · ${num(d.completedLlmCalls || 0)} model and ${num(d.completedToolCalls || 0)} tool calls not repeated`) : null),
            this.time(e)));
          break;
        case 'run.completed': case 'run.failed': case 'run.cancelled': this.end(e, d); break;
        default: break; // the event list below shows everything else
      }
    }

    task(e, d) {
      const scripted = d.provider === 'scripted';
      this.entry('task', e,
        h('div', { class: 'tx-line' },
          h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, '▶'),
          h('strong', {}, 'Task'),
          h('span', { class: 'muted' }, [d.agent && `agent ${d.agent}`, d.caller && `for ${d.caller}`,
            d.provider && d.provider !== d.model ? `${d.provider} ${d.model || ''}`.trim() : d.model].filter(Boolean).join(' · ')),
          scripted ? h('span', { class: 'scripted-badge', title: 'The replies come from a script, not from a model' }, '✎ scripted') : null,
          this.time(e)),
        h('p', { class: 'tx-question', dataset: { testid: 'run-task' } }, d.task || ''));
    }

    // Model calls ------------------------------------------------------------------------------

    llmEntry(e, d) {
      const id = d.callId || `seq-${e.seq}`;
      const retried = this.llm.get(id);
      if (retried && retried.el.dataset.status === 'waiting') { // a retry of the same call: one entry
        retried.meta.textContent = llmMeta(d);
        return;
      }
      const icon = h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, LLM_STATUS.waiting.icon);
      const state = h('span', { class: 'llm-state' }, LLM_STATUS.waiting.label);
      const stats = h('span', { class: 'tx-stats' });
      const thoughts = h('div', { class: 'tx-thoughts' });
      const more = h('div', { class: 'tx-more' });
      const meta = h('span', { class: 'muted' }, llmMeta(d));
      const el = this.entry('llm', e,
        h('div', { class: 'tx-line' }, icon,
          h('strong', {}, 'Model call'),
          h('span', { class: 'mono muted tx-call-id', title: `model call ${id}` }, truncate(id, 13)),
          meta, state, stats, this.time(e)),
        thoughts, more);
      el.dataset.callId = id;
      el.dataset.status = 'waiting';
      this.llm.set(id, { el, icon, state, stats, thoughts, more, meta });
    }

    setLlmStatus(call, status) {
      call.el.dataset.status = status;
      call.icon.textContent = LLM_STATUS[status].icon;
      call.state.textContent = LLM_STATUS[status].label;
    }

    addThought(e, d) {
      const text = d.text || '';
      const callId = d.callId || '';
      // `this.thought` is cleared by every other event, so only consecutive thoughts join.
      if (this.thought && this.thought.callId === callId) {
        this.thought.p.append(text);
        return;
      }
      const call = this.llm.get(callId);
      const p = h('p', { class: 'tx-thought', dataset: { callId } }, text);
      if (call) call.thoughts.append(p);
      else this.entry('thought', e, h('div', { class: 'tx-line' }, h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, '…'),
        h('span', { class: 'muted' }, 'Thought'), this.time(e)), p);
      this.thought = { callId, p };
    }

    llmResponded(e, d) {
      let call = this.llm.get(d.callId);
      if (!call) { this.llmEntry(e, d); call = this.llm.get(d.callId || `seq-${e.seq}`); }
      if (d.errorType === 'cancelled') {
        this.setLlmStatus(call, 'cancelled');
      } else if (d.errorType) {
        this.setLlmStatus(call, 'error');
        call.more.append(h('p', { class: 'tx-step step-bad' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✕'),
          ` ${d.errorType}${d.errorMessage ? ': ' + d.errorMessage : ''}`));
      } else {
        this.setLlmStatus(call, 'done');
      }
      const finish = (d.finishReasons || []).join(', ');
      fill(call.stats,
        h('span', { title: 'input → output tokens' }, `${num(d.inputTokens || 0)} → ${num(d.outputTokens || 0)} tok`),
        d.latencyMs !== undefined ? h('span', { title: 'latency' }, duration(d.latencyMs)) : null,
        h('span', { title: 'cost' }, cost(d.costUsd || 0)),
        finish ? h('span', { title: 'finish reason' }, `finish ${finish}`) : null);
      if (d.content) {
        const details = h('details', { class: 'tx-json tx-answer' },
          h('summary', {}, h('span', { class: 'tx-json-label' }, 'Answer text'), h('span', { class: 'tx-json-preview prose-preview' }, truncate(d.content, 160))),
          h('p', { class: 'prose' }, d.content));
        call.more.append(details);
      }
      const calls = d.toolCalls || [];
      if (calls.length) {
        const details = h('details', { class: 'tx-json tx-requested-calls' },
          h('summary', {}, h('span', { class: 'tx-json-label' }, `Asked for ${calls.length} tool call${calls.length === 1 ? '' : 's'}`),
            h('span', { class: 'tx-json-preview mono' }, calls.map((c) => c.name).join(', '))));
        details.addEventListener('toggle', () => {
          if (!details.open || details.querySelector('.tx-call')) return;
          for (const c of calls) {
            details.append(h('div', { class: 'tx-call' }, h('div', {}, h('strong', { class: 'mono' }, c.name), h('span', { class: 'muted mono' }, ` ${c.id || ''}`)),
              jsonBlock(prettyJSON(c.arguments ?? {}))));
          }
        });
        call.more.append(details);
      }
    }

    llmFailed(e, d) {
      const call = this.llm.get(d.callId);
      if (!call) return;
      this.setLlmStatus(call, 'error');
      call.more.append(h('p', { class: 'tx-step step-bad' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✕'),
        ` ${d.errorType || 'error'}: ${d.message || d.errorMessage || ''}`));
    }

    // Tool calls -------------------------------------------------------------------------------

    toolEntry(e, d) {
      const id = d.callId || `seq-${e.seq}`;
      const badge = h('span', { class: 'tx-badge' }, toolStatusBadge('requested'));
      const steps = h('div', { class: 'tx-steps' });
      const input = d.input !== undefined ? lazyJSON('input', d.input) : null;
      const el = this.entry('tool', e,
        h('div', { class: 'tx-line' },
          h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, '⚙'),
          h('strong', { class: 'mono tx-tool-name' }, d.tool || '?'),
          badge,
          h('span', { class: 'muted mono tx-call-id', title: `call ${id}${d.llmCallId ? ' · asked for by ' + d.llmCallId : ''}` }, truncate(id, 13)),
          d.risk ? h('span', { class: 'muted' }, `risk ${d.risk}`) : null,
          this.time(e)),
        input, steps);
      el.dataset.callId = id;
      el.dataset.status = 'requested';
      el.dataset.tool = d.tool || '';
      this.tools.set(id, { el, badge, steps, status: 'requested' });
    }

    tool(e, d) {
      let call = this.tools.get(d.callId);
      if (!call) { this.toolEntry(e, d); call = this.tools.get(d.callId || `seq-${e.seq}`); }
      return call;
    }

    setToolStatus(call, status) {
      call.status = status;
      call.el.dataset.status = status;
      call.badge.replaceChildren(toolStatusBadge(status));
    }

    step(call, cls, icon, ...children) {
      const p = h('p', { class: `tx-step ${cls}` }, h('span', { class: 'icon', 'aria-hidden': 'true' }, icon), ' ', ...children);
      call.steps.append(p);
      return p;
    }

    toolAuthorized(e, d) {
      const call = this.tool(e, d);
      if (call.status === 'requested') this.setToolStatus(call, 'authorized');
      this.step(call, 'step-ok', '◎', 'allowed',
        d.rule ? [' by rule ', h('span', { class: 'mono' }, d.rule)] : null,
        d.action ? [' · ', h('span', { class: 'mono' }, d.action), ' on ', h('span', { class: 'mono' }, d.resource || '?')] : null,
        d.approvalRequired ? h('span', { class: 'needs-approval' }, ' · needs approval') : null);
    }

    toolDenied(e, d) {
      const call = this.tool(e, d);
      this.setToolStatus(call, 'denied');
      this.step(call, 'step-bad', '⊘', `denied${d.stage ? ' at ' + d.stage : ''}`,
        d.rule ? [' by rule ', h('span', { class: 'mono' }, d.rule)] : null, d.reason ? `: ${d.reason}` : '');
    }

    guardrail(e, d) {
      const text = [h('strong', {}, 'blocked by guardrail '), h('span', { class: 'mono' }, d.guardrail || '?'),
        d.reason ? `: ${d.reason}` : '', d.detail ? h('span', { class: 'muted' }, ` (${d.detail})`) : null];
      const call = this.tools.get(d.callId);
      if (call) { this.setToolStatus(call, 'denied'); this.step(call, 'step-bad guardrail', '⊗', ...text); return; }
      this.entry('guardrail', e, h('div', { class: 'tx-line line-bad' }, h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, '⊗'),
        h('span', {}, d.tool ? [h('span', { class: 'mono' }, d.tool), ' '] : null, ...text), this.time(e)));
    }

    approvalRequested(e, d) {
      const call = this.tool(e, d);
      if (!['denied', 'completed', 'failed'].includes(call.status)) this.setToolStatus(call, 'waiting');
      const card = approvalCard({
        approvalId: d.approvalId, callId: d.callId, tool: d.tool, runId: d.runId, reason: d.reason, approver: d.approver,
        input: d.input, requestedAt: e.timeUnixNano, status: 'pending',
      }, this.app, { showRun: false });
      if (this.finished) this.orphan(card);
      call.steps.append(card);
      if (d.approvalId) this.cards.set(d.approvalId, card);
    }

    approvalDecided(e, d) {
      const granted = e.type === 'approval.granted';
      const card = this.cards.get(d.approvalId);
      if (card) showDecision(card, { status: granted ? 'granted' : 'rejected', decidedBy: d.decidedBy, comment: d.comment, seq: e.seq });
      const call = this.tools.get(d.callId);
      if (call && call.status === 'waiting') this.setToolStatus(call, granted ? 'authorized' : 'denied');
      if (!card && call) {
        this.step(call, granted ? 'step-ok' : 'step-bad', granted ? '✓' : '✕', `${granted ? 'approved' : 'rejected'}${d.decidedBy ? ' by ' + d.decidedBy : ''}`,
          d.comment ? `: “${d.comment}”` : '');
      }
    }

    toolStarted(e, d) {
      const call = this.tool(e, d);
      this.setToolStatus(call, 'running');
      this.step(call, 'step-run', '◑', 'running', d.executingAs ? [' as ', h('span', { class: 'mono' }, d.executingAs)] : null);
    }

    toolCompleted(e, d) {
      const call = this.tool(e, d);
      this.setToolStatus(call, 'completed');
      const facts = [d.rows !== undefined ? `${num(d.rows)} row${d.rows === 1 ? '' : 's'}` : null,
        d.outputBytes ? bytes(d.outputBytes) : null, d.durationMs !== undefined ? duration(d.durationMs) : null,
        d.truncated ? 'truncated' : null, d.redacted?.length ? `redacted ${d.redacted.join(', ')}` : null].filter(Boolean);
      const p = this.step(call, 'step-ok', '✓', `completed${facts.length ? ' · ' + facts.join(' · ') : ''}`);
      if (d.output !== undefined) p.after(lazyJSON('output', d.output));
    }

    toolFailed(e, d) {
      const call = this.tool(e, d);
      this.setToolStatus(call, 'failed');
      this.step(call, 'step-bad', '✕', `${d.errorType || 'failed'}${d.message ? ': ' + d.message : ''}`,
        d.durationMs !== undefined ? h('span', { class: 'muted' }, ` · ${duration(d.durationMs)}`) : null);
    }

    // The end ----------------------------------------------------------------------------------

    end(e, d) {
      const kind = { 'run.completed': 'ok', 'run.failed': 'bad', 'run.cancelled': 'warn' }[e.type];
      const steps = d.steps ? ` after ${num(d.steps)} step${d.steps === 1 ? '' : 's'}` : '';
      let text;
      if (e.type === 'run.completed') text = [h('strong', {}, `Completed${steps}`), ' · the answer is at the top'];
      else if (e.type === 'run.failed') text = [h('strong', {}, `Failed${steps}`), `: ${d.errorType ? d.errorType + ': ' : ''}${d.message || ''}`];
      else text = [h('strong', {}, `Cancelled${steps}`), d.requestedBy ? ` by ${d.requestedBy}` : '', d.reason ? `: ${d.reason}` : ''];
      this.entry('end', e, h('div', { class: `tx-line line-${kind}` },
        h('span', { class: 'tx-icon', 'aria-hidden': 'true' }, { ok: '✓', bad: '✕', warn: '⊘' }[kind]), h('span', {}, ...text), this.time(e)));
      this.setFinished();
    }

    /** The run is over: calls still open never finish, approvals nobody decided cannot be decided any more. */
    setFinished() {
      this.finished = true;
      for (const call of this.llm.values()) if (call.el.dataset.status === 'waiting') this.setLlmStatus(call, 'unfinished');
      for (const call of this.tools.values()) {
        if (['requested', 'authorized', 'waiting', 'running'].includes(call.status)) this.setToolStatus(call, 'unfinished');
      }
      for (const card of this.cards.values()) if (card.dataset.status === 'pending') this.orphan(card);
    }

    orphan(card) {
      card.dataset.status = 'moot';
      card.querySelector('.ap-body')?.replaceChildren(h('p', { class: 'ap-decision dec-moot' }, '— the run ended before anyone decided'));
    }
  }

  Object.assign(window.Glassbox, { Transcript, TOOL_STATUS, toolStatusBadge });
}
