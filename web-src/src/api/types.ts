// Wire types of the Reelstack HTTP API, named for the front-end. The shapes come from
// schema.gen.ts, generated from /openapi.json (`make api-client`), so they cannot drift.
import type {
  AccessTokenOut,
  BreakdownOut,
  ConcurrencyOut,
  ConsentAnswer,
  ConsentIn,
  ConsentOut,
  DeviceApproved,
  DeviceCodeIn,
  DeviceOut,
  Dimension,
  EmailSentOut,
  EmailVerifiedOut,
  Granularity,
  HeartbeatOut,
  LoginIn,
  MeOut,
  PasswordChangeIn,
  PasswordResetIn,
  PasswordResetRequestIn,
  PlanOut,
  PlaybackOut,
  PlaybackRequest,
  PlaybackSessionOut,
  Problem,
  ProfileOut,
  ResumeOut,
  SelectProfileIn,
  SignUpIn,
  SsoConfigOut,
  SsoExchangeIn,
  SummaryOut,
  TimeSeriesOut,
  TitleOut,
  TitlePage,
  TokenOut,
  UserOut,
  VerifyEmailIn,
} from "./schema.gen";

export type {
  AccessTokenOut,
  BreakdownOut,
  ConcurrencyOut,
  ConsentAnswer,
  ConsentIn,
  ConsentOut,
  DeviceApproved,
  DeviceCodeIn,
  Dimension,
  EmailSentOut,
  EmailVerifiedOut,
  Granularity,
  HeartbeatOut,
  LoginIn,
  PasswordChangeIn,
  PasswordResetIn,
  PasswordResetRequestIn,
  PlaybackRequest,
  Problem,
  ResumeOut,
  SelectProfileIn,
  SignUpIn,
  SsoExchangeIn,
  SummaryOut,
  TimeSeriesOut,
  TitlePage,
  TokenOut,
  UserOut,
  VerifyEmailIn,
};
export type Title = TitleOut;
export type PlaybackSession = PlaybackOut;
/** A live stream of the household, as the account page lists it. */
export type LiveStream = PlaybackSessionOut;
export type Profile = ProfileOut;
export type Device = DeviceOut;
export type Account = MeOut;
export type Plan = PlanOut;
/** Whether the sign-in page offers "Sign in with <name>" (GET /v1/auth/sso). */
export type SsoConfig = SsoConfigOut;

/** The `code` of a 403 from POST /v1/playback (see the route's description). */
export type PlaybackRefusal =
  | "not_signed_in"
  | "account_suspended"
  | "profile_required"
  | "maturity"
  | "not_entitled"
  | "rental_expired"
  | "device_limit"
  | "stream_limit";

/** The `code` of a failed POST /v1/auth/device/approve or /deny (a 404 has none of its own). */
export type DeviceRefusal = "device_code_expired" | "device_code_used" | "kids_profile";

/** The `#sso_error=` code the server's SSO callback sends the browser back with. */
export type SsoError =
  | "sso_failed"
  | "sso_denied"
  | "sso_email_taken"
  | "sso_no_email"
  | "account_suspended";
