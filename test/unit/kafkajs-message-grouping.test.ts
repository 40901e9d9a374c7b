import assert from 'node:assert/strict';
import { groupMessagesPerPartition, installLinearMessageGrouping } from '../../src/patches/kafkajs-message-grouping';
import { unpatchedModule } from '../helpers/unpatched-module';

type Grouping = typeof groupMessagesPerPartition;

const GROUPING_MODULE = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');


describe('kafkajs message grouping patch', () => {
  const own = unpatchedModule<Grouping>(GROUPING_MODULE);

  let seed = 20261205;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const int = (below: number): number => Math.floor(random() * below);

  it('groups exactly as kafkajs does, on 500 random requests', () => {
    assert.notEqual(own, groupMessagesPerPartition, 'the comparison needs kafkajs own grouping');
    for (let round = 0; round < 500; round++) {
      const partitions = int(12) + 1;
      const partitionMetadata = random() < 0.03 ? [] : Array.from({ length: partitions }, (_, partitionId) => ({ partitionId }));
      const messages = Array.from({ length: int(300) }, (_, i) => ({ i, partition: random() < 0.8 ? int(partitions) : null }));
      // As kafkajs' partitioners do: the message's own partition when it names one, otherwise one chosen here
      // (and now and then a negative one, to compare how both order keys that are not array indexes).
      const partitioner = ({ message }: { message: { partition?: number | null } }): number => message.partition ?? (random() < 0.1 ? -1 : int(partitions));
      // The same partitioner answers for both: replay its choices for the second grouping.
      const choices: number[] = [];
      const recording = (args: { message: { partition?: number | null } }): number => {
        const chosen = partitioner(args);
        choices.push(chosen);
        return chosen;
      };
      const expected = own({ topic: 't', partitionMetadata, messages, partitioner: recording });
      let next = 0;
      const actual = groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner: () => choices[next++]! });
      assert.deepEqual(Object.keys(actual), Object.keys(expected), `round ${round}: the same partitions in the same order`);
      for (const key of Object.keys(expected)) {
        assert.deepEqual(actual[key], expected[key], `round ${round}, partition ${key}: the same messages in the same order`);
        assert.ok(actual[key]!.every((message, i) => message === expected[key]![i]), `round ${round}, partition ${key}: the messages themselves, not copies`);
      }
    }
  });

  it('is what kafkajs uses in this process (installed before kafkajs was loaded)', () => {
    assert.equal(installLinearMessageGrouping(), 'patched');
    assert.equal(require(GROUPING_MODULE), groupMessagesPerPartition);
  });
});
