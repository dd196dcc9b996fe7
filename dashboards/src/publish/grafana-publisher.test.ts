import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { dashboards } from "../grafana/dashboards";
import { AMP_DATASOURCE_UID, GrafanaPublishError, publishDashboards } from "./grafana-publisher";

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly authorization?: string;
  readonly body?: Record<string, unknown>;
}

/**
 * A fake Grafana speaking the parts of the HTTP API the publisher uses, with Grafana's status
 * codes: 404 for an unknown data source, 409 for an existing folder, 412 for a bad dashboard.
 */
async function fakeGrafana(state: { datasource?: boolean; folder?: boolean; rejectUid?: string } = {}) {
  const requests: Recorded[] = [];
  const versions = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => {
      raw += c;
    });
    req.on("end", () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        authorization: req.headers.authorization,
        body,
      });
      const send = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (req.headers.authorization !== "Bearer glsa_test") return send(401, { message: "Unauthorized" });
      const route = `${req.method} ${req.url}`;
      if (route === "GET /api/health") return send(200, { database: "ok", version: "12.4.0" });
      if (route === `GET /api/datasources/uid/${AMP_DATASOURCE_UID}`)
        return state.datasource
          ? send(200, { uid: AMP_DATASOURCE_UID })
          : send(404, { message: "not found" });
      if (route === "POST /api/datasources") {
        state.datasource = true;
        return send(200, { message: "Datasource added" });
      }
      if (route === `PUT /api/datasources/uid/${AMP_DATASOURCE_UID}`)
        return send(200, { message: "updated" });
      if (route === "POST /api/folders") {
        if (state.folder) return send(409, { message: "a folder with the same name already exists" });
        state.folder = true;
        return send(200, { uid: "blueprint" });
      }
      if (route === "POST /api/dashboards/db") {
        const uid = String((body?.dashboard as { uid?: string } | undefined)?.uid);
        if (uid === state.rejectUid)
          return send(412, { status: "version-mismatch", message: "bad dashboard" });
        const version = (versions.get(uid) ?? 0) + 1;
        versions.set(uid, version);
        return send(200, { uid, url: `/d/${uid}`, version, status: "success" });
      }
      return send(404, { message: `no route ${route}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const all = dashboards();
const options = (grafanaUrl: string) => ({
  grafanaUrl,
  token: "glsa_test",
  prometheusUrl: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-123/",
  region: "eu-west-1",
  dashboards: all,
  message: "commit abc123",
});

describe("publishing dashboards to Managed Grafana", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  it("When a new workspace receives the dashboards, then the AMP data source (SigV4), the folder and every dashboard are created with the token", async () => {
    const grafana = await fakeGrafana();
    close = grafana.close;
    const report = await publishDashboards(options(grafana.url));
    expect(report.grafanaVersion).toBe("12.4.0");
    expect(report.datasource).toBe("created");
    expect(report.dashboards.map((d) => d.uid).sort()).toEqual(
      Object.values(all)
        .map((d) => d.uid)
        .sort(),
    );
    expect(grafana.requests.every((r) => r.authorization === "Bearer glsa_test")).toBe(true);
    const created = grafana.requests.find((r) => r.method === "POST" && r.path === "/api/datasources");
    expect(created?.body).toMatchObject({
      uid: AMP_DATASOURCE_UID,
      type: "prometheus",
      url: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-123/",
      jsonData: { sigV4Auth: true, sigV4Region: "eu-west-1" },
    });
    const posted = grafana.requests.filter((r) => r.path === "/api/dashboards/db");
    for (const p of posted)
      expect(p.body).toMatchObject({ folderUid: "blueprint", overwrite: true, dashboard: { id: null } });
  });

  it("When the workspace already has them, then the data source is updated, the existing folder accepted and each dashboard saved as a new version", async () => {
    const grafana = await fakeGrafana({ datasource: true, folder: true });
    close = grafana.close;
    await publishDashboards(options(grafana.url));
    const again = await publishDashboards(options(grafana.url));
    expect(again.datasource).toBe("updated");
    expect(new Set(again.dashboards.map((d) => d.version))).toEqual(new Set([2]));
  });

  it("When Grafana rejects a dashboard, then publishing stops with an error naming the file and Grafana's answer", async () => {
    const grafana = await fakeGrafana({ rejectUid: "blueprint-platform" });
    close = grafana.close;
    await expect(publishDashboards(options(grafana.url))).rejects.toThrow(
      new GrafanaPublishError(
        'publishing blueprint-platform.json (uid blueprint-platform): Grafana answered 412 {"status":"version-mismatch","message":"bad dashboard"}',
      ),
    );
  });

  it("When the token is refused, then the error says so before anything is written", async () => {
    const grafana = await fakeGrafana();
    close = grafana.close;
    await expect(publishDashboards({ ...options(grafana.url), token: "expired" })).rejects.toThrow(
      /GET .*\/api\/health: Grafana answered 401/,
    );
    expect(grafana.requests.map((r) => r.method)).toEqual(["GET"]);
  });
});
