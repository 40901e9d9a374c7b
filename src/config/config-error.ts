import { BitacoraError } from '../errors/bitacora-error';

/** A configuration value that cannot be used (CONFIG_INVALID); the message names the variable and what it accepts. */
export class ConfigError extends BitacoraError<'CONFIG_INVALID'> {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super('CONFIG_INVALID', message, { variable });
  }
}
