/**
 * Per-service outputs of a construct, looked up by name: a missing name throws naming the owner,
 * what was asked for and what exists, instead of yielding `undefined` deep inside a stack.
 */
export class ByName<T> {
  private readonly items = new Map<string, T>();

  constructor(
    private readonly owner: string,
    private readonly what: string,
  ) {}

  /** Creates the item of `name` and keeps it; a name given twice throws before anything is created. */
  add(name: string, create: () => T): T {
    if (this.items.has(name)) throw new Error(`${this.owner}: ${this.what} "${name}" is defined twice`);
    const item = create();
    this.items.set(name, item);
    return item;
  }

  get(name: string): T {
    const item = this.items.get(name);
    if (item === undefined) {
      const known = [...this.items.keys()].join(", ") || "none";
      throw new Error(`${this.owner}: no ${this.what} "${name}" (known: ${known})`);
    }
    return item;
  }

  values(): T[] {
    return [...this.items.values()];
  }
}
