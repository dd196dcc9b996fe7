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
  private pending = false;
  /** Whether dropping was reported since the pending export began: once per stuck export. */
  private reportedDropping = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly timeoutMs: number,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.pending) {
      if (!this.reportedDropping) diag.warn("trace export still pending; dropping spans until it settles");
      this.reportedDropping = true;
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("trace export still pending") });
      return;
    }
    this.pending = true;
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
      this.pending = false;
      this.reportedDropping = false;
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
