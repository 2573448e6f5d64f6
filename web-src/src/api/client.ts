import type { PlaybackRequest, PlaybackSession, Problem, TitlePage } from "./types";

/** A failed API call; `problem` is the server's problem+json body when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === "object" && body !== null && "status" in body && "title" in body;
}

async function toApiError(response: Response): Promise<ApiError> {
  let problem: Problem | null = null;
  const contentType = response.headers.get("content-type") ?? "";
  if (contentType.includes("json")) {
    try {
      const body: unknown = await response.json();
      if (isProblem(body)) problem = body;
    } catch {
      // A malformed error body still leaves the HTTP status to report.
    }
  }
  const message =
    problem?.detail || problem?.title || `HTTP ${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, problem, message);
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json, application/problem+json");
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (cause) {
    throw new ApiError(0, null, `Network error: ${String(cause)}`);
  }
  if (!response.ok) throw await toApiError(response);
  return (await response.json()) as T;
}

export function listTitles(cursor?: string): Promise<TitlePage> {
  const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
  return request<TitlePage>(`/v1/titles${query}`);
}

export function createPlayback(titleId: string): Promise<PlaybackSession> {
  const body: PlaybackRequest = { title_id: titleId };
  return request<PlaybackSession>("/v1/playback", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}
