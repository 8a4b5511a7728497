let draining = false;

/** Called once on SIGTERM/SIGINT: readiness answers 503 from then on. */
export function markDraining(): void {
  draining = true;
}

export function isDraining(): boolean {
  return draining;
}
