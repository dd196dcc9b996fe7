import { randomUUID } from "node:crypto";
import http from "node:http";
import { Pool } from "pg";

/*
 * The benchmark's yardstick: bare `node:http` and `pg`, no framework, no auth, no audit, no logs,
 * no metrics, no relay. POST /users parses the body and writes the user and its outbox row in one
 * statement, as user-service does, into the same tables. `ours / reference` in the same run says
 * what the kit costs per request, whatever else the machine is doing. Run as its own process so
 * that its CPU and memory are measured apart; reads the service's PG* variables and PORT.
 */
const SQL = `WITH created AS (
  INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id
), queued AS (
  INSERT INTO outbox (event_id, topic, message_key, payload, headers) VALUES ($5, 'user.created', $1, $6, $7)
)
SELECT id FROM created`;

const pool = new Pool({ max: Number(process.env.PG_POOL_MAX ?? 10) });

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function createUser(body: string): Promise<[number, unknown]> {
  const input = JSON.parse(body) as { email?: unknown; name?: unknown };
  if (typeof input.email !== "string" || typeof input.name !== "string") return [400, { error: "invalid" }];
  const id = randomUUID();
  const createdAt = new Date().toISOString();
  const user = { id, email: input.email.toLowerCase(), name: input.name, created_at: createdAt };
  const eventId = randomUUID();
  const event = {
    event_id: eventId,
    event_type: "user.created",
    version: 1,
    occurred_at: createdAt,
    ...{ user_id: id, email: user.email, name: user.name, created_at: createdAt },
  };
  const headers = {
    "content-type": "application/json",
    "event-type": "user.created",
    "event-id": eventId,
    "event-version": "1",
  };
  await pool.query(SQL, [
    id,
    user.email,
    user.name,
    createdAt,
    eventId,
    JSON.stringify(event),
    JSON.stringify(headers),
  ]);
  return [201, user];
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/users") {
    reply(res, 404, { error: "not found" });
    return;
  }
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => {
    body += chunk;
  });
  req.on("end", () => {
    createUser(body).then(
      ([status, payload]) => reply(res, status, payload),
      () => reply(res, 500, { error: "failed" }),
    );
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("listening\n"));
process.once("SIGTERM", () => server.close(() => pool.end().then(() => process.exit(0))));
