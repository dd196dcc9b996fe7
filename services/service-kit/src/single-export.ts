import { diag } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";

/**
 * A span exporter that keeps at most one export of `inner` in flight. A trace backend that accepts
 * connections and never answers would otherwise hold every batch the processor gives up on (the
 * Zipkin exporter's request has no timeout), and memory would grow without bound. While an export
 * is pending, new batches are dropped; one that has not settled after `timeoutMs` is reported
 * failed to the processor (which then moves on), though its request keeps the slot until it ends.
 */
export class SingleExport implements SpanExporter {
  private pendingExports = 0;
  private droppedSpans = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly timeoutMs: number,
  ) {}

  /** Exports of `inner` not settled yet: 0 or 1. */
  get pending(): number {
    return this.pendingExports;
  }

  /** Spans dropped because an export was still pending, since start. */
  get dropped(): number {
    return this.droppedSpans;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.pendingExports > 0) {
      if (this.droppedSpans === 0) diag.warn("trace export still pending; dropping spans until it settles");
      this.droppedSpans += spans.length;
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("trace export still pending") });
      return;
    }
    this.pendingExports += 1;
    let reported = false;
    const report = (result: ExportResult) => {
      if (reported) return;
      reported = true;
      clearTimeout(timer);
      resultCallback(result);
    };
    const timer = setTimeout(
      () =>
        report({
          code: ExportResultCode.FAILED,
          error: new Error(`trace export timed out after ${this.timeoutMs} ms`),
        }),
      this.timeoutMs,
    );
    timer.unref();
    const settled = (result: ExportResult) => {
      this.pendingExports -= 1;
      report(result);
    };
    try {
      this.inner.export(spans, settled);
    } catch (error) {
      settled({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  /** Stops `inner`; does not wait longer than `timeoutMs` for a pending export. */
  shutdown(): Promise<void> {
    return this.bounded(this.inner.shutdown());
  }

  forceFlush(): Promise<void> {
    return this.bounded(this.inner.forceFlush?.() ?? Promise.resolve());
  }

  private bounded(work: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs);
      timer.unref();
    });
    return Promise.race([work.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
  }
}
