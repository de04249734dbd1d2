/**
 * What the SQLite store's worker thread (worker.ts) and the thread that hands it work (offload.ts)
 * say to each other: a call of one {@link Store} method, and its answer — the method's value, or
 * the error it threw. Values cross by structured clone (records, Dates and all); errors do not keep
 * their class that way, so they cross as {@link WireError} and are built again on this side as the
 * same certgate error (a `StoreError` stays a `StoreError` with its code, and so on).
 */
import { DuplicateIdError, StoreError, type StoreErrorCode } from "../../core/errors.js";
import type { Store } from "../../core/store.js";

/** The store methods a worker runs: all but `dialect` (a value), `migrate` and `close`. */
export type WorkerMethod = Exclude<keyof Store, "dialect" | "migrate" | "close">;

/** Main thread → worker: run `method` with `args`, or close the store and exit. */
export type WorkerRequest =
  | { id: number; method: WorkerMethod; args: unknown[] }
  | { id: number; method: "close"; args: [] };

/** Worker → main thread: the worker's store is open, or the answer to request `id`. */
export type WorkerMessage =
  | { ready: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError };

/** An error as it crosses: its class by name and the fields that class carries. */
export interface WireError {
  name: string;
  message: string;
  code?: string | undefined;
  dialect?: "sqlite" | "postgres" | undefined;
  driverCode?: string | undefined;
}

/** `error` as it crosses to the other thread. */
export function toWire(error: unknown): WireError {
  if (error instanceof StoreError) {
    const { name, message, code, dialect, driverCode } = error;
    return { name, message, code, dialect, driverCode };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** The error `wire` describes, built again as its class where certgate has it. */
export function fromWire(wire: WireError): Error {
  switch (wire.name) {
    case "StoreError":
      return new StoreError(wire.code as StoreErrorCode, {
        dialect: wire.dialect ?? "sqlite",
        driverCode: wire.driverCode,
      });
    case "DuplicateIdError":
      return new DuplicateIdError();
    case "TypeError":
      return new TypeError(wire.message);
    case "RangeError":
      return new RangeError(wire.message);
    default:
      return new Error(wire.message);
  }
}
