import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor, withTimeout } from '../../src/retry/retry';
import { findFreePort, findFreePorts, isPortFree } from '../../src/stack/free-port';
import { isPidAlive } from '../../src/stack/process-control';
import { stackDown } from '../../src/stack/stack';
import { findStackProcesses } from '../../src/stack/stack-state';
import { silentLogger } from '../../src/logging/logger';
import { httpRequest } from '../helpers/http-client';
import { spawnBitacora } from '../helpers/node-process';
import { onTeardown } from '../helpers/teardown';

/** Three consecutive free ports, as `npm start` gives its three nodes START_API_PORT onwards. */
async function freePortRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await findFreePort();
    if ((await isPortFree(base + 1)) && (await isPortFree(base + 2))) return base;
  }
  throw new Error('no three consecutive free ports');
}

/** `bitacora start` (what `npm start` runs) in a process group of its own, on its own ports and STACK_DIR. */
async function startLocalCluster(): Promise<{ run: Awaited<ReturnType<typeof spawnBitacora>>; dir: string; apiPort: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bitacora-start-'));
  const [zk, kafka, controller] = await findFreePorts(3);
  const apiPort = await freePortRun();
  const avroPort = await freePortRun();
  const respPort = await freePortRun();
  const run = await spawnBitacora(
    ['start'],
    {
      STACK_DIR: dir,
      ZK_PORT: String(zk),
      KAFKA_PORT: String(kafka),
      KAFKA_CONTROLLER_PORT: String(controller),
      START_API_PORT: String(apiPort),
      START_AVRO_PORT: String(avroPort),
      START_RESP_PORT: String(respPort),
      ...(process.env.STACK_CACHE_DIR ? { STACK_CACHE_DIR: process.env.STACK_CACHE_DIR } : {}),
    },
    { detached: true },
  );
  onTeardown(`local cluster in ${dir}`, async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) process.kill(-run.child.pid!, 'SIGKILL');
    await stackDown({ dir, logger: silentLogger() });
    await rm(dir, { recursive: true, force: true });
  });
  await waitFor(
    () => {
      if (run.child.exitCode !== null) throw new Error(`bitacora start exited with ${run.child.exitCode}; see ${run.logFile}`);
      return run.output().includes('Bitacora is running');
    },
    { timeoutMs: 150_000, intervalMs: 200, description: `bitacora start to print that the cluster runs (log: ${run.logFile})` },
  );
  return { run, dir, apiPort };
}

describe('npm start: the local cluster in the foreground', function () {
  this.timeout(300_000);

  it('Ctrl-C (SIGINT to its process group) stops the nodes, then Kafka, then ZooKeeper, and exits 0 without errors', async () => {
    const { run, dir, apiPort } = await startLocalCluster();
    const write = await httpRequest(`http://127.0.0.1:${apiPort}/rpc?key=start-test&value=v`, { method: 'POST' });
    assert.equal(write.status, 200);
    const jvms = await findStackProcesses(dir, ['attached']);
    assert.deepEqual(jvms.map((entry) => entry.service).sort(), ['kafka-1', 'zookeeper']);

    // What a terminal does on Ctrl-C: the signal goes to every process of the foreground group.
    process.kill(-run.child.pid!, 'SIGINT');
    const exit = await withTimeout(run.exited, 60_000, 'bitacora start to exit after SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null });

    const stdout = run.output();
    const steps = ['stopping the cluster', 'nodes stopped', 'kafka stopped', 'zookeeper stopped'].map((line) => stdout.indexOf(line));
    assert.ok(steps.every((at) => at >= 0), `every step is reported:\n${stdout}`);
    assert.deepEqual([...steps].sort((a, b) => a - b), steps, `in order:\n${stdout}`);
    const stderr = await readFile(run.logFile, 'utf8');
    assert.doesNotMatch(`${stdout}\n${stderr}`, /ECONNREFUSED/, 'no connection errors on the way down');
    const warnings = stderr.split('\n').filter((line) => /KafkaJS v2\.0\.0 switched default partitioner|"level":40/.test(line));
    assert.deepEqual(warnings, [], 'no warnings at start or stop');
    assert.ok(jvms.every((entry) => !isPidAlive(entry.pid)), 'the JVMs are gone');
  });

  it('the JVMs do not outlive a parent killed with SIGKILL', async () => {
    const { run, dir } = await startLocalCluster();
    const jvms = await findStackProcesses(dir, ['attached']);
    assert.equal(jvms.length, 2);
    run.child.kill('SIGKILL');
    await run.exited;
    await waitFor(() => jvms.every((entry) => !isPidAlive(entry.pid)), {
      timeoutMs: 20_000,
      intervalMs: 200,
      description: 'the stack JVMs to exit after their parent was killed',
    });
  });

  it('JVMs left by a parent whose watchdog died too are stopped by the next stack command on that STACK_DIR', async () => {
    const { run, dir } = await startLocalCluster();
    const jvms = await findStackProcesses(dir, ['attached']);
    const watchdogs = (await childrenOf(run.child.pid!)).filter((child) => child.args.includes('-e') && child.args.some((arg) => arg.includes('watched')));
    assert.equal(watchdogs.length, 1, 'bitacora start runs one watchdog');
    process.kill(watchdogs[0]!.pid, 'SIGKILL');
    run.child.kill('SIGKILL');
    await run.exited;
    assert.ok(jvms.every((entry) => isPidAlive(entry.pid)), 'orphans now: nothing else will stop them');
    const down = await stackDown({ dir, logger: silentLogger() });
    assert.deepEqual(down.stopped.map((entry) => entry.service).sort(), ['kafka-1', 'zookeeper']);
    assert.ok(jvms.every((entry) => !isPidAlive(entry.pid)));
  });
});

/** The direct children of `pid`, with their command lines (Linux /proc). */
async function childrenOf(pid: number): Promise<{ pid: number; args: string[] }[]> {
  const children: { pid: number; args: string[] }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== pid) continue;
      children.push({ pid: Number(entry), args: (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}
