import { HTTP_TIMEOUTS, LOAD_BALANCER_IDLE_TIMEOUT_SECONDS } from "@blueprint/service-kit/config";
import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import { onlyResource, resourcesOf, synthConstruct, synthesizer } from "../testing/synth";
import { Alb, type AlbProps, TLS_POLICY } from "./alb";

const minimal: AlbProps = {
  name: "t",
  vpcId: "vpc-1",
  publicSubnetIds: ["subnet-a", "subnet-b"],
  securityGroupId: "sg-alb",
  domainName: "api.example.com",
  routes: [
    { name: "user-service", pathPrefix: "/users", targetPort: 8081 },
    { name: "order-service", pathPrefix: "/orders", targetPort: 8082 },
  ],
  targetType: "ip",
  logKmsKeyArn: "arn:kms",
};
const build = synthesizer(Alb, "Alb", minimal);

describe("Alb", () => {
  it("When built with minimal props, then it is public, drops invalid headers, logs access and is deletion-protected", () => {
    expect(onlyResource(build(), "aws_lb")).toMatchObject({
      internal: false,
      drop_invalid_header_fields: true,
      idle_timeout: LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
      enable_deletion_protection: true,
      security_groups: ["sg-alb"],
      access_logs: { enabled: true, prefix: "alb" },
    });
    expect(HTTP_TIMEOUTS.keepAliveMs).toBeGreaterThan(LOAD_BALANCER_IDLE_TIMEOUT_SECONDS * 1000);
  });

  it("When built, then HTTPS uses the TLS 1.3 policy and HTTP only redirects", () => {
    const listeners = resourcesOf(build(), "aws_lb_listener");
    expect(listeners.find((l) => l.port === 443)).toMatchObject({
      protocol: "HTTPS",
      ssl_policy: TLS_POLICY,
    });
    expect(listeners.find((l) => l.port === 80)?.default_action).toEqual([
      { type: "redirect", redirect: { port: "443", protocol: "HTTPS", status_code: "HTTP_301" } },
    ]);
  });

  it("When built, then each route forwards its path prefix to its own target group health-checked on /ready", () => {
    const stack = build();
    const rules = resourcesOf(stack, "aws_lb_listener_rule");
    expect(
      rules
        .map((r) => (r.condition as Array<{ path_pattern: { values: string[] } }>)[0]?.path_pattern.values)
        .sort(),
    ).toEqual([
      ["/orders", "/orders/*"],
      ["/users", "/users/*"],
    ]);
    for (const group of resourcesOf(stack, "aws_lb_target_group")) {
      expect(group).toMatchObject({
        target_type: "ip",
        protocol: "HTTP",
        health_check: { path: "/ready", matcher: "200" },
      });
    }
  });

  it("When the WAF is on (the default), then the AWS managed rule groups and a rate limit guard the listener", () => {
    const stack = build();
    const acl = onlyResource(stack, "aws_wafv2_web_acl");
    const rules = acl.rule as Array<{ name: string; statement: Record<string, unknown> }>;
    expect(rules.map((r) => r.name)).toEqual([
      "AWSManagedRulesAmazonIpReputationList",
      "AWSManagedRulesCommonRuleSet",
      "AWSManagedRulesKnownBadInputsRuleSet",
      "RateLimitPerIp",
    ]);
    expect(rules[2]?.statement).toEqual({
      managed_rule_group_statement: { name: "AWSManagedRulesKnownBadInputsRuleSet", vendor_name: "AWS" },
    });
    expect(rules[3]?.statement).toEqual({ rate_based_statement: { limit: 2000, aggregate_key_type: "IP" } });
    expect(resourcesOf(stack, "aws_wafv2_web_acl_association")).toHaveLength(1);
    expect(onlyResource(stack, "aws_cloudwatch_log_group")).toMatchObject({
      kms_key_id: "arn:kms",
      retention_in_days: 90,
    });
  });

  it("When the WAF is off, then no web ACL is created", () => {
    expect(resourcesOf(build({ waf: false }), "aws_wafv2_web_acl")).toEqual([]);
  });

  it("When a hosted zone is given, then the certificate is DNS-validated and an alias record points at the ALB", () => {
    const stack = build({ hostedZoneId: "Z123" });
    expect(resourcesOf(stack, "aws_acm_certificate_validation")).toHaveLength(1);
    expect(resourcesOf(stack, "aws_route53_record").map((r) => r.type ?? "validation")).toContain("A");
  });

  it("When a hosted zone is given, then the validation reads the records' FQDNs with a for expression, not a splat Terraform rejects over for_each", () => {
    const stack = build({ hostedZoneId: "Z123" });
    const [recordsId] = Object.keys(stack.resource.aws_route53_record ?? {}).filter(
      (id) => stack.resource.aws_route53_record?.[id]?.for_each !== undefined,
    );
    const fqdns = String(onlyResource(stack, "aws_acm_certificate_validation").validation_record_fqdns);
    expect(fqdns).not.toContain("[*]");
    expect(fqdns).toMatch(
      new RegExp(`for \\w+, (\\w+) in aws_route53_record\\.${recordsId}\\s*:\\s*\\1\\.fqdn`),
    );
  });

  it("When no hosted zone is given, then the HTTPS listener waits for the certificate to be issued", () => {
    const stack = build();
    const validation = onlyResource(stack, "aws_acm_certificate_validation");
    expect(validation).toMatchObject({ timeouts: { create: "2h" } });
    expect(validation.validation_record_fqdns).toBeUndefined();
    const https = resourcesOf(stack, "aws_lb_listener").find((l) => l.port === 443);
    expect(https?.certificate_arn).toMatch(/^\$\{aws_acm_certificate_validation\.\w+\.certificate_arn\}$/);
  });

  it("When an issued certificate is given, then the listener serves it and none is requested", () => {
    const arn = "arn:aws:acm:eu-west-1:111111111111:certificate/abc";
    const stack = build({ certificateArn: arn });
    expect(resourcesOf(stack, "aws_acm_certificate")).toEqual([]);
    expect(resourcesOf(stack, "aws_lb_listener").find((l) => l.port === 443)?.certificate_arn).toBe(arn);
  });

  it("When built, then the load balancer is created only after the log bucket policy lets it write", () => {
    const stack = build();
    const [policyId] = Object.keys(stack.resource.aws_s3_bucket_policy ?? {});
    expect(onlyResource(stack, "aws_lb").depends_on).toContain(`aws_s3_bucket_policy.${policyId}`);
  });

  it("When a service's target group is handed out, then its ARN is read through the listener rule", () => {
    const stack = synthConstruct((scope) => {
      const alb = new Alb(scope, "Alb", minimal);
      new TerraformOutput(scope, "Arn", { value: alb.targetGroup("user-service").arn });
    });
    expect(stack.output?.Arn?.value).toMatch(
      /^\$\{aws_lb_listener_rule\.[\w-]+\.action\[0\]\.target_group_arn\}$/,
    );
  });

  it("When built, then the access log bucket is private, encrypted and only accepts TLS", () => {
    const stack = build();
    expect(onlyResource(stack, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(onlyResource(stack, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
    ]);
    const statements = Object.values(stack.data.aws_iam_policy_document ?? {}).flatMap(
      (d) => d.statement as Array<{ sid: string }>,
    );
    expect(statements.map((s) => s.sid)).toEqual(["AlbLogDelivery", "DenyInsecureTransport"]);
  });

  it.each([
    [{ routes: [] }, "Alb t: routes must not be empty"],
    [
      { routes: [{ name: "x", pathPrefix: "users", targetPort: 1 }] },
      'Alb t: pathPrefix of x must look like "/users", got "users"',
    ],
    [{ publicSubnetIds: ["a"] }, "Alb t: publicSubnetIds must span at least 2 AZs, got 1"],
    [{ wafRateLimit: 5 }, "Alb t: wafRateLimit must be at least 10, got 5"],
    [
      { hostedZoneId: "Z1", certificateArn: "arn:aws:acm:eu-west-1:111111111111:certificate/abc" },
      "Alb t: give hostedZoneId (request and validate a certificate) or certificateArn (use an issued one), not both",
    ],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => build(props as Partial<AlbProps>)).toThrow(message);
  });
});
