// "Acting as": the principal the dashboard names when it starts a run, stops one or decides an
// approval. Until the server authenticates (issue 8) the principal travels in the request body;
// the choice is kept in localStorage.
'use strict';

{
  const KEY = 'glassbox.actingAs';
  const DEFAULT_PRINCIPAL = 'user:alice';

  /** "kind:name", no spaces, as the server accepts (e.g. user:sam, service:ci). */
  function isPrincipal(value) {
    return /^[A-Za-z][A-Za-z0-9_.-]*:\S+$/.test(value) && new TextEncoder().encode(value).length <= 256;
  }

  class ActingAs {
    constructor(input) {
      this.input = input;
      this.listeners = new Set();
      let saved = null;
      try { saved = window.localStorage.getItem(KEY); } catch { /* storage refused: default */ }
      this.value = saved && isPrincipal(saved) ? saved : DEFAULT_PRINCIPAL;
      for (const el of document.querySelectorAll('.acting-as-name')) el.textContent = this.value;
      if (!input) return;
      input.value = this.value;
      const commit = () => {
        const next = input.value.trim();
        const valid = isPrincipal(next);
        input.classList.toggle('invalid', !valid);
        // An invalid entry is marked, and the last valid principal stays in use.
        input.title = valid ? `Runs, stops and approvals from this page are made as ${next}`
          : `Not a principal (kind:name, no spaces, like user:sam): still acting as ${this.value}`;
        if (valid && next !== this.value) this.set(next);
      };
      input.addEventListener('input', commit);
      commit();
    }

    get() {
      return this.value;
    }

    set(value) {
      this.value = value;
      try { window.localStorage.setItem(KEY, value); } catch { /* kept for this page only */ }
      if (this.input && this.input.value.trim() !== value) this.input.value = value;
      // Every "as user:…" hint on the page follows.
      for (const el of document.querySelectorAll('.acting-as-name')) el.textContent = value;
      for (const listener of this.listeners) listener(value);
    }

    onChange(listener) {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }

    /** A span that always shows the current principal. */
    nameElement() {
      const span = document.createElement('span');
      span.className = 'acting-as-name mono';
      span.textContent = this.value;
      return span;
    }
  }

  Object.assign(window.Glassbox, { ActingAs, isPrincipal, DEFAULT_PRINCIPAL });
}
