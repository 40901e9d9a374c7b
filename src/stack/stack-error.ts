import { BitacoraError } from '../errors/bitacora-error';

/** Why the local Kafka/ZooKeeper stack could not do what was asked; a closed set, in the catalogue (src/errors/error-codes.ts). */
export const STACK_ERROR_CODES = [
  'JAVA_NOT_FOUND',
  'MAVEN_NOT_FOUND',
  'KAFKA_RESOLVE_FAILED',
  'PORT_IN_USE',
  'ALREADY_RUNNING',
  'PROCESS_EXITED',
  'START_TIMEOUT',
  'FORMAT_FAILED',
  'STORAGE_MISMATCH',
  'STOP_FAILED',
] as const;
export type StackErrorCode = (typeof STACK_ERROR_CODES)[number];

/** A stack failure whose message says what to install, free or look at. */
export class StackError extends BitacoraError<StackErrorCode> {
  override name = 'StackError';
  constructor(code: StackErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, {}, options);
  }
}
