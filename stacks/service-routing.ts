import { serviceEntries } from "@blueprint/service-kit/catalog";
import type { ComputeKind } from "../environments";

/** NodePort of a service on EKS: its container port moved into the Kubernetes NodePort range. */
export function nodePortOf(containerPort: number): number {
  return containerPort + 22_000;
}

/** The port the load balancer targets: the container port on ECS (awsvpc), the NodePort on EKS. */
export function targetPortOf(kind: ComputeKind, containerPort: number): number {
  return kind === "eks" ? nodePortOf(containerPort) : containerPort;
}

/** Routes for the load balancer, one per catalog service. */
export function serviceRoutes(kind: ComputeKind) {
  return serviceEntries().map((s) => ({
    name: s.name,
    pathPrefix: s.pathPrefix,
    targetPort: targetPortOf(kind, s.port),
  }));
}
