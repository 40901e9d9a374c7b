/** The kafkajs version this patch was written for and checked against (test/unit/patches.test.ts). */
export const KAFKAJS_MESSAGE_GROUPING_PATCHED_VERSION = '2.2.4';

/**
 * kafkajs' producer groups a request's messages by partition (producer/groupMessagesPerPartition.js) by copying
 * the partition's array into a new one for every message it adds: quadratic in the messages a request carries to
 * one partition. A node sends every write queued while the previous request was out in one request, so that is
 * tens of records at 64 connections (2.2 % of the node's thread on acknowledged SETs, profiled) and hundreds with
 * pipelined clients. This puts a linear grouping with the same result in its place: an object from partition to
 * that partition's messages in their order (test/unit/kafkajs-message-grouping.test.ts compares the two).
 *
 * kafkajs' sendMessages.js requires the grouping once, when kafkajs itself is first loaded, and keeps it: so the
 * patch must be in require's cache before anything requires kafkajs. The CLI's entry point and the tests' root
 * hooks import this module first, and importing it installs it. Installed after kafkajs was loaded, it reports
 * 'too-late' and kafkajs keeps its own grouping (the same groups, slower).
 */

interface Message {
  readonly partition?: number | null;
}

interface GroupingArgs {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly Message[];
  readonly partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: Message }) => number;
}

type Grouping = (args: GroupingArgs) => Record<string, Message[]>;

const GROUPING_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';
const SEND_MESSAGES_MODULE = 'kafkajs/src/producer/sendMessages.js';

/** kafkajs' grouping, in one pass: each message appended to its partition's array. */
export const groupMessagesPerPartition: Grouping = ({ topic, partitionMetadata, messages, partitioner }) => {
  const groups: Record<string, Message[]> = {};
  if (partitionMetadata.length === 0) return groups;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const group = groups[partition];
    if (group) group.push(message);
    else groups[partition] = [message];
  }
  return groups;
};

let installed: 'patched' | 'too-late' | undefined;

/** Puts the linear grouping in require's cache; 'too-late' when kafkajs' producer was loaded already. */
export function installLinearMessageGrouping(): 'patched' | 'too-late' {
  if (installed) return installed;
  if (require.cache[require.resolve(SEND_MESSAGES_MODULE)]) return (installed = 'too-late');
  const path = require.resolve(GROUPING_MODULE);
  require(path);
  const cached = require.cache[path];
  if (!cached) return (installed = 'too-late');
  cached.exports = groupMessagesPerPartition;
  return (installed = 'patched');
}

installLinearMessageGrouping();
