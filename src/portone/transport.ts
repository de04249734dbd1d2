/**
 * One HTTP exchange (request, status, whole body) bounded by a timeout, for portone/http.ts. Two
 * transports, one contract:
 *
 * - `nodeExchange` (portone/node-transport.ts; the default of the `certgate` entry and the service,
 *   installed with {@link setDefaultExchange}): `node:http` / `node:https` through one keep-alive agent per
 *   protocol, shared by every client in the process. A lookup costs about a third of the CPU of
 *   global `fetch` (no Request/Response objects, no web streams, no AbortSignal); free sockets are
 *   closed after {@link FREE_SOCKET_TIMEOUT_MS}, before a server's usual 5 s keep-alive timeout, so
 *   a request is rarely written to a socket the server is closing (and an idempotent one that is,
 *   is retried by http.ts).
 * - `fetchExchange`: a caller's `fetch` (the in-process emulator, a test double, a proxying fetch),
 *   and the global `fetch` where no default is installed: `certgate/portone` imports no Node
 *   module, so it loads on any runtime with `fetch` (edge workers included).
 *
 * The timeout covers the response headers AND the body. It is one `setTimeout` per attempt, which
 * Node keeps in one list per duration (one libuv timer for all attempts of one client), cleared as
 * the answer is complete. Redirects are never followed: PortOne sends none, and following one could
 * carry the token elsewhere.
 */

export type Exchange =
  | { kind: "answered"; status: number; text: string }
  | { kind: "timeout"; status: number | undefined }
  | { kind: "network"; status: number | undefined; cause: unknown }
  | { kind: "too_large"; status: number };

/**
 * The longest body read from PortOne, in bytes. Its answers are a few kilobytes; a body far larger
 * is not PortOne's (a proxy's page, a fault), and held whole it could take the process down (a
 * string past V8's limit throws where nothing catches it) or its memory. Reading stops there and
 * the call fails as an invalid response.
 */
export const MAX_RESPONSE_BYTES = 1_048_576;

export interface ExchangeRequest {
  method: "GET" | "POST" | "DELETE";
  /** Path below the origin, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

/** Sends one request to the client's base URL; never rejects. */
export type Exchanger = (request: ExchangeRequest, timeoutMs: number) => Promise<Exchange>;

let installed: ((baseUrl: string) => Exchanger) | undefined;

/**
 * Installs the transport a client given no `fetch` uses. The `certgate` entry and `startCertgate`
 * install `nodeExchange`; `certgate/portone` alone keeps the global `fetch`.
 */
export function setDefaultExchange(factory: (baseUrl: string) => Exchanger): void {
  installed = factory;
}

/** The transport of a client given no `fetch`: the installed one, else the global `fetch`. */
export function defaultExchange(baseUrl: string): Exchanger {
  return installed === undefined
    ? fetchExchange(baseUrl, (input, init) => fetch(input, init))
    : installed(baseUrl);
}

const TIMED_OUT = Symbol("timed out");

/** A caller's `fetch` to `baseUrl`, bounded by the timeout even if `fetch` ignores the abort signal. */
export function fetchExchange(baseUrl: string, fetchFn: typeof fetch): Exchanger {
  return async (req, timeoutMs) => {
    const url = `${baseUrl}${req.path}`;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let expired = false;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        expired = true;
        resolve(TIMED_OUT);
        controller.abort(new DOMException("PortOne request timed out", "TimeoutError"));
      }, timeoutMs);
    });
    const init: RequestInit = {
      method: req.method,
      headers: req.headers,
      signal: controller.signal,
      redirect: "manual",
    };
    if (req.body !== undefined) init.body = req.body;
    let status: number | undefined;
    try {
      const fetched = fetchFn(url, init);
      // When the timer wins, the losing promise may still reject later: handled, not leaked.
      fetched.catch(() => {});
      const response = await Promise.race([fetched, timedOut]);
      if (response === TIMED_OUT) return { kind: "timeout", status };
      status = response.status;
      const reading = readCapped(response);
      reading.catch(() => {});
      const text = await Promise.race([reading, timedOut]);
      if (text === TIMED_OUT) return { kind: "timeout", status };
      if (text === undefined) {
        controller.abort();
        return { kind: "too_large", status };
      }
      return { kind: "answered", status, text };
    } catch (cause) {
      // The abort makes fetch reject too; whichever settles first, it was the timeout.
      if (expired) return { kind: "timeout", status };
      return { kind: "network", status, cause };
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The body of `response` as UTF-8 text, or undefined once it passes {@link MAX_RESPONSE_BYTES}. A
 * caller's `fetch` may not be the platform's: node-fetch's body is a Node stream (read as an async
 * iterable), a test double may have `text()` alone (read whole, then measured).
 */
async function readCapped(response: Response): Promise<string | undefined> {
  const whole = async () => {
    const text = await response.text();
    return new TextEncoder().encode(text).byteLength > MAX_RESPONSE_BYTES ? undefined : text;
  };
  const body: unknown = response.body;
  if (body === null || body === undefined) return whole();
  const chunks: Uint8Array[] = [];
  let length = 0;
  const take = (chunk: unknown): boolean => {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    length += bytes.byteLength;
    if (length > MAX_RESPONSE_BYTES) return false;
    chunks.push(bytes);
    return true;
  };
  if (typeof (body as ReadableStream<Uint8Array>).getReader === "function") {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!take(value)) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
    }
  } else if (Symbol.asyncIterator in (body as object)) {
    for await (const chunk of body as AsyncIterable<unknown>) {
      if (!take(chunk)) {
        (body as { destroy?: () => void }).destroy?.();
        return undefined;
      }
    }
  } else {
    return whole();
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
