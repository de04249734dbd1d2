/**
 * The validated configuration the composition root (server.ts) starts from. Its home is below the
 * CLI, which reads the environment into it (cli/config.ts `loadConfig`): a library user builds one
 * by hand, or with `loadConfig` from the CLI, and hands it to `startCertgate`.
 */

/**
 * Everything `startCertgate` needs, validated: each field is one variable of the contract.
 *
 * @example
 * import { type Config, startCertgate } from "certgate";
 * const config: Config = {
 *   mode: "production",
 *   port: 3000,
 *   host: "0.0.0.0",
 *   databaseUrl: "postgres://certgate@db/certgate",
 *   secret: process.env.CERTGATE_SECRET,
 *   previousSecrets: [],
 *   apiKeys: [process.env.CERTGATE_API_KEY ?? ""],
 *   returnOrigins: ["https://shop.example"],
 *   publicUrl: "https://verify.shop.example",
 *   portone: {
 *     impCode: "imp12345678",
 *     apiKey: process.env.PORTONE_API_KEY,
 *     apiSecret: process.env.PORTONE_API_SECRET,
 *     apiUrl: "https://api.iamport.kr",
 *     v2ApiSecret: undefined,
 *     storeId: undefined,
 *     v2ApiUrl: "https://api.portone.io",
 *     channelKey: undefined,
 *   },
 *   deleteUpstreamAfterCompletion: true,
 *   demo: false,
 *   retentionDays: 30,
 *   webhookUrl: undefined,
 *   webhookSecret: undefined,
 *   dataDir: "./data",
 * };
 * const certgate = await startCertgate(config, { logger });
 */
export interface Config {
  mode: "sandbox" | "production";
  port: number;
  host: string;
  /** SQLite path or postgres:// URL. */
  databaseUrl: string;
  /** Absent in sandbox mode: the server generates one under ./data/. */
  secret: string | undefined;
  previousSecrets: string[];
  apiKeys: string[];
  returnOrigins: string[];
  publicUrl: string | undefined;
  portone: {
    impCode: string | undefined;
    apiKey: string | undefined;
    apiSecret: string | undefined;
    apiUrl: string;
    v2ApiSecret: string | undefined;
    storeId: string | undefined;
    v2ApiUrl: string;
    channelKey: string | undefined;
  };
  deleteUpstreamAfterCompletion: boolean;
  /** Serve the demo page outside sandbox mode too (it loads PortOne's real SDK). */
  demo: boolean;
  /** Days a verified identity's personal fields are kept (PIPA art. 21). Default 30. */
  retentionDays: number;
  /**
   * How often the expiry sweeper, V2 recovery and owed upstream deletions run, ms
   * (CERTGATE_RECOVERY_INTERVAL_MS); 0 turns them off on this instance. Default 5,000.
   */
  recoveryIntervalMs?: number | undefined;
  webhookUrl: string | undefined;
  /** Signs webhook deliveries (Standard Webhooks `whsec_…` or any string of 24+ characters). */
  webhookSecret: string | undefined;
  dataDir: string;
}
