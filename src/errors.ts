/**
 * The few error types that carry meaning across layers. The HTTP layer maps them to status
 * codes in one place; the engine uses `retryable` to decide between a retry and a failure.
 */
export class BillflowError extends Error {
  /** Whether trying the same thing again later could succeed. */
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable;
  }
}

/** A transient failure (network, timeout, provider 5xx): retried per the step's policy. */
export class RetryableError extends BillflowError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: true, ...options });
  }
}

/** A failure that cannot succeed on retry (bad data, a provider's 4xx): fails the step at once. */
export class PermanentError extends BillflowError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, ...options });
  }
}

export class NotFoundError extends BillflowError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/** The target exists but is not in a state that allows the action (e.g. restart of a running run). */
export class ConflictError extends BillflowError {
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, { retryable: false });
    this.details = details;
  }
}

export interface FieldError {
  field: string;
  message: string;
}

export class InvalidInputError extends BillflowError {
  readonly errors: FieldError[];
  constructor(errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '), { retryable: false });
    this.errors = errors;
  }
}

/** Unknown errors are treated as transient: a step is retried unless it says otherwise. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof BillflowError) return error.retryable;
  if (error !== null && typeof error === 'object' && 'retryable' in error) {
    return Boolean((error as { retryable: unknown }).retryable);
  }
  return true;
}

/** No valid credentials (HTTP 401). */
export class AuthenticationError extends BillflowError {
  constructor(message = 'authentication required') {
    super(message, { retryable: false });
  }
}

/** Valid credentials whose role does not allow the action (HTTP 403). */
export class PermissionError extends BillflowError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/** Too many attempts; try again after `retryAfterSeconds` (HTTP 429). */
export class RateLimitedError extends BillflowError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { retryable: true });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
