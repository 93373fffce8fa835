// The peer measurement: Emmett's SQLite event store on the same payloads as custody, same
// machine, same run. Prints result lines ({"bench": ...}) like the C++ programs.
//
//   node emmett_bench.mjs INPUT.tsv DIR [--single N] [--per-call K]
//
// INPUT.tsv holds one event per line: stream, type, data (custody_bench import --peer-out).

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  getSQLiteEventStore,
  readMessagesBatch,
  sqliteConnection,
} from '@event-driven-io/emmett-sqlite';

const [input, dir, ...rest] = process.argv.slice(2);
const option = (name, fallback) => {
  const at = rest.indexOf(`--${name}`);
  return at >= 0 ? Number(rest[at + 1]) : fallback;
};
const single = option('single', 1000);
const perCall = option('per-call', 100);

const emit = (bench, fields) => console.log(JSON.stringify({ bench, ...fields }));
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const fresh = (name) => {
  const file = join(dir, name);
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  return file;
};

const events = readFileSync(input, 'utf8')
  .split('\n')
  .filter((line) => line.length > 0)
  .map((line) => {
    const [stream, type, data] = line.split('\t');
    return { stream, event: { type, data: JSON.parse(data) } };
  });

// Batched: each stream's events in calls of `perCall`, the calls interleaved across streams in
// the order their last event appears in the input.
const batchedFile = fresh('emmett-batched.db');
{
  const store = getSQLiteEventStore({
    fileName: batchedFile,
    schema: { autoMigration: 'CreateOrUpdate' },
  });
  const calls = [];
  const pending = new Map();
  for (const { stream, event } of events) {
    let list = pending.get(stream);
    if (!list) pending.set(stream, (list = []));
    list.push(event);
    if (list.length === perCall) {
      calls.push([stream, list]);
      pending.set(stream, []);
    }
  }
  for (const [stream, list] of pending) if (list.length > 0) calls.push([stream, list]);
  const start = process.hrtime.bigint();
  for (const [stream, list] of calls) await store.appendToStream(stream, list);
  const s = seconds(start);
  emit('emmett_batched', {
    events: events.length,
    events_per_call: perCall,
    seconds: s,
    events_per_s: events.length / s,
  });
}

// Read all: the whole log in global order, 1000 events per read.
{
  const connection = sqliteConnection({ fileName: batchedFile });
  const start = process.hrtime.bigint();
  let read = 0;
  let after = 0n;
  for (;;) {
    const batch = await readMessagesBatch(connection, { after, batchSize: 1000 });
    read += batch.messages.length;
    if (batch.messages.length === 0 || !batch.areEventsLeft) break;
    after = batch.messages[batch.messages.length - 1].metadata.globalPosition;
  }
  const s = seconds(start);
  connection.close();
  emit('emmett_read_all', { events: read, seconds: s, events_per_s: read / s });
}

// Single-event appends, one after the other, each its own durable transaction. The schema is
// created by a first append before the clock starts; an append refused with SQLITE_BUSY (seen
// now and then from the sqlite3 module) is retried and counted.
{
  const store = getSQLiteEventStore({
    fileName: fresh('emmett-single.db'),
    schema: { autoMigration: 'CreateOrUpdate' },
  });
  const append = async (stream, list) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.appendToStream(stream, list);
      } catch (error) {
        if (error?.code !== 'SQLITE_BUSY' || attempt === 5) throw error;
        retries++;
      }
    }
  };
  let retries = 0;
  await append('warm-up', [{ type: 'warm_up', data: {} }]);
  retries = 0;
  const count = Math.min(single, events.length);
  const latencies = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await append(events[i].stream, [events[i].event]);
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const s = seconds(start);
  latencies.sort((a, b) => a - b);
  emit('emmett_single', {
    events: count,
    seconds: s,
    events_per_s: count / s,
    p50_ms: latencies[Math.floor(count * 0.5)],
    p99_ms: latencies[Math.min(count - 1, Math.floor(count * 0.99))],
    busy_retries: retries,
  });
}
fresh('emmett-batched.db');
fresh('emmett-single.db');
process.exit(0);
