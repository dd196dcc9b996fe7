import { randomUUID } from "node:crypto";
import {
  AppError,
  afterCommit,
  newEvent,
  type Queryable,
  type StatementPart,
  type UserCreatedEvent,
} from "@blueprint/service-kit";
import type { UserRepository } from "../data-access/user-repository";

export interface User {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly created_at: string;
}

/** More to write in the same statement as the user (its audit row), parameters numbered from `firstParam`. */
export type AlsoWrite = (user: User, firstParam: number) => StatementPart;

export interface NewUser {
  readonly email: string;
  readonly name: string;
}

/** The user use cases; HTTP routes are one entry point into them. */
export class Users {
  constructor(
    private readonly repository: UserRepository,
    /** Called after a commit that wrote to the outbox, to publish without waiting for a poll. */
    private readonly published: () => void,
  ) {}

  /**
   * Creates a user and, in the same statement, its `user.created` event and what `also` adds, on
   * `q` (the pool, or the transaction of an idempotency key). Duplicate email: 409, nothing written.
   */
  async create(input: NewUser, requestId: string, q: Queryable, also?: AlsoWrite): Promise<User> {
    const createdAt = new Date();
    const user: User = {
      id: randomUUID(),
      email: input.email,
      name: input.name,
      created_at: createdAt.toISOString(),
    };
    const event: UserCreatedEvent = newEvent(
      "user.created",
      { user_id: user.id, email: user.email, name: user.name, created_at: user.created_at },
      createdAt,
    );
    const inserted = await this.repository.insertWithEvent(
      user,
      event,
      requestId,
      q,
      also && ((firstParam) => also(user, firstParam)),
    );
    if (!inserted) {
      throw AppError.conflict("a user with this email already exists", [
        { field: "email", message: "already registered" },
      ]);
    }
    afterCommit(q, this.published);
    return user;
  }

  async get(id: string): Promise<User> {
    const user = await this.repository.findById(id);
    if (!user) throw AppError.notFound("user");
    return user;
  }

  findByEmail(email: string): Promise<User[]> {
    return this.repository.findByEmail(email);
  }
}
