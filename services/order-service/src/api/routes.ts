import {
  contractText,
  defineRoute,
  EVENT_SCHEMAS,
  type IdempotencyStore,
  idempotentRoute,
  type RouteSpec,
} from "@blueprint/service-kit";
import { z } from "zod";
import type { Orders } from "../domain/orders";

const cents = (value: number) => Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;

/** An item as order.processed carries it: the API accepts exactly what its contract accepts. */
const OrderItem = z.strictObject({
  sku: contractText(EVENT_SCHEMAS["order.processed"].properties.items.items.properties.sku).describe(
    "Stock keeping unit.",
  ),
  quantity: z.int().min(1).max(10_000),
  unit_price: z
    .number()
    .min(0)
    .max(1_000_000)
    .refine(cents, "at most two decimal places")
    .describe("Price of one unit, at most two decimal places."),
});

/** Unknown fields are rejected (400 naming them), as in every service. */
const PlaceOrderRequest = z.strictObject({
  user_id: z.uuid().describe("A user order-service has learned of through user.created."),
  items: z.array(OrderItem).min(1).max(100),
});

const Order = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  status: z.enum(["processed"]),
  total: z.number().describe("Sum of quantity x unit_price."),
  items: z.array(z.object({ sku: z.string(), quantity: z.int(), unit_price: z.number() })),
  created_at: z.iso.datetime(),
});

const OrderList = z.object({ items: z.array(Order) });
const OrderId = z.strictObject({ id: z.uuid().describe("Order id (UUID).") });
const ByUser = z.strictObject({ user_id: z.uuid().describe("The user whose orders to list.") });

export function orderRoutes(orders: Orders, idempotency: IdempotencyStore): RouteSpec[] {
  return [
    idempotentRoute(idempotency, {
      method: "POST",
      path: "/orders",
      operationId: "placeOrder",
      summary: "Place an order; it is processed at once and order.processed goes through the outbox",
      tags: ["orders"],
      body: PlaceOrderRequest,
      access: { scope: "orders:write", owner: { body: "user_id" } },
      audit: { resource: "order", idField: "id" },
      responses: {
        201: { description: "processed", schema: Order },
        422: { description: "unknown user" },
      },
      handler: async ({ body }, { requestId }, q) => ({
        status: 201,
        body: await orders.place(body, requestId, q),
      }),
    }),
    defineRoute({
      method: "GET",
      path: "/orders/{id}",
      operationId: "getOrder",
      summary: "Get an order by id",
      tags: ["orders"],
      params: OrderId,
      access: { scope: "orders:read", owner: { response: "user_id" } },
      responses: { 200: { description: "the order", schema: Order }, 404: { description: "no such order" } },
      handler: async ({ params }) => ({ status: 200, body: await orders.get(params.id) }),
    }),
    defineRoute({
      method: "GET",
      path: "/orders",
      operationId: "listOrders",
      summary: "List a user's orders, oldest first",
      tags: ["orders"],
      query: ByUser,
      access: { scope: "orders:read", owner: { query: "user_id" } },
      responses: { 200: { description: "the user's orders", schema: OrderList } },
      handler: async ({ query }) => ({
        status: 200,
        body: { items: await orders.findByUser(query.user_id) },
      }),
    }),
  ];
}
