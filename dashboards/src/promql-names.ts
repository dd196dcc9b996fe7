import { parser } from "@prometheus-io/lezer-promql";

/**
 * Names of the series a PromQL expression reads: the metric names of its vector selectors, parsed
 * with Prometheus' own PromQL grammar (the parser of its web UI). Throws on an expression that does
 * not parse, naming where, so a typo cannot hide a series from the checks that use this.
 */
export function seriesNames(expr: string): string[] {
  const names = new Set<string>();
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector")
        names.add(expr.slice(node.from, node.to));
    },
  });
  const [at] = errors;
  if (at !== undefined)
    throw new Error(
      `PromQL does not parse at character ${at}: ${expr.slice(0, at)} <here> ${expr.slice(at)}`,
    );
  return [...names];
}
