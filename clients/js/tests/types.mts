// Compiled by `tsc --noEmit` (clients/js/tsconfig.json), never run: the
// declarations type the module's usage as README.md shows it.
import {
  LeaseKeeper, LicenseClient, LicenseError, Refused, RetrySchedule, Unavailable, clientKeyText, openReportBuffer,
  parseClientKey, type Authorization, type ClientKey,
} from "../lts-client.mjs";

export async function usage(keyText: string): Promise<void> {
  const key: ClientKey = parseClientKey(keyText);
  const text: string = clientKeyText(key);
  const client = await LicenseClient.fromKey(text, { callDeadlineMs: 5_000, domain: "example.com" });
  const other = new LicenseClient({
    servers: [{ url: "https://a:48080/dls/", sha256: "00".repeat(32) }, { url: "https://b:48081/dls/", ca: "PEM" }],
    handshakeCode: "acme-1",
    clientUUID: "5d2c9e4b-6a1f-4c3d-9e8b-7a6f5e4d3c2b",
    retry: new RetrySchedule({ baseMs: 50, maxMs: 1_000 }),
  });
  try {
    const grant: Authorization = await client.authorize("dbr", { scans: 1 });
    const seconds: number = grant.leaseSeconds;
    const keeper = new LeaseKeeper(other, { onLost: (grantId: string, refusal: Refused) => void [grantId, refusal.code] });
    keeper.keep(grant.grantId, seconds);
    const renewed: number = keeper.renewals.count;
    keeper.close();
    await client.release(grant.grantId);
    const buffer = await openReportBuffer("reports.jsonl");
    const server: string | null = await client.report(3, { buffer, grantId: grant.grantId });
    const { delivered, refused }: { delivered: number; refused: number } = await client.deliverBuffered(buffer);
    void [renewed, server, delivered, refused, client.rememberedServer];
  } catch (error) {
    if (error instanceof Refused) {
      const code: number = error.code;
      const status: number = error.status;
      void [code, status, error.message];
    } else if (error instanceof Unavailable) {
      const lastErrors: Readonly<Record<string, string>> = error.lastErrors;
      const none: null = error.code;
      void [lastErrors, none];
    } else if (error instanceof LicenseError) {
      void error.code;
    }
  }
}
