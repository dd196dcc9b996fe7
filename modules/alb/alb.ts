import { LOAD_BALANCER_IDLE_TIMEOUT_SECONDS } from "@blueprint/service-kit/config";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsElbServiceAccount } from "@cdktf/provider-aws/lib/data-aws-elb-service-account";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA as S3BucketVersioning } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { TerraformIterator } from "cdktf";
import { Construct } from "constructs";
import { policyDocument } from "../iam/policy-document";
import { ByName } from "../workload/by-name";
import { assertTwoZones } from "../workload/limits";

/** TLS 1.3 with TLS 1.2 fallback, AWS's recommended policy for internet-facing listeners. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** AWS managed rule groups applied when the WAF is on, in priority order. */
export const WAF_MANAGED_RULE_GROUPS = [
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
] as const;

export interface AlbRoute {
  /** Service name; names the target group. */
  readonly name: string;
  /** Path prefix such as `/users`; both `/users` and `/users/*` are routed. */
  readonly pathPrefix: string;
  /** Port the targets listen on (container port for `ip`, NodePort for `instance`). */
  readonly targetPort: number;
}

/** A service's target group as consumers must use it: reachable only once its listener rule exists. */
export interface RoutedTargetGroup {
  /**
   * ARN read from the listener rule's forward action, so whatever registers targets or creates an
   * ECS service with it is ordered after the rule (ECS rejects a target group with no load balancer).
   */
  readonly arn: string;
  /** For CloudWatch metric dimensions. */
  readonly arnSuffix: string;
}

export interface AlbProps {
  /** Prefix of resource names, e.g. `blueprint-prod`. */
  readonly name: string;
  readonly vpcId: string;
  readonly publicSubnetIds: readonly string[];
  readonly securityGroupId: string;
  /** Public host name served, e.g. `api.example.com`. */
  readonly domainName: string;
  /**
   * With a hosted zone the certificate is DNS-validated through it and an alias record created.
   * Without one (and without `certificateArn`) the apply waits, up to `certificateValidationTimeout`,
   * for someone to add the validation record in the zone that serves the domain, so the HTTPS
   * listener never receives a certificate ACM has not issued.
   * @default none
   */
  readonly hostedZoneId?: string;
  /** An issued ACM certificate for `domainName` to serve instead of requesting one. @default request one */
  readonly certificateArn?: string;
  /** How long the apply waits for a certificate validated outside Terraform. @default "2h" */
  readonly certificateValidationTimeout?: string;
  readonly routes: readonly AlbRoute[];
  /** `ip` for ECS tasks (awsvpc), `instance` for EKS NodePorts. */
  readonly targetType: "ip" | "instance";
  /** Readiness path the target groups probe. @default "/ready" */
  readonly healthCheckPath?: string;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** AWS managed rule groups and a per-IP rate limit in front of the listener. @default true */
  readonly waf?: boolean;
  /** Requests per 5 minutes per client IP before the WAF blocks. @default 2000 */
  readonly wafRateLimit?: number;
  /** Days access logs are kept. @default 90 */
  readonly accessLogRetentionDays?: number;
  /** KMS key encrypting the WAF log group. */
  readonly logKmsKeyArn: string;
  /** Retention of the WAF log group. @default 90 */
  readonly logRetentionDays?: number;
}

/**
 * Internet-facing Application Load Balancer: HTTPS only (HTTP redirected) with a TLS 1.3 policy and
 * an ACM certificate, path rules to one target group per service, invalid header fields dropped,
 * access logs to an encrypted, private bucket, optional WAF with AWS managed rules.
 */
export class Alb extends Construct {
  readonly loadBalancer: Lb;
  readonly httpsListener: LbListener;
  /** The requested certificate; absent when `certificateArn` names an existing one. */
  readonly certificate?: AcmCertificate;
  readonly accessLogBucket: S3Bucket;
  readonly webAcl?: Wafv2WebAcl;
  private readonly targetGroups: ByName<RoutedTargetGroup>;

