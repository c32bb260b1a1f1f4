/// <reference lib="dom" />
/**
 * The REST client of the dashboard: every call carries the operator token in `Authorization` (never in a
 * URL); an error answer becomes an `ApiError` with the server's code and message; a refused token (401)
 * is also reported to `onUnauthorized`, so the page can sign out.
 */

/** An error answer, or a request that never reached the server (`status` 0, code null). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What the client needs. */
export interface ApiOptions {
  token: string;
  /** Told when the server refuses the token (401); 403 (wrong scope) too. */
  onUnauthorized?: (error: ApiError) => void;
  /** Default: the page's origin. */
  baseUrl?: string;
}

/** REST calls with the token. */
export class Api {
  constructor(readonly options: ApiOptions) {}

  get token(): string {
    return this.options.token;
  }

  /** The raw response of a request that succeeded (2xx); anything else throws `ApiError`. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.options.token}`);
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl ?? ""}${path}`, { ...init, headers });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(
        0,
        null,
        `Cannot reach the server: ${error instanceof Error ? error.message : error}`,
      );
    }
    if (response.ok) return response;
    const error = await errorOf(response);
    if (response.status === 401 || response.status === 403) this.options.onUnauthorized?.(error);
    throw error;
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return await (await this.fetch(path, { signal })).json() as T;
  }

  async post<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return await this.#send<T>("POST", path, body, signal);
  }

  async delete<T>(path: string): Promise<T> {
    return await this.#send<T>("DELETE", path, undefined);
  }

  /** A binary body (a frame, an artifact) with its headers. */
  async blob(path: string, signal?: AbortSignal): Promise<{ blob: Blob; headers: Headers }> {
    const response = await this.fetch(path, { signal });
    return { blob: await response.blob(), headers: response.headers };
  }

  async #send<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = { method, signal };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const response = await this.fetch(path, init);
    const text = await response.text();
    return (text === "" ? null : JSON.parse(text)) as T;
  }
}

/** The `{"error": {"code", "message", "details"?}}` of an answer, or a plain error when it has none. */
async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; details?: unknown };
    };
    if (error && typeof error.code === "string") {
      return new ApiError(response.status, error.code, String(error.message ?? error.code), error.details);
    }
  } catch {
    // Not our JSON (a proxy's page): fall through.
  }
  return new ApiError(response.status, null, `The server answered ${response.status} ${response.statusText}`);
}

/** A path segment (ids and names may hold characters a URL path must escape). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
