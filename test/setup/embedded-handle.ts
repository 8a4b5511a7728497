// globalSetup and globalTeardown run in the same process: the embedded server is handed over here.
interface EmbeddedHandle {
  stop: () => Promise<void>;
  dir: string;
}

const KEY = Symbol.for('customer-api.test.embedded');

export function setEmbeddedForTeardown(handle: EmbeddedHandle): void {
  (globalThis as Record<symbol, unknown>)[KEY] = handle;
}

export function takeEmbeddedForTeardown(): EmbeddedHandle | undefined {
  const handle = (globalThis as Record<symbol, unknown>)[KEY] as EmbeddedHandle | undefined;
  delete (globalThis as Record<symbol, unknown>)[KEY];
  return handle;
}
