// First of all: kafkajs keeps the message grouping it finds when it is first loaded (see the patch).
import { installLinearMessageGrouping } from '../../src/patches/kafkajs-message-grouping';
import { installFastProduceEncoding } from '../../src/patches/kafkajs-produce-encoding';
import { installFastRecordDecoding } from '../../src/patches/kafkajs-record-decoding';
import { stopSharedStack } from './shared-stack';
import { runTeardown } from './teardown';

// Before any test's kafkajs client fetches: the nodes the tests run in this process then decode records as a
// node's own process does (with the patches), whichever test happens to fetch or produce first.
if (installFastRecordDecoding() !== 'patched') throw new Error('the kafkajs record-decoding patch could not be installed before the tests');
if (installFastProduceEncoding() !== 'patched') throw new Error('the kafkajs produce-encoding patch could not be installed before the tests');
if (installLinearMessageGrouping() !== 'patched') throw new Error('the kafkajs message-grouping patch could not be installed before kafkajs was loaded');

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
  // Everything is closed now, so the process should end by itself. If something leaked (a timer, a socket), say
  // what, and end with mocha's own verdict rather than hang CI until its guard.
  setTimeout(() => {
    process.stderr.write(`test run ended but the process lives on; active resources: ${process.getActiveResourcesInfo().join(', ')}\n`);
    process.exit(); // no argument: mocha sets the exit code in its own exit listener
  }, 15_000).unref();
}
