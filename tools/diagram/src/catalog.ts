import * as catalogModule from "@blueprint/service-kit/catalog";

/** The diagram's view of the service catalog. */
export interface CatalogView {
  readonly services: readonly {
    readonly name: string;
    readonly port: number;
    readonly schema: string;
    readonly produces: readonly string[];
    readonly consumes: readonly string[];
  }[];
  readonly topics: readonly { readonly name: string; readonly partitions: number }[];
}

interface ServiceLike {
  readonly name?: string;
  readonly port: number;
  readonly schema: string;
  readonly produces?: readonly string[];
  readonly consumes?: readonly string[];
}

interface TopicLike {
  readonly name: string;
  readonly partitions: number;
}

/** Topics as an array, or keyed by topic name. */
type TopicsLike = readonly TopicLike[] | Record<string, Omit<TopicLike, "name">>;

/**
 * The one function that knows the shape of `services/service-kit/src/catalog.ts`; adapt it here
 * when the catalog changes. Reads either `CATALOG.services` keyed by service name with
 * `produces`/`consumes` on each entry, or the older `SERVICES` array with `EVENT_FLOW`; topics from
 * `CATALOG.topics` or `TOPICS`.
 */
export function readCatalog(module: Record<string, unknown> = catalogModule): CatalogView {
  const m = module as {
    CATALOG?: { services?: Record<string, ServiceLike>; topics?: TopicsLike };
    SERVICES?: readonly (ServiceLike & { name: string })[];
    EVENT_FLOW?: Record<string, { produces: readonly string[]; consumes: readonly string[] }>;
    TOPICS?: TopicsLike;
  };
  let entries: [string, ServiceLike][];
  if (m.CATALOG?.services) entries = Object.entries(m.CATALOG.services);
  else if (m.SERVICES) entries = m.SERVICES.map((s) => [s.name, s]);
  else throw new Error("the service catalog exports neither CATALOG.services nor SERVICES");
  const topics = m.CATALOG?.topics ?? m.TOPICS;
  if (!topics) throw new Error("the service catalog exports neither CATALOG.topics nor TOPICS");
  return {
    services: entries.map(([name, s]) => ({
      name,
      port: s.port,
      schema: s.schema,
      produces: [...(s.produces ?? m.EVENT_FLOW?.[name]?.produces ?? [])],
      consumes: [...(s.consumes ?? m.EVENT_FLOW?.[name]?.consumes ?? [])],
    })),
    topics: (Array.isArray(topics)
      ? topics
      : Object.entries(topics).map(([name, t]) => ({ ...t, name }))
    ).map((t: TopicLike) => ({ name: t.name, partitions: t.partitions })),
  };
}
