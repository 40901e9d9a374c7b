import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const configDir = path.join(__dirname, '../../src/config');

/**
 * The variable names each file of the config module reads, keyed by file name (`node-config.ts`, ...): the string
 * arguments of its read* calls and their alias lists. Read from the source, so a new variable is seen at once.
 */
export function variablesByConfigFile(): Map<string, Set<string>> {
  const byFile = new Map<string, Set<string>>();
  for (const file of readdirSync(configDir).filter((f) => f.endsWith('.ts') && f !== 'env-parsers.ts')) {
    const names = new Set<string>();
    const source = readFileSync(path.join(configDir, file), 'utf8');
    for (const call of source.matchAll(/read[A-Za-z]*\(\s*env,\s*'([A-Z0-9_]+)'([^)]*)\)/g)) {
      names.add(call[1]);
      for (const alias of call[2].matchAll(/'([A-Z0-9_]{3,})'/g)) names.add(alias[1]);
    }
    byFile.set(file, names);
  }
  return byFile;
}

/** Every variable name the config module reads, in any of its files. */
export function variablesInConfigModule(): Set<string> {
  return new Set([...variablesByConfigFile().values()].flatMap((names) => [...names]));
}

/** The variables a node reads (src/config/node-config.ts), the ones that matter in a node's container. */
export function nodeVariables(): Set<string> {
  const names = variablesByConfigFile().get('node-config.ts');
  if (!names) throw new Error(`no node-config.ts in ${configDir}`);
  return names;
}

/** The variables `.env.example` sets (`NAME=...` at the start of a line), in file order. */
export function variablesInEnvExample(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
}
