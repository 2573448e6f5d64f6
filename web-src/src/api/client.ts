import { tokens } from "./tokens";
import type {
  AccessTokenOut,
  Account,
  BreakdownOut,
  ConcurrencyOut,
  ConsentAnswer,
  ConsentIn,
  ConsentOut,
  Device,
  DeviceApproved,
  DeviceCodeIn,
  Dimension,
  EmailSentOut,
  EmailVerifiedOut,
  Granularity,
  HeartbeatOut,
  LiveStream,
  LoginIn,
  PasswordChangeIn,
  PasswordResetIn,
  PasswordResetRequestIn,
  PlaybackRequest,
  PlaybackSession,
  Problem,
  Profile,
  ResumeOut,
  SelectProfileIn,
  SignUpIn,
  SsoConfig,
  SsoExchangeIn,
  SummaryOut,
  TimeSeriesOut,
  TitlePage,
  TokenOut,
  UserOut,
  VerifyEmailIn,
} from "./types";

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

  /** The problem's stable `code` ("invalid_pin", "stream_limit"...), if it sent one. */
  get code(): string | null {
    return this.problem?.code ?? null;
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

// --- signing in and out of the API ---------------------------------------------------

let onSignedOut: (reason: ApiError) => void = () => undefined;

/** Called when the sign-in is gone for good (a 401 that a refresh could not cure). */
export function setSignedOutHandler(handler: (reason: ApiError) => void): void {
  onSignedOut = handler;
}

// Refresh tokens rotate and a spent one revokes the whole sign-in, so concurrent 401s
// must share one refresh rather than each spend the same token.
let refreshing: Promise<boolean> | null = null;

function refreshOnce(): Promise<boolean> {
  refreshing ??= (async () => {
    const refreshToken = tokens.refresh();
    if (!refreshToken) return false;
    try {
      const next = await send<TokenOut>("/v1/auth/refresh", json({ refresh_token: refreshToken }));
      tokens.storeSession(next);
      return true;
    } catch (error) {
      // Offline is not signed out: let the caller report the network error.
      if (error instanceof ApiError && error.status === 0) throw error;
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function json(body: unknown, method = "POST"): RequestInit {
  return { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

/** One HTTP exchange, no retries: the parsed body (undefined for 204) or an ApiError. */
async function send<T>(path: string, init: RequestInit = {}, accessToken?: string | null): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json, application/problem+json");
  if (accessToken) headers.set("Authorization", `Bearer ${accessToken}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (cause) {
    throw new ApiError(0, null, `Network error: ${String(cause)}`);
  }
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

function isUnauthorized(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 401;
}

function signedOut(reason: ApiError): never {
  tokens.clear();
  onSignedOut(reason);
  throw reason;
}

/**
 * A call with the stored access token. A 401 gets one refresh and one retry; if that
 * fails too, the tokens are dropped and the signed-out handler runs.
 */
async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const used = tokens.access();
  try {
    return await send<T>(path, init, used);
  } catch (error) {
    if (!isUnauthorized(error) || !used) throw error;
    // Another call may have refreshed meanwhile: then just retry with its token.
    const renewed = tokens.access() !== used || (await refreshOnce());
    if (!renewed) signedOut(error);
  }
  try {
    return await send<T>(path, init, tokens.access());
  } catch (error) {
    if (isUnauthorized(error)) signedOut(error);
    throw error;
  }
}

export function isSignedIn(): boolean {
  return tokens.access() !== null;
}

// How this browser's sign-ins name it in the account's device list.
const WEB_DEVICE = { name: "Web browser", type: "web" } as const;

export async function login(email: string, password: string): Promise<TokenOut> {
  const body: LoginIn = { email, password, device: { ...WEB_DEVICE } };
  const deviceId = tokens.deviceId();
  if (deviceId) body.device_id = deviceId;
  const session = await send<TokenOut>("/v1/auth/login", json(body));
  tokens.storeSession(session);
  return session;
}

/** Whether the server offers single sign-on with an identity provider, and its name. */
export function getSsoConfig(): Promise<SsoConfig> {
  return send<SsoConfig>("/v1/auth/sso");
}

/**
 * Where the browser goes (a full page load, not a fetch) to sign in at the identity
 * provider; the server sends it back to `returnTo` (a path under /app/) with `#sso=`.
 */
export function ssoStartUrl(returnTo: string): string {
  return `/v1/auth/sso/start?return_to=${encodeURIComponent(returnTo)}`;
}

/** Trades the one-time `#sso=` code for this app's tokens, stored as a login's are. */
export async function exchangeSso(handoff: string): Promise<TokenOut> {
  const body: SsoExchangeIn = { handoff, device: { ...WEB_DEVICE } };
  const deviceId = tokens.deviceId();
  if (deviceId) body.device_id = deviceId;
  const session = await send<TokenOut>("/v1/auth/sso/exchange", json(body));
  tokens.storeSession(session);
  return session;
}

export function signUp(email: string, password: string): Promise<UserOut> {
  const body: SignUpIn = { email, password };
  return send<UserOut>("/v1/auth/signup", json(body));
}

/** Ends this sign-in on the server (best effort) and forgets the tokens here. */
export async function logout(): Promise<void> {
  try {
    if (tokens.access()) await request<void>("/v1/auth/logout", json({}));
  } catch {
    // Signed out here all the same; the server's session lapses on its own.
  } finally {
    tokens.clear();
  }
}

/** Signs out every device of the household, this one included. */
export async function logoutEverywhere(): Promise<void> {
  await request<void>("/v1/auth/logout-all", { method: "POST" });
  tokens.clear();
}

// --- the links the server mails, and passwords ----------------------------------------

/** Confirms the account's address with the token of a `#verify=` link (works once). */
export function verifyEmail(token: string): Promise<EmailVerifiedOut> {
  const body: VerifyEmailIn = { token };
  return send<EmailVerifiedOut>("/v1/auth/verify-email", json(body));
}

/** Mails the signed-in account a new verification link (409 once it is verified). */
export function requestEmailVerification(): Promise<EmailSentOut> {
  return request<EmailSentOut>("/v1/auth/verify-email/request", { method: "POST" });
}

/** Asks for a reset link; the answer is the same whether the address has an account. */
export function requestPasswordReset(email: string): Promise<EmailSentOut> {
  const body: PasswordResetRequestIn = { email };
  return send<EmailSentOut>("/v1/auth/password-reset/request", json(body));
}

/** Sets a new password with the token of a `#reset=` link; every device is signed out. */
export function resetPassword(token: string, newPassword: string): Promise<void> {
  const body: PasswordResetIn = { token, new_password: newPassword };
  return send<void>("/v1/auth/password-reset", json(body));
}

/** Changes the password (403 `wrong_password`); the other devices are signed out. */
export function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  const body: PasswordChangeIn = { current_password: currentPassword, new_password: newPassword };
  return request<void>("/v1/me/password", json(body));
}

// --- the household ---------------------------------------------------------------------

export function getAccount(): Promise<Account> {
  return request<Account>("/v1/me");
}

export function listProfiles(): Promise<Profile[]> {
  return request<Profile[]>("/v1/me/profiles");
}

/** Watch as this profile on this device; the new access token replaces the stored one. */
export async function selectProfile(profileId: string, pin?: string): Promise<AccessTokenOut> {
  const body: SelectProfileIn = pin === undefined ? {} : { pin };
  const selected = await request<AccessTokenOut>(
    `/v1/me/profiles/${encodeURIComponent(profileId)}/select`,
    json(body),
  );
  tokens.storeAccess(selected.access_token, selected.profile_id);
  return selected;
}

export function listDevices(): Promise<Device[]> {
  return request<Device[]>("/v1/me/devices");
}

export function removeDevice(deviceId: string): Promise<void> {
  return request<void>(`/v1/me/devices/${encodeURIComponent(deviceId)}`, { method: "DELETE" });
}

// --- OAuth: signing in a TV, and other apps ------------------------------------------------

/** Approves (or denies) the device showing `userCode` (RFC 8628's activation page). */
export function decideDevice(userCode: string, approve: boolean): Promise<DeviceApproved> {
  const body: DeviceCodeIn = { user_code: userCode };
  return request<DeviceApproved>(`/v1/auth/device/${approve ? "approve" : "deny"}`, json(body));
}

/** Which app asks for what; `query` is the authorization request's query string. */
export function getConsent(query: string): Promise<ConsentOut> {
  return request<ConsentOut>(`/v1/oauth/authorize?query=${encodeURIComponent(query)}`);
}

/** Allows or denies an authorization request: the answer says where the browser goes. */
export function answerConsent(query: string, approve: boolean): Promise<ConsentAnswer> {
  const body: ConsentIn = { query, approve };
  return request<ConsentAnswer>("/v1/oauth/authorize", json(body));
}

// --- catalogue and playback ----------------------------------------------------------------

export function listTitles(cursor?: string): Promise<TitlePage> {
  const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
  return request<TitlePage>(`/v1/titles${query}`);
}

export function createPlayback(titleId: string): Promise<PlaybackSession> {
  const body: PlaybackRequest = { title_id: titleId };
  return request<PlaybackSession>("/v1/playback", json(body));
}

export function heartbeatPlayback(sessionId: string): Promise<HeartbeatOut> {
  return request<HeartbeatOut>(`/v1/playback/${encodeURIComponent(sessionId)}/heartbeat`, {
    method: "POST",
  });
}

/** Where this profile's next play of a title starts, in ms (0: from the start). */
export async function getResumePosition(titleId: string): Promise<number> {
  const out = await request<ResumeOut>(`/v1/me/resume/${encodeURIComponent(titleId)}`);
  return out.resume_ms;
}

export function listLiveStreams(): Promise<LiveStream[]> {
  return request<LiveStream[]>("/v1/playback/sessions");
}

export function stopPlayback(sessionId: string): Promise<void> {
  return request<void>(`/v1/playback/${encodeURIComponent(sessionId)}`, { method: "DELETE" });
}

/**
 * Ends a stream without waiting: `keepalive` lets the request outlive the page, so this
 * is what a page being hidden or closed calls. Failures are ignored (the lease lapses).
 */
export function stopPlaybackInBackground(sessionId: string): void {
  const accessToken = tokens.access();
  if (!accessToken) return;
  void fetch(`/v1/playback/${encodeURIComponent(sessionId)}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${accessToken}` },
    keepalive: true,
  }).catch(() => undefined);
}

// --- admin analytics (staff only: a viewer's token gets 403) -------------------------------

/** The window and title every analytics report is filtered by (ISO times, UTC). */
export interface AnalyticsQuery {
  from: string;
  to: string;
  titleId: string | null;
}

function analyticsPath(
  report: string,
  query: AnalyticsQuery,
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams({ from: query.from, to: query.to, ...extra });
  if (query.titleId) params.set("title_id", query.titleId);
  return `/v1/admin/analytics/${report}?${params.toString()}`;
}

export function getAnalyticsSummary(query: AnalyticsQuery): Promise<SummaryOut> {
  return request<SummaryOut>(analyticsPath("summary", query));
}

export function getAnalyticsBreakdown(
  query: AnalyticsQuery,
  dimension: Dimension,
): Promise<BreakdownOut> {
  return request<BreakdownOut>(analyticsPath("breakdown", query, { dimension }));
}

export function getAnalyticsTimeSeries(
  query: AnalyticsQuery,
  granularity: Granularity,
): Promise<TimeSeriesOut> {
  return request<TimeSeriesOut>(analyticsPath("timeseries", query, { granularity }));
}

export function getAnalyticsConcurrency(query: AnalyticsQuery): Promise<ConcurrencyOut> {
  return request<ConcurrencyOut>(analyticsPath("concurrency", query));
}
