/** Per-route request counters, shared by V1 and V2: the fault middleware counts each request. */

export interface RequestStats<R extends string> {
  count(route: R): void;
  snapshot(): Record<R, number>;
  reset(): void;
}

/** Per-route counters of arriving requests (faulted ones included). */
export function createRequestStats<R extends string>(routes: readonly R[]): RequestStats<R> {
  const zero = () => Object.fromEntries(routes.map((route) => [route, 0])) as Record<R, number>;
  let counts = zero();
  return {
    count(route) {
      counts[route] += 1;
    },
    snapshot: () => ({ ...counts }),
    reset() {
      counts = zero();
    },
  };
}
