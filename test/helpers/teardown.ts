/**
 * A registry of things tests started. Helpers register a closer when they create something; the root
 * afterEach closes whatever the test left, newest first, each within a timeout, so a failed test never
 * leaks a server into the next one.
 */
type Closer = { name: string; close: () => Promise<unknown> | unknown };

const perTest: Closer[] = [];

/** Registers `close` to run after the current test. */
export function onTeardown(name: string, close: Closer['close']): void {
  perTest.push({ name, close });
}

export async function runTeardown(timeoutMs = 30_000): Promise<void> {
  const errors: string[] = [];
  while (perTest.length > 0) {
    const closer = perTest.pop()!;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(closer.close),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      errors.push(`${closer.name}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  if (errors.length > 0) throw new Error(`teardown failed: ${errors.join('; ')}`);
}
