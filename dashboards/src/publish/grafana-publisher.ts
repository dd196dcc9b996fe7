import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";

/** Where the dashboards go: the folder and the Prometheus data source they read. */
export const GRAFANA_FOLDER = { uid: "blueprint", title: "Blueprint" } as const;
export const AMP_DATASOURCE_UID = "blueprint-amp";

export interface PublishOptions {
  /** The workspace's Grafana, e.g. `https://g-abc.grafana-workspace.eu-west-1.amazonaws.com`. */
  readonly grafanaUrl: string;
  /** A short-lived service-account token (`aws grafana create-workspace-service-account-token`). */
  readonly token: string;
  /** The environment's AMP query endpoint, `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`. */
  readonly prometheusUrl: string;
  readonly region: string;
  readonly dashboards: Readonly<Record<string, Dashboard>>;
  /** Change note on each saved dashboard version, e.g. the commit. */
  readonly message: string;
  readonly fetch?: typeof fetch;
}

export interface PublishReport {
  readonly grafanaVersion: string;
  readonly datasource: "created" | "updated";
  readonly dashboards: ReadonlyArray<{
    readonly uid: string;
    readonly url: string;
    readonly version: number;
  }>;
}

export class GrafanaPublishError extends Error {}

/**
 * Publishes the generated dashboards to a Grafana through its HTTP API: the AMP data source
 * (SigV4 with the workspace's IAM role), the Blueprint folder, then every dashboard, overwriting
 * the previous version. Idempotent: run after each apply.
 */
export async function publishDashboards(options: PublishOptions): Promise<PublishReport> {
  const http = options.fetch ?? fetch;
  const base = options.grafanaUrl.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
    http(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const fail = async (what: string, res: Response): Promise<never> => {
    throw new GrafanaPublishError(`${what}: Grafana answered ${res.status} ${await res.text()}`);
  };

  const health = await call("GET", "/api/health");
  if (!health.ok) await fail(`GET ${base}/api/health`, health);
  const grafanaVersion = String(((await health.json()) as { version?: string }).version ?? "unknown");

  const datasource = {
    uid: AMP_DATASOURCE_UID,
    name: "Amazon Managed Service for Prometheus",
    type: "prometheus",
    access: "proxy",
    url: options.prometheusUrl,
    isDefault: true,
    // The workspace's IAM role signs the queries: no key in Grafana.
    jsonData: {
      httpMethod: "POST",
      sigV4Auth: true,
      sigV4AuthType: "ec2_iam_role",
      sigV4Region: options.region,
    },
  };
  const existing = await call("GET", `/api/datasources/uid/${AMP_DATASOURCE_UID}`);
  let datasourceOutcome: PublishReport["datasource"];
  if (existing.status === 404) {
    const created = await call("POST", "/api/datasources", datasource);
    if (!created.ok) await fail("creating the AMP data source", created);
    datasourceOutcome = "created";
  } else if (existing.ok) {
    const updated = await call("PUT", `/api/datasources/uid/${AMP_DATASOURCE_UID}`, datasource);
    if (!updated.ok) await fail("updating the AMP data source", updated);
    datasourceOutcome = "updated";
  } else {
    return fail("reading the AMP data source", existing);
  }

  const folder = await call("POST", "/api/folders", GRAFANA_FOLDER);
  // 409/412: the folder exists already, which is what we want.
  if (!folder.ok && folder.status !== 409 && folder.status !== 412)
    await fail("creating the Blueprint folder", folder);

  const published: Array<PublishReport["dashboards"][number]> = [];
  for (const [file, dashboard] of Object.entries(options.dashboards)) {
    const res = await call("POST", "/api/dashboards/db", {
      dashboard: { ...dashboard, id: null },
      folderUid: GRAFANA_FOLDER.uid,
      overwrite: true,
      message: options.message,
    });
    if (!res.ok) await fail(`publishing ${file} (uid ${dashboard.uid})`, res);
    const saved = (await res.json()) as { uid: string; url: string; version: number };
    published.push({ uid: saved.uid, url: saved.url, version: saved.version });
  }
  return { grafanaVersion, datasource: datasourceOutcome, dashboards: published };
}