  constructor(scope: Construct, id: string, props: AlbProps) {
    super(scope, id);
    const owner = `Alb ${props.name}`;
    validateProps(owner, props);
    const logs = this.accessLogs(props);
    this.accessLogBucket = logs.bucket;
    this.loadBalancer = new Lb(this, "LoadBalancer", {
      name: `${props.name}-alb`.slice(0, 32),
      loadBalancerType: "application",
      internal: false,
      subnets: [...props.publicSubnetIds],
      securityGroups: [props.securityGroupId],
      dropInvalidHeaderFields: true,
      // The services keep idle connections open longer than this, so the ALB never reuses one they closed.
      idleTimeout: LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
      enableDeletionProtection: props.deletionProtection ?? true,
      desyncMitigationMode: "strictest",
      accessLogs: { bucket: this.accessLogBucket.id, prefix: "alb", enabled: true },
      // AWS checks at create time that the ALB may write to the bucket.
      dependsOn: [logs.policy],
    });
    if (props.certificateArn) {
      this.httpsListener = this.listeners(props.certificateArn);
    } else {
      this.certificate = new AcmCertificate(this, "Certificate", {
        domainName: props.domainName,
        validationMethod: "DNS",
        lifecycle: { createBeforeDestroy: true },
      });
      this.httpsListener = this.listeners(this.validatedCertificateArn(props, this.certificate));
    }
    this.targetGroups = new ByName(owner, "target group for service");
    props.routes.forEach((route, index) => {
      this.targetGroups.add(route.name, () => this.route(props, route, index));
    });
    if (props.waf ?? true) this.webAcl = this.firewall(props);
  }

  /** The target group of the service named `name`; throws naming the known ones when there is none. */
  targetGroup(name: string): RoutedTargetGroup {
    return this.targetGroups.get(name);
  }

