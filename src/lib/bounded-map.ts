/**
 * Sets `key` in a cache bounded to `max` entries: the entry goes last (newest), and when the map is full
 * the oldest entry makes room. A flood of distinct keys (tokens, sessions, API key ids) cannot grow
 * such a cache without limit.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}
