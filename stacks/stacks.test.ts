import { App, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, selectEnvironments } from "../environments";
import { buildStacks } from "./app";

type SynthJson = {
  terraform: { backend: { s3: Record<string, unknown> } };
  provider: {
    aws: Array<{ default_tags: Array<{ tags: Record<string, string> }>; allowed_account_ids: string[] }>;
  };
  resource: Record<string, Record<string, Record<string, unknown>>>;
};

function synthesize(envNames?: string): Map<string, SynthJson> {
  const app = buildStacks(Testing.app(), selectEnvironments(envNames));
  const stacks = new Map<string, SynthJson>();
  for (const stack of app.node.children) {
    stacks.set(stack.node.id, JSON.parse(Testing.synth(stack as never)) as SynthJson);
  }
  return stacks;
}

describe("stacks", () => {
  const stacks = synthesize();

  it.each(ENVIRONMENTS.map((e) => e.name))(
    "When %s is synthesized, then its network stack holds the VPC",
    (name) => {
      const network = stacks.get(`${name}-network`);
      expect(network).toBeDefined();
      const vpcs = Object.values(network?.resource.aws_vpc ?? {});
      expect(vpcs).toHaveLength(1);
      expect(vpcs[0]).toMatchObject({
        cidr_block: ENVIRONMENTS.find((e) => e.name === name)?.network.vpcCidr,
      });
    },
  );

  it.each(ENVIRONMENTS.map((e) => e.name))(
    "When %s is synthesized, then state is encrypted, locked and keyed per stack",
    (name) => {
      const backend = stacks.get(`${name}-network`)?.terraform.backend.s3;
      expect(backend).toMatchObject({
        encrypt: true,
        key: `${name}/network.tfstate`,
        dynamodb_table: "blueprint-tflock",
      });
    },
  );

  it("When a stack is synthesized, then the provider tags every resource with environment, owner and ManagedBy", () => {
    const provider = stacks.get("prod-network")?.provider.aws[0];
    expect(provider?.allowed_account_ids).toEqual(["333333333333"]);
    expect(provider?.default_tags[0]?.tags).toMatchObject({
      Environment: "prod",
      Owner: "platform-team",
      ManagedBy: "cdktf",
    });
  });

  it("When one environment is selected, then only its stacks are synthesized", () => {
    expect([...synthesize("staging").keys()]).toEqual(["staging-network"]);
  });

  it("When an unknown environment is selected, then synthesis fails naming the known ones", () => {
    expect(() => buildStacks(new App(), selectEnvironments("qa"))).toThrow(
      'unknown environment "qa"; known: dev, staging, prod',
    );
  });
});
