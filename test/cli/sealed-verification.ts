/**
 * A verified V1 verification stored under `secret` straight through the store, with an identity
 * and a person key of obviously fake values: sealed data for the key-rotation and changed-secret
 * tests of the `certgate` command.
 */
import { createKeyring } from "../../src/store/crypto.js";
import { openStore } from "../../src/store/index.js";

export async function storeSealedVerification(databaseUrl: string, secret: string, tag: string) {
  const store = await openStore({ databaseUrl, keyring: createKeyring({ secret }) });
  try {
    const v = await store.createVerification({
      id: `ver_${tag}_1`,
      apiVersion: "v1",
      boundId: `mid_${tag}_1`,
      policy: {
        freshnessSeconds: 600,
        futureToleranceSeconds: 60,
        judgeAgeAt: "verification",
        requirePersonKey: true,
      },
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });
    await store.completeVerification({
      verificationId: v.id,
      upstreamId: `imp_${tag}_1`,
      decision: {
        ok: true,
        identity: { name: "김테스트", phone: "01000000001", provider: "danal", source: "v1" },
        personKey: { kind: "ci", value: `TEST-CI-${tag.toUpperCase()}`.padEnd(88, "0") },
      },
      now: new Date(),
    });
    return v;
  } finally {
    await store.close();
  }
}
