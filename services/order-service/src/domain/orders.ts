import { randomUUID } from "node:crypto";
import {
  AppError,
  afterCommit,
  newEvent,
  type OrderItem,
  type Queryable,
  type UserCreatedEvent,
} from "@blueprint/service-kit";
import type { OrderRepository } from "../data-access/order-repository";

export interface Order {
  readonly id: string;
  readonly user_id: string;
  readonly status: "processed";
  readonly total: number;
  readonly items: readonly OrderItem[];
  readonly created_at: string;
}

export interface NewOrder {
  readonly user_id: string;
  readonly items: readonly OrderItem[];
}

/** Sum of quantity x unit price, computed in integer cents so that 0.1 + 0.2 is 0.30. */
function totalCents(items: readonly OrderItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity * Math.round(item.unit_price * 100), 0);
}

/** The order use cases; HTTP routes and the user.created consumer are entry points into them. */
export class Orders {
  constructor(
    private readonly repository: OrderRepository,
    private readonly published: () => void,
  ) {}

  /**
   * Accepts and prices an order for a known user, and in the same transaction writes its
   * `order.processed` event, on `q` (the pool, or the transaction of an idempotency key). A user
   * order-service has not yet learned of is 422.
   */
  async place(input: NewOrder, requestId: string, q: Queryable): Promise<Order> {
    const now = new Date();
    const cents = totalCents(input.items);
    const order: Order = {
      id: randomUUID(),
      user_id: input.user_id,
      status: "processed",
      total: cents / 100,
      items: input.items,
      created_at: now.toISOString(),
    };
    const placed = await this.repository.insertProcessed(q, order, cents, (email) => ({
      topic: "order.processed",
      key: order.id,
      event: newEvent(
        "order.processed",
        {
          order_id: order.id,
          user_id: order.user_id,
          email,
          status: "processed",
          total: order.total,
          items: order.items,
          processed_at: order.created_at,
        },
        now,
      ),
      headers: { "x-request-id": requestId },
    }));
    if (!placed) {
      throw AppError.unprocessable("unknown user: order-service has not learned of this user (yet)", [
        { field: "user_id", message: "unknown user" },
      ]);
    }
    afterCommit(q, this.published);
    return order;
  }

  async get(id: string): Promise<Order> {
    const order = await this.repository.findById(id);
    if (!order) throw AppError.notFound("order");
    return order;
  }

  findByUser(userId: string): Promise<Order[]> {
    return this.repository.findByUser(userId);
  }

  /** Records a user from user.created, inside the consumer's transaction; applying it twice is harmless. */
  learnUser(event: UserCreatedEvent, tx: Queryable): Promise<void> {
    return this.repository.upsertKnownUser(event, tx);
  }
}
