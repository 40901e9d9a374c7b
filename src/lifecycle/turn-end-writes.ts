import type { Writable } from 'node:stream';

/**
 * Holds a socket's writes until the event loop has handled every socket that was readable in this turn, then
 * sends each socket's held bytes in one write: Redis's habit of reading all ready clients first and writing all
 * replies in `beforeSleep`.
 *
 * Why not uncork on `process.nextTick`, as node:http and the old front-ends did: nextTick runs between two sockets'
 * read callbacks, so the node alternated read, write, read, write. Each write to a client that is asleep waiting
 * for it wakes that client, and on this kind of virtual machine a wake-up costs more than the rest of a GET; with
 * the writes held until the poll phase is over (setImmediate runs after it), the first write wakes the client and
 * the others find it awake. Measured on RESP GET at 64 connections (docs/performance.md, issue #17): +50 %.
 * A reply waits at most for the rest of the turn's reads, which are already in memory.
 */
const held = new Set<Writable>();
let tasks: Array<{ write: () => void; failed: (error: unknown) => void }> = [];
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(releaseHeld);
}

/** Corks `socket` until the end of the current event-loop turn (once per turn however often it is called). */
export function holdUntilTurnEnd(socket: Writable): void {
  if (held.has(socket) || socket.destroyed) return;
  held.add(socket);
  socket.cork();
  schedule();
}

/**
 * Runs `write` at the end of the current event-loop turn, with the turn's other held writes. For writers that
 * cannot be held by corking: node:http's `res.end()` uncorks its socket fully, so an answer is deferred whole.
 * `failed` gets what `write` throws (the writer's own connection is the one to give up, not the turn's others).
 */
export function writeAtTurnEnd(write: () => void, failed: (error: unknown) => void): void {
  tasks.push({ write, failed });
  schedule();
}

function releaseHeld(): void {
  scheduled = false;
  const due = tasks;
  tasks = [];
  for (const task of due) {
    try {
      task.write();
    } catch (error) {
      task.failed(error);
    }
  }
  // A socket held again while this loop runs (a write from a 'drain' handler) waits for the next turn's release.
  const sockets = [...held];
  held.clear();
  for (const socket of sockets) socket.uncork();
}
