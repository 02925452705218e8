/** The runtime's get-or-make helpers: a Map's (for caches that live a sandbox, a batch or an invocation) and a lazy load's. */

/** The value under `key` in `cache`, made by `make` (and kept) the first time. */
export function remembered<Key, Value>(cache: Map<Key, Value>, key: Key, make: () => Value): Value {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as Value;
}

/**
 * `load`, called on first use and its result kept for the sandbox's life; a load that fails is forgotten, so the next
 * use tries again (Node retries a failed `import()`; a kept rejection would fail every later call of the sandbox).
 */
export function loadedOnce<Value>(load: () => Promise<Value>): () => Promise<Value> {
  let loaded: Promise<Value> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));
}
