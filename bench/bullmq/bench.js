// BullMQ doing what queuetest.Benchmark does to a queue engine: enqueue,
// reserve and complete N jobs, singly and in batches, with 1 and 4
// consumers. Prints one JSON line per case. Usage:
//   REDIS_URL=redis://127.0.0.1:6379 node bench.mjs [jobs]
const { Queue, Worker } = require('bullmq');

const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
const total = Number(process.argv[2] ?? 5000);

async function run(name, { batch, consumers }) {
  const qname = `bench_${name}_${Date.now()}`;
  const queue = new Queue(qname, { connection });
  let done = 0;
  let resolve;
  const finished = new Promise((r) => { resolve = r; });
  const started = performance.now();
  const workers = [];
  for (let i = 0; i < consumers; i++) {
    const w = new Worker(qname, async () => {}, { connection, concurrency: 1, autorun: true });
    w.on('completed', () => { if (++done === total) resolve(); });
    workers.push(w);
  }
  if (batch === 1) {
    for (let i = 0; i < total; i++) {
      await queue.add('bench', { lane: `l${i % 64}` }, { jobId: `j${i}`, removeOnComplete: true });
    }
  } else {
    for (let i = 0; i < total; i += batch) {
      const jobs = [];
      for (let j = i; j < Math.min(i + batch, total); j++) {
        jobs.push({ name: 'bench', data: { lane: `l${j % 64}` }, opts: { jobId: `j${j}`, removeOnComplete: true } });
      }
      await queue.addBulk(jobs);
    }
  }
  await finished;
  const secs = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.close()));
  await queue.obliterate({ force: true });
  await queue.close();
  console.log(JSON.stringify({ case: name, jobs: total, seconds: +secs.toFixed(3), jobs_per_s: Math.round(total / secs) }));
}

(async () => {
  await run('single', { batch: 1, consumers: 1 });
  await run('batched', { batch: 500, consumers: 1 });
  await run('batched-4consumers', { batch: 500, consumers: 4 });
  process.exit(0);
})();