  /** Access logs to a private, versioned, encrypted bucket that expires them. */
  private accessLogs(props: AlbProps): { bucket: S3Bucket; policy: S3BucketPolicy } {
    const bucket = new S3Bucket(this, "AccessLogs", {
      bucketPrefix: `${props.name}-alb-logs-`,
      forceDestroy: false,
    });
    new S3BucketPublicAccessBlock(this, "AccessLogsPublicAccess", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "AccessLogsOwnership", {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketVersioning(this, "AccessLogsVersioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    // ALB access log delivery supports SSE-S3 only, not SSE-KMS.
    new S3BucketServerSideEncryptionConfiguration(this, "AccessLogsEncryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketLifecycleConfiguration(this, "AccessLogsLifecycle", {
      bucket: bucket.id,
      rule: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.accessLogRetentionDays ?? 90 }],
          noncurrentVersionExpiration: [{ noncurrentDays: 7 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    const elbAccount = new DataAwsElbServiceAccount(this, "ElbAccount");
    const policy = new S3BucketPolicy(this, "AccessLogsPolicy", {
      bucket: bucket.id,
      policy: policyDocument(this, "AccessLogsPolicyDocument", [
        {
          sid: "AlbLogDelivery",
          effect: "Allow",
          principals: [{ type: "AWS", identifiers: [elbAccount.arn] }],
          actions: ["s3:PutObject"],
          resources: [`${bucket.arn}/alb/*`],
        },
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
          resources: [bucket.arn, `${bucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ]).json,
    });
    return { bucket, policy };
  }

  /**
   * The certificate's ARN once ACM has issued it. With a hosted zone: the validation records and the
   * alias record. Without one: a validation that waits for a record added outside Terraform.
   */
  private validatedCertificateArn(props: AlbProps, certificate: AcmCertificate): string {
    if (!props.hostedZoneId) {
      return new AcmCertificateValidation(this, "CertificateValidation", {
        certificateArn: certificate.arn,
        timeouts: { create: props.certificateValidationTimeout ?? "2h" },
      }).certificateArn;
    }
    const options = TerraformIterator.fromComplexList(certificate.domainValidationOptions, "domain_name");
    const records = new Route53Record(this, "CertificateValidationRecords", {
      forEach: options,
      zoneId: props.hostedZoneId,
      name: options.getString("resource_record_name"),
      type: options.getString("resource_record_type"),
      records: [options.getString("resource_record_value")],
      ttl: 60,
      allowOverwrite: true,
    });
    const validation = new AcmCertificateValidation(this, "CertificateValidation", {
      certificateArn: certificate.arn,
      // A for expression: Terraform rejects a splat (`records[*].fqdn`) over a for_each resource.
      validationRecordFqdns: TerraformIterator.fromResources(records).pluckProperty(
        "fqdn",
      ) as unknown as string[],
    });
    new Route53Record(this, "Alias", {
      zoneId: props.hostedZoneId,
      name: props.domainName,
      type: "A",
      alias: {
        name: this.loadBalancer.dnsName,
        zoneId: this.loadBalancer.zoneId,
        evaluateTargetHealth: true,
      },
    });
    return validation.certificateArn;
  }

  /** HTTP redirects to HTTPS; HTTPS answers 404 unless a service's path rule matches. */
  private listeners(certificateArn: string): LbListener {
    new LbListener(this, "HttpRedirect", {
      loadBalancerArn: this.loadBalancer.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [
        { type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } },
      ],
    });
    return new LbListener(this, "Https", {
      loadBalancerArn: this.loadBalancer.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: TLS_POLICY,
      certificateArn,
      defaultAction: [
        {
          type: "fixed-response",
          fixedResponse: {
            contentType: "application/json",
            statusCode: "404",
            messageBody: '{"error":"not found"}',
          },
        },
      ],
    });
  }

  /** The service's target group and the listener rule sending its path prefix there. */
  private route(props: AlbProps, route: AlbRoute, index: number): RoutedTargetGroup {
    const targetGroup = new LbTargetGroup(this, `Target-${route.name}`, {
      name: `${props.name}-${route.name}`.slice(0, 32),
      port: route.targetPort,
      protocol: "HTTP",
      targetType: props.targetType,
      vpcId: props.vpcId,
      deregistrationDelay: "30",
      healthCheck: {
        path: props.healthCheckPath ?? "/ready",
        matcher: "200",
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
    });
    const rule = new LbListenerRule(this, `Rule-${route.name}`, {
      listenerArn: this.httpsListener.arn,
      priority: 100 + index * 10,
      action: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      condition: [{ pathPattern: { values: [route.pathPrefix, `${route.pathPrefix}/*`] } }],
    });
    return { arn: rule.action.get(0).targetGroupArn, arnSuffix: targetGroup.arnSuffix };
  }

  /** AWS managed rule groups and a per-IP rate limit, logged to an encrypted log group. */
  private firewall(props: AlbProps): Wafv2WebAcl {
    const visibility = (metricName: string) => ({
      cloudwatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const webAcl = new Wafv2WebAcl(this, "WebAcl", {
      name: `${props.name}-alb`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${props.name}-alb`),
      rule: [
        ...WAF_MANAGED_RULE_GROUPS.map((group, i) => ({
          name: group,
          priority: i + 1,
          overrideAction: { none: {} },
          // The provider types `statement` as free-form (it nests recursively): keys are Terraform's.
          statement: { managed_rule_group_statement: { name: group, vendor_name: "AWS" } },
          visibilityConfig: visibility(group),
        })),
        {
          name: "RateLimitPerIp",
          priority: WAF_MANAGED_RULE_GROUPS.length + 1,
          action: { block: {} },
          statement: {
            rate_based_statement: { limit: props.wafRateLimit ?? 2000, aggregate_key_type: "IP" },
          },
          visibilityConfig: visibility("RateLimitPerIp"),
        },
      ],
    });
    new Wafv2WebAclAssociation(this, "WebAclAssociation", {
      resourceArn: this.loadBalancer.arn,
      webAclArn: webAcl.arn,
    });
    const wafLogs = new CloudwatchLogGroup(this, "WafLogs", {
      name: `aws-waf-logs-${props.name}`,
      retentionInDays: props.logRetentionDays ?? 90,
      kmsKeyId: props.logKmsKeyArn,
    });
    new Wafv2WebAclLoggingConfiguration(this, "WebAclLogging", {
      resourceArn: webAcl.arn,
      logDestinationConfigs: [wafLogs.arn],
    });
    return webAcl;
  }
}

function validateProps(owner: string, props: AlbProps): void {
  if (props.routes.length === 0) throw new Error(`${owner}: routes must not be empty`);
  for (const route of props.routes) {
    if (!/^\/[a-z0-9-]+$/.test(route.pathPrefix)) {
      throw new Error(
        `${owner}: pathPrefix of ${route.name} must look like "/users", got "${route.pathPrefix}"`,
      );
    }
  }
  assertTwoZones(owner, "publicSubnetIds", props.publicSubnetIds);
  if (props.hostedZoneId && props.certificateArn) {
    throw new Error(
      `${owner}: give hostedZoneId (request and validate a certificate) or certificateArn (use an issued one), not both`,
    );
  }
  const wafRateLimit = props.wafRateLimit ?? 2000;
  if (wafRateLimit < 10) throw new Error(`${owner}: wafRateLimit must be at least 10, got ${wafRateLimit}`);
}
