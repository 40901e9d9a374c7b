import { stopSharedStack } from './shared-stack';
import { runTeardown } from './teardown';

// An unhandled rejection is a bug somewhere in the code under test: fail the run rather than let it pass.
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`);
});

export const mochaHooks = {
  async afterEach(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await runTeardown();
  },
};

export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedStack();
}
