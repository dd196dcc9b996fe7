import { createPool, Database, loadConfig, ServiceMetrics } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, createTestNamespace, serviceEnv } from "../../system-tests/support/environment";
import { publishRaw, TopicRecorder } from "../../system-tests/support/kafka";
import { NotificationRepository } from "../src/data-access/notification-repository";
import { runRedrive } from "../src/redrive/cli";
import { configSchema } from "../src/service";
import { userCreated, welcomeNotification } from "./support/fixtures";

describe("redrive: failed notifications back to pending, dead letters back to their topic", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let env: NodeJS.ProcessEnv;
  let db: Database;

  /** Runs the command as on-call would; returns its exit code and what it printed. */
  const redrive = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRedrive(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err: err.join("\n") };
  };

  beforeAll(async () => {
    [testDb, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    env = serviceEnv("notification", testDb.name, ns.namespace);
    db = new Database(createPool(loadConfig(configSchema, env)), new ServiceMetrics("notification-service"));
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await Promise.all([testDb?.drop(), ns?.drop()]);
  });

  describe("notifications", () => {
    const recorded = async () => {
      const n = welcomeNotification();
      await new NotificationRepository(db).insert(n, db);
      return n;
    };
    const failed = async (failedAt: string) => {
      const { id } = await recorded();
      await db.query(
        `UPDATE notifications SET status = 'failed', attempts = 3, last_error = '550 refused',
                deliver_since = now() - interval '2 days', updated_at = $2 WHERE id = $1`,
        [id, failedAt],
      );
      return id;
    };
    const state = async (id: string) =>
      (
        await db.query<{ status: string; clock_reset: boolean; due: boolean }>(
          `SELECT status, deliver_since > now() - interval '1 minute' AS clock_reset, next_attempt_at <= now() AS due
             FROM notifications WHERE id = $1`,
          [id],
        )
      ).rows[0];

    it("When on-call redrives failed notifications since a time, then those failed since are pending again with a fresh clock, and the count is printed", async () => {
      const recent = await failed(new Date(Date.now() - 10 * 60_000).toISOString());
      const old = await failed(new Date(Date.now() - 5 * 3_600_000).toISOString());
      const since = new Date(Date.now() - 3_600_000).toISOString();

      expect(await redrive("notifications", "--status", "failed", "--since", since)).toEqual({
        code: 0,
        out: [`moved 1 failed notifications failed at or after ${since} back to pending`],
        err: "",
      });
      expect(await state(recent)).toEqual({ status: "pending", clock_reset: true, due: true });
      expect(await state(old)).toMatchObject({ status: "failed" });

      expect((await redrive("notifications", "--status", "failed")).out).toEqual([
        "moved 1 failed notifications back to pending",
      ]);
      expect(await state(old)).toEqual({ status: "pending", clock_reset: true, due: true });
    });

    it("When the command line is wrong, then it exits 2 naming the problem and changes nothing", async () => {
      const id = await failed(new Date().toISOString());
      const cases: Array<[string[], RegExp]> = [
        [[], /missing subcommand/],
        [["notifs"], /unknown subcommand "notifs"/],
        [["notifications"], /--status is required/],
        [["notifications", "--status", "sent"], /only failed notifications are redriven \(got "sent"\)/],
        [
          ["notifications", "--status", "failed", "--since", "yesterday"],
          /--since: expected an ISO 8601 time .*"yesterday"/,
        ],
        [
          ["notifications", "--status", "failed", "--sinse", "2026-01-01T00:00:00Z"],
          /Unknown option '--sinse'/,
        ],
        [["dlt"], /--topic is required/],
        [
          ["dlt", "--topic", "user.created"],
          /unknown dead-letter topic "user.created" \(known: user.created.dlt, order.processed.dlt\)/,
        ],
      ];
      for (const [argv, message] of cases) {
        const result = await redrive(...argv);
        expect({ argv, code: result.code, out: result.out }).toEqual({ argv, code: 2, out: [] });
        expect(result.err).toMatch(message);
        expect(result.err).toMatch(/usage:/);
      }
      expect(await state(id)).toMatchObject({ status: "failed" });
    });
  });

  describe("dlt", () => {
    it("When on-call redrives user.created.dlt, then valid dead letters are republished once with their key and headers, an invalid one stops the run until skipped, and a dry run changes nothing", async () => {
      const users = ["Ada", "Grace", "Edsger"].map(userCreated);
      const deadLetter = (key: string, value: string) => ({
        key,
        value,
        headers: {
          "event-type": "user.created",
          "x-request-id": `req-${key}`,
          "dlt-error": "order-service could not reach its database",
          "dlt-consumer-group": "order-service",
          "dlt-original-topic": "user.created",
        },
      });
      const valid = users.map((u) => deadLetter(u.user_id, JSON.stringify(u)));
      // The third dead letter breaks the contract.
      const letters = [...valid.slice(0, 2), deadLetter("broken", "{not json"), ...valid.slice(2)];
      await publishRaw(`${ns.namespace}user.created.dlt`, letters);
      const recorder = new TopicRecorder([`${ns.namespace}user.created`]);
      await recorder.start();
      try {
        const dry = await redrive("dlt", "--topic", "user.created.dlt", "--dry-run", "--skip-invalid");
        expect(dry.code).toBe(0);
        expect(dry.out).toEqual([
          expect.stringMatching(
            /^would republish offset 0 key .* \(order-service: order-service could not reach its database\) to user.created$/,
          ),
          expect.stringMatching(/^would republish offset 1 /),
          expect.stringMatching(/^would skip offset 2 key broken .*: message value is not valid JSON$/),
          expect.stringMatching(/^would republish offset 3 /),
          "dry run: would republish 3 dead letters of user.created.dlt to user.created, skip 1",
        ]);

        expect((await redrive("dlt", "--topic", "user.created.dlt", "--dry-run")).out).toEqual([
          expect.stringMatching(/^would republish offset 0 /),
          expect.stringMatching(/^would republish offset 1 /),
          expect.stringMatching(/^would stop at offset 2 key broken .*: message value is not valid JSON$/),
          "dry run: would republish 2 dead letters of user.created.dlt to user.created, skip 0, then stop at offset 2",
        ]);

        const stopped = await redrive("dlt", "--topic", "user.created.dlt");
        expect(stopped.code).toBe(1);
        expect(stopped.err).toMatch(/offset 2 breaks its contract.*not valid JSON.*--skip-invalid/);
        expect(stopped.out).toHaveLength(2);

        const rest = await redrive("dlt", "--topic", "user.created.dlt", "--skip-invalid");
        expect(rest.code).toBe(0);
        expect(rest.out.at(-1)).toBe(
          "republished 1 dead letters of user.created.dlt to user.created, skipped 1",
        );
        expect(await redrive("dlt", "--topic", "user.created.dlt")).toEqual({
          code: 0,
          out: ["nothing to redrive: every dead letter of user.created.dlt was redriven before"],
          err: "",
        });

        const republished = await recorder.waitFor(`${ns.namespace}user.created`, 3);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(recorder.on(`${ns.namespace}user.created`)).toHaveLength(3);
        expect(republished.map((m) => ({ key: m.key, value: m.value, headers: m.headers }))).toEqual(
          expect.arrayContaining(
            valid.map((m) => ({
              key: m.key,
              value: m.value,
              headers: { "event-type": "user.created", "x-request-id": `req-${m.key}` },
            })),
          ),
        );
      } finally {
        await recorder.stop();
      }
    }, 90_000);
  });
});
