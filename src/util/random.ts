/**
 * The process's one pool of CSPRNG bytes, shared by the store (IVs, person ids, event ids) and the
 * service (verification and bound ids). Below every layer that draws from it, and no part of the
 * core, which does no IO.
 */
import { randomFillSync } from "node:crypto";

const RANDOM_POOL_BYTES = 4096;
const randomPool = Buffer.alloc(RANDOM_POOL_BYTES);
let randomPoolOffset = RANDOM_POOL_BYTES;

/**
 * `size` bytes from the CSPRNG, drawn from a pool refilled 4 KiB at a time (as Node does for
 * `randomUUID`): one `getrandom` per ~300 draws instead of one per IV or id, which the benchmark's
 * profile showed at 5 % of a completion. Each result is a copy, so a refill never changes it.
 */
export function secureRandomBytes(size: number): Buffer {
  if (size > RANDOM_POOL_BYTES) return randomFillSync(Buffer.alloc(size));
  if (randomPoolOffset + size > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const bytes = Buffer.from(randomPool.subarray(randomPoolOffset, randomPoolOffset + size));
  // The bytes handed out are wiped from the pool: nothing read later can reveal them.
  randomPool.fill(0, randomPoolOffset, randomPoolOffset + size);
  randomPoolOffset += size;
  return bytes;
}
