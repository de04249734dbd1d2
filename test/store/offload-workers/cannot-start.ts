/**
 * A store worker that cannot start: it fails as it loads, before it is ready, as a worker whose
 * module or driver is missing would. For test/store/sqlite-offload.test.ts.
 */
throw new Error("this worker cannot start");

export {};
