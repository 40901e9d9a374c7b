/**
 * A library module's own exports, loaded afresh even when a patch (src/patches/) replaced the cached module: what
 * the patch tests compare the patched code with. The cached (patched) module is put back afterwards.
 */
export function unpatchedModule<T>(resolvedPath: string): T {
  const cached = require.cache[resolvedPath];
  delete require.cache[resolvedPath];
  try {
    return require(resolvedPath) as T;
  } finally {
    if (cached) require.cache[resolvedPath] = cached;
  }
}
