import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.join(__dirname, '../../src');

/** Every .ts file under src/, relative to it. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

/** The folder of src/ a file belongs to (`.` for files at its top). */
const folderOf = (file: string): string => (file.includes(path.sep) ? file.split(path.sep)[0] : '.');

/**
 * src/'s folder graph: folder -> the folders its files import (types included, since a type import still ties
 * the folders together), read with TypeScript's own pre-processor, which sees every import, export-from and
 * require without compiling.
 */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles()) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    const imports = ts.preProcessFile(readFileSync(path.join(SRC, file), 'utf8'), true, true).importedFiles;
    for (const { fileName } of imports) {
      if (!fileName.startsWith('.')) continue;
      const target = path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), fileName));
      const to = folderOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${file} imports ${fileName}`);
    }
  }
  return graph;
}

/** The cycles of the graph, each as the folders on it (Tarjan's strongly connected components of more than one). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do component.push((member = stack.pop()!));
      while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('import graph of src/', () => {
  const graph = folderGraph();

  it('has no cycle between folders (front-ends, commands and the node among them)', () => {
    const described = cycles(graph).map((cycle) =>
      cycle.map((from) => [...(graph.get(from) ?? [])].filter(([to]) => cycle.includes(to)).map(([, why]) => why).join('; ')).join('\n  '),
    );
    assert.deepEqual(described, [], `folder cycles:\n  ${described.join('\n  ')}`);
  });

  it('keeps the front-ends off the composition root: only the CLI imports src/node/', () => {
    for (const [from, edges] of graph) {
      if (from !== 'cli' && from !== 'node') assert.ok(!edges.has('node'), `${from}/ imports node/: ${edges.get('node')}`);
    }
  });

  it('keeps the commands independent of every protocol', () => {
    const edges = graph.get('commands') ?? new Map();
    for (const frontEnd of ['http', 'rpc', 'cli', 'client', 'node']) assert.ok(!edges.has(frontEnd), `commands/ imports ${frontEnd}/: ${edges.get(frontEnd)}`);
  });

  it('sees the imports it checks (a sanity check of the reader itself)', () => {
    assert.ok(graph.get('http')?.has('commands'), 'http/ imports commands/');
    assert.ok(graph.get('node')?.has('http'), 'node/ imports http/');
  });
});
