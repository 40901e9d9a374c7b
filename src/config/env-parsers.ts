import { ConfigError } from './config-error';

/** The environment as the config module sees it: a plain map of names to raw strings. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The raw value of `name` (or of its first alias that is set), trimmed; undefined when unset or blank. */
export function rawValue(env: Environment, name: string, aliases: readonly string[] = []): { name: string; value: string } | undefined {
  for (const candidate of [name, ...aliases]) {
    const value = env[candidate]?.trim();
    if (value) return { name: candidate, value };
  }
  return undefined;
}

export function readString(env: Environment, name: string, fallback: string, aliases: readonly string[] = []): string {
  return rawValue(env, name, aliases)?.value ?? fallback;
}

/** The trimmed value, or undefined when unset or blank. */
export function readOptionalString(env: Environment, name: string): string | undefined {
  return rawValue(env, name)?.value;
}

/** A secret taken exactly as given (a password may start or end with a space); undefined when unset or empty. */
export function readSecret(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** An integer within [min, max]; anything else is refused with a message naming the variable and the range. */
export function readInteger(env: Environment, name: string, fallback: number, range: { min: number; max: number }): number {
  const raw = rawValue(env, name);
  if (!raw) return fallback;
  return parseInteger(raw.name, raw.value, range);
}

/** Like readInteger, but undefined when the variable is unset. */
export function readOptionalInteger(env: Environment, name: string, range: { min: number; max: number }): number | undefined {
  const raw = rawValue(env, name);
  return raw ? parseInteger(raw.name, raw.value, range) : undefined;
}

export function parseInteger(name: string, value: string, range: { min: number; max: number }): number {
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `${name} must be a whole number from ${range.min} to ${range.max}, got "${value}"`);
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < range.min || parsed > range.max) {
    throw new ConfigError(name, `${name} must be a whole number from ${range.min} to ${range.max}, got ${value}`);
  }
  return parsed;
}

/** A TCP port; 0 lets the OS choose one (tests use it). */
export function readPort(env: Environment, name: string, fallback: number): number {
  return readInteger(env, name, fallback, { min: 0, max: 65535 });
}

/** true/false (also 1/0, yes/no, on/off), case-insensitive. */
export function readBoolean(env: Environment, name: string, fallback: boolean): boolean {
  const raw = rawValue(env, name);
  if (!raw) return fallback;
  const value = raw.value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(raw.name, `${raw.name} must be true or false, got "${raw.value}"`);
}

/** One of a closed set of words. */
export function readChoice<T extends string>(env: Environment, name: string, choices: readonly T[], fallback: T): T {
  const raw = rawValue(env, name);
  if (!raw) return fallback;
  const value = raw.value.toLowerCase() as T;
  if (!choices.includes(value)) throw new ConfigError(name, `${name} must be one of ${choices.join(', ')}, got "${raw.value}"`);
  return value;
}

/** A comma-separated list of host:port pairs, each validated. */
export function readHostPortList(env: Environment, name: string, fallback: string, aliases: readonly string[] = []): string[] {
  const raw = rawValue(env, name, aliases) ?? { name, value: fallback };
  const items = raw.value.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(raw.name, `${raw.name} must list at least one host:port, got "${raw.value}"`);
  for (const item of items) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(item);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new ConfigError(raw.name, `${raw.name} must be a comma-separated list of host:port (for example localhost:9092), got "${item}"`);
    }
  }
  return items;
}
