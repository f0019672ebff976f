// Plain objects keyed by names users choose (views, columns, tags). `record[name]` would also find what
// every object inherits (`constructor`, `toString`, `__proto__`, ...), so such a name must be looked up
// as an own property only.

/** The value stored under `key` in `record` itself; undefined when only Object.prototype has it. */
export function ownValue<T>(record: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return record !== null && record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Whether `record` itself holds `key` (the own-property form of `key in record`). */
export function hasOwnKey(record: object | null | undefined, key: string): boolean {
  return record !== null && record !== undefined && Object.hasOwn(record, key);
}
