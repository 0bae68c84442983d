// The audit console: read-only SQL over the log (POST /api/v1/audit/query), a result table,
// and a CSV download built in the browser. Every query is itself recorded as audit.queried.
'use strict';

{
  const { h, num, duration, blobToHex } = window.Glassbox;

  const EXAMPLES = [
    {
      name: 'Events by type',
      sql: 'SELECT type, COUNT(*) AS n FROM events GROUP BY type ORDER BY n DESC',
    },
    {
      name: 'Denied tool calls',
      sql: "SELECT seq, time, stream, json_extract(data, '$.tool') AS tool,\n       json_extract(data, '$.rule') AS rule, json_extract(data, '$.reason') AS reason\nFROM events WHERE type = 'tool.denied' ORDER BY seq DESC LIMIT 100",
    },
    {
      name: 'Tokens per agent',
      sql: "SELECT r.agent, COUNT(DISTINCT e.stream) AS runs,\n       SUM(json_extract(e.data, '$.inputTokens')) AS input_tokens,\n       SUM(json_extract(e.data, '$.outputTokens')) AS output_tokens\nFROM events e\nJOIN (SELECT stream, json_extract(data, '$.agent') AS agent FROM events WHERE type = 'run.started') r USING (stream)\nWHERE e.type = 'llm.responded'\nGROUP BY r.agent ORDER BY input_tokens DESC",
    },
    {
      name: 'Failed runs',
      sql: "SELECT seq, time, stream, json_extract(data, '$.errorType') AS error_type,\n       json_extract(data, '$.message') AS message\nFROM events WHERE type = 'run.failed' ORDER BY seq DESC LIMIT 100",
    },
    {
      name: 'Who ran audit queries',
      sql: "SELECT seq, time, json_extract(data, '$.principal') AS principal, json_extract(data, '$.query') AS query,\n       json_extract(data, '$.rows') AS rows, json_extract(data, '$.error') AS error\nFROM events WHERE type = 'audit.queried' ORDER BY seq DESC LIMIT 50",
    },
    {
      name: 'Latest events with hashes',
      sql: 'SELECT seq, time, type, stream, actor, hex(prev_hash) AS prev_hash, hex(hash) AS hash\nFROM events ORDER BY seq DESC LIMIT 20',
    },
  ];

  const MAX_TABLE_ROWS = 2000; // rows put in the DOM; the CSV has them all

  class AuditView {
    constructor(app) {
      this.app = app;
      this.result = null;
      this.el = {
        sql: document.getElementById('audit-sql'),
        run: document.getElementById('audit-run'),
        examples: document.getElementById('audit-examples'),
        maxRows: document.getElementById('audit-max-rows'),
        meta: document.getElementById('audit-meta'),
        error: document.getElementById('audit-error'),
        table: document.getElementById('audit-table'),
        csv: document.getElementById('audit-csv'),
        result: document.getElementById('audit-result'),
      };
      this.el.sql.value = EXAMPLES[0].sql;
      for (const [i, example] of EXAMPLES.entries()) this.el.examples.append(h('option', { value: String(i) }, example.name));
      this.el.examples.addEventListener('change', () => {
        const example = EXAMPLES[Number(this.el.examples.value)];
        if (example) this.el.sql.value = example.sql;
        this.el.examples.value = '';
        this.el.sql.focus();
      });
      this.el.run.addEventListener('click', () => this.run());
      this.el.sql.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          this.run();
        }
      });
      this.el.csv.addEventListener('click', () => this.downloadCSV());
    }

    activate() {
      this.el.sql.focus();
    }

    deactivate() {}

    async run() {
      const sql = this.el.sql.value.trim();
      if (!sql) return;
      this.el.run.disabled = true;
      this.el.run.textContent = 'Running…';
      this.el.error.hidden = true;
      const started = performance.now();
      try {
        const maxRows = Math.min(10000, Math.max(1, Number(this.el.maxRows.value) || 1000));
        const result = await this.app.api.post('/api/v1/audit/query', { sql, maxRows, timeoutMs: 10000 });
        this.result = result;
        this.render(result, performance.now() - started);
      } catch (error) {
        this.result = null;
        this.el.table.textContent = '';
        this.el.result.hidden = true;
        this.el.csv.disabled = true;
        this.el.meta.textContent = '';
        this.el.error.hidden = false;
        this.el.error.textContent = '';
        this.el.error.append(h('strong', {}, error.code ? `${error.code}: ` : 'Error: '), error.message);
      } finally {
        this.el.run.disabled = false;
        this.el.run.textContent = 'Run';
      }
    }

    render(result, roundTripMs) {
      const { columns = [], rows = [] } = result;
      const table = this.el.table;
      table.textContent = '';
      const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number'));
      const head = h('tr', {}, columns.map((c, i) => h('th', { scope: 'col', class: numeric[i] ? 'num' : null }, c)));
      const body = h('tbody');
      const shown = rows.slice(0, MAX_TABLE_ROWS);
      for (const row of shown) {
        const tr = h('tr');
        row.forEach((cell, i) => {
          const td = h('td', {}, cellText(cell));
          if (cell === null) td.className = 'null';
          else if (typeof cell === 'number') td.className = 'num';
          else if (typeof cell === 'object') td.className = 'mono';
          else if (String(cell).length > 80) { td.className = 'long'; td.title = String(cell); }
          if (columns[i] === 'seq' && typeof cell === 'number') td.dataset.seq = String(cell);
          tr.append(td);
        });
        body.append(tr);
      }
      table.append(h('thead', {}, head), body);
      this.el.result.hidden = false;
      const parts = [
        `${num(rows.length)} row${rows.length === 1 ? '' : 's'}`,
        result.truncated ? 'truncated (raise max rows or add LIMIT/WHERE)' : null,
        `${duration(result.durationMs)} in the database`,
        `${duration(roundTripMs)} round trip`,
        result.seq ? `recorded as audit.queried seq ${result.seq}` : null,
        rows.length > MAX_TABLE_ROWS ? `showing the first ${num(MAX_TABLE_ROWS)} (the CSV has all)` : null,
      ];
      this.el.meta.textContent = parts.filter(Boolean).join(' · ');
      this.el.meta.dataset.rows = String(rows.length);
      this.el.meta.classList.toggle('warn-text', Boolean(result.truncated));
      this.el.csv.disabled = false;
    }

    downloadCSV() {
      if (!this.result) return;
      const csv = toCSV(this.result.columns || [], this.result.rows || []);
      const blob = new Blob([csv], { type: 'text/csv;charset=utf-8' });
      const url = URL.createObjectURL(blob);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const a = h('a', { href: url, download: `glassbox-audit-${stamp}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    }
  }

  /** How a cell is shown: blobs as hex, null as NULL. */
  function cellText(cell) {
    if (cell === null || cell === undefined) return 'NULL';
    if (typeof cell === 'object') return cell.base64 !== undefined ? `x'${blobToHex(cell.base64)}'` : JSON.stringify(cell);
    return String(cell);
  }

  /** RFC 4180 CSV: fields with comma, quote, CR or LF are quoted, quotes doubled; CRLF lines. */
  function toCSV(columns, rows) {
    const field = (value) => {
      let s;
      if (value === null || value === undefined) s = '';
      else if (typeof value === 'object') s = value.base64 !== undefined ? blobToHex(value.base64) : JSON.stringify(value);
      else s = String(value);
      return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const lines = [columns.map(field).join(',')];
    for (const row of rows) lines.push(row.map(field).join(','));
    return lines.join('\r\n') + '\r\n';
  }

  Object.assign(window.Glassbox, { EXAMPLES, AuditView, cellText, toCSV });
}
