// The events the dashboard holds in memory: the newest MAX_EVENTS, oldest first, each once
// (dedupe by seq), with live counts per type. Views subscribe to hear about new events.
'use strict';

{
  const MAX_EVENTS = 10000;

  class EventStore {
    constructor(max = MAX_EVENTS) {
      this.max = max;
      this.events = []; // oldest first
      this.lastSeq = 0; // highest seq ingested
      this.counts = new Map(); // type → count in the whole log
      this.countsAsOf = 0; // counts include every event with seq ≤ this
      this.knownTypes = []; // from /api/v1/types: [{type, fields}]
      this.listeners = new Set();
      this.serverLastSeq = 0;
    }

    subscribe(listener) {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }

    get oldestSeq() {
      return this.events.length ? this.events[0].seq : this.lastSeq + 1;
    }

    setTypes(types) {
      this.knownTypes = types;
      for (const t of types) if (!this.counts.has(t.type)) this.counts.set(t.type, 0);
    }

    /** Counts from /api/v1/stats; events after its lastSeq are counted as they arrive. */
    setStats(stats) {
      for (const [type, n] of Object.entries(stats.eventsByType || {})) this.counts.set(type, n);
      this.countsAsOf = stats.lastSeq || 0;
      this.serverLastSeq = Math.max(this.serverLastSeq, stats.lastSeq || 0);
    }

    /** Adds events in seq order; returns the ones that were new. */
    ingest(events) {
      const fresh = [];
      for (const event of events) {
        if (event.seq <= this.lastSeq) continue;
        this.lastSeq = event.seq;
        this.events.push(event);
        fresh.push(event);
        if (event.seq > this.countsAsOf) {
          this.counts.set(event.type, (this.counts.get(event.type) || 0) + 1);
          this.countsAsOf = event.seq;
        }
      }
      if (this.lastSeq > this.serverLastSeq) this.serverLastSeq = this.lastSeq;
      // Trim in chunks so the array is not shifted on every event.
      if (this.events.length > this.max + 500) this.events.splice(0, this.events.length - this.max);
      if (fresh.length) for (const listener of this.listeners) listener(fresh);
      return fresh;
    }

    /** Older events (from "load older"), oldest first; only those before what we hold. */
    prependOlder(events) {
      const oldest = this.oldestSeq;
      const older = events.filter((e) => e.seq < oldest);
      const room = Math.max(0, this.max - this.events.length);
      const kept = older.slice(Math.max(0, older.length - room));
      this.events.unshift(...kept);
      return kept;
    }
  }

  Object.assign(window.Glassbox, { MAX_EVENTS, EventStore });
}
