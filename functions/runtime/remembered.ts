/** The one get-or-make of a Map the runtime uses (for caches that live a sandbox, a batch or an invocation). */

/** The value under `key` in `cache`, made by `make` (and kept) the first time. */
export function remembered<Key, Value>(cache: Map<Key, Value>, key: Key, make: () => Value): Value {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as Value;
}
