// Generated from /openapi.json by `make api-client` (reelstack.openapi_ts).
// Do not edit by hand: a test fails when this file is stale.

export interface AccessTokenOut {
  access_token: string;
  token_type?: string;
  expires_in: number;
  profile_id: string | null;
}

/** The same session's media through another delivery network (a fallback). */
export interface AlternateUrls {
  cdn: string;
  hls: string;
  dash: string;
}

export interface ApiKeyCreated {
  id: string;
  name: string;
  scopes: string[];
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  key: string;
}

export interface ApiKeyIn {
  name: string;
  scopes: ("admin:read" | "admin:write" | "users:manage")[];
}

export interface ApiKeyOut {
  id: string;
  name: string;
  scopes: string[];
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AssetLinkIn {
  asset_id: string;
  role?: AssetRole;
}

export interface AssetLinkOut {
  asset_id: string;
  role: AssetRole;
  position: number;
}

export interface AssetOut {
  id: string;
  status: "processing" | "ready" | "failed";
  original_filename: string | null;
  size_bytes: number;
  duration_s: number;
  width: number;
  height: number;
  fps: number;
  video_codec: string;
  rotation: number;
  version: number | null;
  renditions: Rendition[];
  audio_tracks: AudioTrack[];
  error: string | null;
  created_by: string | null;
  created_at: string;
  ready_at: string | null;
}

export type AssetRole = "main" | "trailer" | "extra";

/** One packaged audio track; ``language`` is BCP-47 (``und`` when unknown). */
export interface AudioTrack {
  language: string;
  name: string;
  role: string;
  default: boolean;
  channels: number;
  bandwidth: number;
  playlist: string;
}

export interface AuditOut {
  id: number;
  at: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string;
  title_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface AuditPage {
  items: AuditOut[];
  next_cursor: string | null;
}

export type BillingPeriod = "month" | "year";

export interface BreakdownOut {
  dimension: Dimension;
  from: string;
  to: string;
  rows: BreakdownRow[];
}

export interface BreakdownRow {
  views: number;
  watch_time_ms: number;
  playing_time_ms: number;
  completion_percentage: number | null;
  startup_time_p50_ms: number | null;
  startup_time_p95_ms: number | null;
  startup_time_mean_ms: number | null;
  rebuffer_percentage: number | null;
  rebuffer_frequency_per_min: number | null;
  exits_before_start_percentage: number | null;
  playback_failure_percentage: number | null;
  startup_failure_percentage: number | null;
  average_bitrate_bps: number | null;
  upscale_percentage: number | null;
  startup_score: number | null;
  smoothness_score: number | null;
  quality_score: number | null;
  value: string;
}

/** Up to 100 titles at once, all or nothing. */
export interface BulkIn {
  ids: string[];
  action: "transition" | "delete";
  to?: TitleState | null;
}

export interface BulkOut {
  action: "transition" | "delete";
  ids: string[];
}

export interface CdnHealthOut {
  name: string;
  base_url: string;
  weight: number;
  healthy: boolean;
  failures: number;
  last_error: string | null;
}

export interface ClientCreated {
  client_id: string;
  name: string;
  public: boolean;
  grant_types: string[];
  redirect_uris: string[];
  scope: string;
  device_type: string;
  created_at: string;
  revoked: boolean;
  client_secret: string | null;
}

export interface ClientIn {
  name: string;
  public: boolean;
  grants: string[];
  redirect_uris?: string[];
  client_id?: string | null;
  device_type?: DeviceType;
}

export interface ClientOut {
  client_id: string;
  name: string;
  public: boolean;
  grant_types: string[];
  redirect_uris: string[];
  scope: string;
  device_type: string;
  created_at: string;
  revoked: boolean;
}

export interface ConcurrencyOut {
  now: number;
  window_s: number;
  peak: number;
  peak_at: string | null;
  from: string;
  to: string;
}

export interface ConsentAnswer {
  redirect_to: string;
}

export interface ConsentIn {
  query: string;
  approve: boolean;
}

export interface ConsentOut {
  client_id: string;
  client_name: string;
  scope: string[];
  redirect_uri: string | null;
}

/** A title the profile started and has not finished, and where it stopped. */
export interface ContinueWatchingItem {
  title_id: string;
  title: string;
  poster_url: string | null;
  position_ms: number;
  duration_ms: number;
  progress_percentage: number;
  updated_at: string;
}

/** The signed-in profile's titles in progress, the most recently watched first. */
export interface ContinueWatchingOut {
  items: ContinueWatchingItem[];
}

export interface CreditAdminOut {
  id: string;
  title_id: string;
  person_id: string;
  name: string;
  role: CreditRole;
  character: string | null;
  position: number;
}

export interface CreditIn {
  person_id: string;
  role: CreditRole;
  character?: string | null;
  position?: number | null;
}

export interface CreditOut {
  person_id: string;
  name: string;
  role: CreditRole;
  character: string | null;
}

export type CreditRole = "cast" | "director" | "writer" | "producer" | "creator" | "composer";

export interface CreditUpdate {
  role?: CreditRole | null;
  character?: string | null;
  position?: number | null;
}

export interface DeviceApproved {
  client_id: string;
  client_name: string;
  approved: boolean;
  device_id: string | null;
}

export interface DeviceCodeIn {
  user_code: string;
}

export interface DeviceIn {
  name?: string;
  type?: DeviceType;
}

export interface DeviceOut {
  id: string;
  name: string;
  type: DeviceType;
  created_at: string;
  last_seen_at: string;
  current: boolean;
}

export type DeviceType = "web" | "tv" | "mobile" | "tablet" | "console" | "other";

export type Dimension = "device" | "player" | "cdn" | "country" | "rendition";

/** Licence servers of an encrypted title, by EME key system. */
export interface DrmOut {
  servers: Record<string, string>;
}

/** A request for an email was accepted (the message leaves in the background). */
export interface EmailSentOut {
  status?: string;
  detail: string;
}

export interface EmailVerifiedOut {
  email: string;
  email_verified?: boolean;
  email_verified_at: string;
}

export interface EpisodeCreate {
  title: string;
  slug?: string | null;
  sort_title?: string | null;
  short_synopsis?: string | null;
  description?: string | null;
  default_language?: string | null;
  translations?: Record<string, unknown>;
  original_language?: string | null;
  release_date?: string | null;
  year?: number | null;
  runtime_s?: number | null;
  genres?: string[];
  tags?: string[];
  studios?: string[];
  external_ids?: Record<string, string>;
  custom_fields?: Record<string, unknown>;
  rating_system?: string | null;
  rating?: string | null;
  free?: boolean;
  episode_number?: number | null;
}

export interface EventsAccepted {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

export interface GenreAdminOut {
  id: string;
  slug: string;
  name: string;
  translations: Record<string, string>;
}

export interface GenreIn {
  slug: string;
  name: string;
  translations?: Record<string, unknown>;
}

export interface GenreOut {
  slug: string;
  name: string;
}

export interface GenreUpdate {
  slug?: string | null;
  name?: string | null;
  translations?: Record<string, unknown> | null;
}

export type Granularity = "hour" | "day";

export interface HeartbeatOut {
  session_id: string;
  lease_expires_at: string;
  heartbeat_interval_s: number;
}

export interface HistoryItem {
  profile_id: string;
  profile_name: string;
  title_id: string;
  title: string;
  position_ms: number;
  duration_ms: number;
  progress_percentage: number;
  watched: boolean;
  updated_at: string;
}

/** The household's watch history, every profile, the most recent first. */
export interface HistoryOut {
  items: HistoryItem[];
}

export type JobKind = "process_asset" | "transcode" | "purge_media" | "analytics_rollup" | "analytics_retention" | "catalog_schedule";

export interface JobOut {
  id: string;
  kind: JobKind;
  state: JobState;
  subject_type: string;
  subject_id: string;
  parent_id: string | null;
  priority: number;
  not_before: string;
  attempts: number;
  max_attempts: number;
  progress: number;
  error: string | null;
  worker: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
}

export type JobState = "waiting" | "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface LoginIn {
  email: string;
  password: string;
  device_id?: string | null;
  device?: DeviceIn | null;
}

export interface LogoutIn {
  refresh_token?: string | null;
}

export type Maturity = 1 | 2 | 3 | 4;

export interface MeOut {
  id: string;
  email: string;
  role: Role;
  status: UserStatus;
  email_verified: boolean;
  created_at: string;
  plan: PlanOut | null;
  subscription: SubscriptionOut | null;
  profiles: ProfileOut[];
  profile_id: string | null;
}

/** The signed cookie the response also sets (for clients that set cookies on their */
export interface MediaCookie {
  name: string;
  value: string;
  path: string;
  domain: string | null;
  expires_at: string;
  secure: boolean;
}

export interface PasswordChangeIn {
  current_password: string;
  new_password: string;
}

export interface PasswordResetIn {
  token: string;
  new_password: string;
}

export interface PasswordResetRequestIn {
  email: string;
}

export interface PersonIn {
  name: string;
  sort_name?: string | null;
  external_ids?: Record<string, string>;
}

export interface PersonOut {
  id: string;
  name: string;
  sort_name: string | null;
  external_ids: Record<string, string>;
  created_at: string;
}

export interface PersonPage {
  items: PersonOut[];
  next_cursor: string | null;
}

export interface PersonUpdate {
  name?: string | null;
  sort_name?: string | null;
  external_ids?: Record<string, string> | null;
}

export interface PlanIn {
  code: string;
  name: string;
  price_minor: number;
  currency: string;
  period?: BillingPeriod;
  max_streams: number;
  max_profiles: number;
  max_devices: number;
  max_height: number;
}

export interface PlanOut {
  code: string;
  name: string;
  price_minor: number;
  currency: string;
  period: BillingPeriod;
  max_streams: number;
  max_profiles: number;
  max_devices: number;
  max_height: number;
}

export interface PlaybackOut {
  session_id: string;
  title_id: string;
  hls: string;
  dash: string;
  cdn?: string | null;
  alternates?: AlternateUrls[];
  poster: string | null;
  expires_at: string;
  heartbeat_interval_s: number;
  lease_expires_at: string;
  max_height: number;
  drm?: DrmOut | null;
  cookie?: MediaCookie | null;
}

export interface PlaybackRequest {
  title_id: string;
  signed?: "url" | "cookie";
}

export interface PlaybackSessionOut {
  session_id: string;
  title_id: string;
  profile_id: string | null;
  device_id: string | null;
  created_at: string;
  last_heartbeat_at: string | null;
  lease_expires_at: string;
  current_device: boolean;
}

/** RFC 9457 problem details; ``code`` is stable, ``detail`` is for people. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string | null;
}

export interface ProfileIn {
  name: string;
  kids?: boolean;
  maturity_ceiling?: Maturity | null;
  pin?: string | null;
  language?: string | null;
}

export interface ProfileOut {
  id: string;
  name: string;
  kids: boolean;
  maturity_ceiling: Maturity;
  has_pin: boolean;
  language: string | null;
  created_at: string;
}

export interface ProfilePatch {
  name?: string | null;
  maturity_ceiling?: Maturity | null;
  pin?: string | null;
  language?: string | null;
}

export interface PurchaseIn {
  title_id: string;
}

export type PurgeAction = "purge" | "revoke";

export interface PurgeFeed {
  items: PurgeOut[];
  last_seq: number;
}

export interface PurgeIn {
  revoke?: boolean;
}

export interface PurgeOut {
  seq: number;
  asset_id: string;
  action: PurgeAction;
  created_at: string;
}

export interface RefreshIn {
  refresh_token: string;
}

export type RejectReason = "invalid" | "too_old" | "in_future" | "unknown_session" | "other_household" | "session_closed" | "view_conflict";

export interface Rejection {
  index: number;
  reason: RejectReason;
  detail: string;
}

/** One packaged video variant; rates are measured, audio included. */
export interface Rendition {
  name: string;
  width: number;
  height: number;
  bandwidth: number;
  average_bandwidth: number;
  codecs: string;
  playlist: string;
}

export interface RentalIn {
  title_id: string;
  start_within_days?: number;
  watch_within_hours?: number;
}

export interface RentalOut {
  id: string;
  user_id: string;
  title_id: string;
  created_at: string;
  start_by: string;
  watch_window_s: number;
  first_played_at: string | null;
}

export interface ReprocessIn {
  ladder?: string | null;
}

export interface ReprocessOut {
  asset_id: string;
  job_id: string;
}

/** Where the signed-in profile's next play of a title starts (0: from the start). */
export interface ResumeOut {
  title_id: string;
  resume_ms: number;
  watched: boolean;
}

export interface RevisionOut {
  revision: number;
  at: string;
  actor_type: string;
  actor_id: string | null;
  data: Record<string, unknown>;
}

export type Role = "admin" | "editor" | "support" | "viewer";

export type ScheduleAction = "publish" | "unpublish";

export interface ScheduleIn {
  action: ScheduleAction;
  at: string;
}

export interface ScheduleOut {
  id: string;
  title_id: string;
  action: ScheduleAction;
  at: string;
  state: ScheduleState;
  job_id: string | null;
  created_by: string;
  error: string | null;
  done_at: string | null;
}

export type ScheduleState = "pending" | "done" | "failed" | "cancelled";

export interface SeasonAdminOut {
  id: string;
  series_id: string;
  number: number;
  title: string | null;
  synopsis: string | null;
  translations: Record<string, Record<string, string>>;
  year: number | null;
  episode_ids: string[];
  created_at: string;
}

export interface SeasonIn {
  number: number;
  title?: string | null;
  synopsis?: string | null;
  translations?: Record<string, unknown>;
  year?: number | null;
}

export interface SeasonOut {
  id: string;
  number: number;
  title: string | null;
  synopsis: string | null;
  year: number | null;
  episodes: TitleOut[];
}

export interface SeasonUpdate {
  number?: number | null;
  title?: string | null;
  synopsis?: string | null;
  translations?: Record<string, unknown> | null;
  year?: number | null;
}

export interface SelectProfileIn {
  pin?: string | null;
}

export interface SeriesPoint {
  views: number;
  watch_time_ms: number;
  playing_time_ms: number;
  completion_percentage: number | null;
  startup_time_p50_ms: number | null;
  startup_time_p95_ms: number | null;
  startup_time_mean_ms: number | null;
  rebuffer_percentage: number | null;
  rebuffer_frequency_per_min: number | null;
  exits_before_start_percentage: number | null;
  playback_failure_percentage: number | null;
  startup_failure_percentage: number | null;
  average_bitrate_bps: number | null;
  upscale_percentage: number | null;
  startup_score: number | null;
  smoothness_score: number | null;
  quality_score: number | null;
  time: string;
}

export interface SignUpIn {
  email: string;
  password: string;
}

export interface SsoConfigOut {
  enabled: boolean;
  name: string | null;
}

export interface SsoExchangeIn {
  handoff: string;
  device_id?: string | null;
  device?: DeviceIn | null;
}

export interface SubscriptionIn {
  plan: string;
  status?: SubscriptionStatus;
  days?: number | null;
}

export interface SubscriptionOut {
  id: string;
  user_id: string;
  plan: PlanOut;
  status: SubscriptionStatus;
  current_period_start: string;
  current_period_end: string | null;
}

export type SubscriptionStatus = "trialing" | "active" | "past_due" | "cancelled" | "expired";

/** QoE and engagement over the views that started in ``[from, to)`` (hourly rollups */
export interface SummaryOut {
  views: number;
  watch_time_ms: number;
  playing_time_ms: number;
  completion_percentage: number | null;
  startup_time_p50_ms: number | null;
  startup_time_p95_ms: number | null;
  startup_time_mean_ms: number | null;
  rebuffer_percentage: number | null;
  rebuffer_frequency_per_min: number | null;
  exits_before_start_percentage: number | null;
  playback_failure_percentage: number | null;
  startup_failure_percentage: number | null;
  average_bitrate_bps: number | null;
  upscale_percentage: number | null;
  startup_score: number | null;
  smoothness_score: number | null;
  quality_score: number | null;
  title_id: string | null;
  from: string;
  to: string;
  unique_viewers: number;
  unique_households: number;
}

export interface TimeSeriesOut {
  granularity: Granularity;
  from: string;
  to: string;
  points: SeriesPoint[];
}

export interface TitleAdminOut {
  id: string;
  kind: TitleKind;
  state: TitleState;
  revision: number;
  title: string;
  slug: string | null;
  sort_title: string;
  short_synopsis: string | null;
  description: string | null;
  default_language: string;
  translations: Record<string, Record<string, string>>;
  original_language: string | null;
  release_date: string | null;
  year: number | null;
  runtime_s: number | null;
  genres: string[];
  tags: string[];
  studios: string[];
  external_ids: Record<string, string>;
  custom_fields: Record<string, unknown>;
  rating_system: string | null;
  rating: string | null;
  maturity_level: number;
  free: boolean;
  series_id: string | null;
  season_id: string | null;
  episode_number: number | null;
  assets: AssetLinkOut[];
  published_at: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface TitleAdminPage {
  items: TitleAdminOut[];
  next_cursor: string | null;
}

export interface TitleCreate {
  title: string;
  slug?: string | null;
  sort_title?: string | null;
  short_synopsis?: string | null;
  description?: string | null;
  default_language?: string | null;
  translations?: Record<string, unknown>;
  original_language?: string | null;
  release_date?: string | null;
  year?: number | null;
  runtime_s?: number | null;
  genres?: string[];
  tags?: string[];
  studios?: string[];
  external_ids?: Record<string, string>;
  custom_fields?: Record<string, unknown>;
  rating_system?: string | null;
  rating?: string | null;
  free?: boolean;
  kind?: TitleKind;
  season_id?: string | null;
  episode_number?: number | null;
}

export interface TitleDetail {
  id: string;
  kind: TitleKind;
  title: string;
  description: string | null;
  rating_system: string | null;
  rating: string | null;
  maturity_level: Maturity;
  free: boolean;
  status: "processing" | "ready" | "failed" | "no_media";
  duration_s: number | null;
  audio_languages: string[];
  poster_url: string | null;
  created_at: string;
  slug?: string | null;
  short_synopsis?: string | null;
  language?: string;
  year?: number | null;
  release_date?: string | null;
  runtime_s?: number | null;
  genres?: GenreOut[];
  series_id?: string | null;
  season_number?: number | null;
  episode_number?: number | null;
  tags?: string[];
  studios?: string[];
  original_language?: string | null;
  credits?: CreditOut[];
  seasons?: SeasonOut[];
}

export type TitleKind = "movie" | "series" | "episode" | "trailer" | "clip";

export interface TitleOut {
  id: string;
  kind: TitleKind;
  title: string;
  description: string | null;
  rating_system: string | null;
  rating: string | null;
  maturity_level: Maturity;
  free: boolean;
  status: "processing" | "ready" | "failed" | "no_media";
  duration_s: number | null;
  audio_languages: string[];
  poster_url: string | null;
  created_at: string;
  slug?: string | null;
  short_synopsis?: string | null;
  language?: string;
  year?: number | null;
  release_date?: string | null;
  runtime_s?: number | null;
  genres?: GenreOut[];
  series_id?: string | null;
  season_number?: number | null;
  episode_number?: number | null;
}

export interface TitlePage {
  items: TitleOut[];
  next_cursor: string | null;
}

/** The publishing workflow (transitions in ``catalog.workflow``): only published */
export type TitleState = "draft" | "in_review" | "published" | "unpublished" | "archived";

/** One language's text fields (any left out fall back to the default language). */
export interface TitleText {
  title?: string | null;
  short_synopsis?: string | null;
  description?: string | null;
}

export interface TitleUpdate {
  title?: string | null;
  slug?: string | null;
  sort_title?: string | null;
  short_synopsis?: string | null;
  description?: string | null;
  default_language?: string | null;
  translations?: Record<string, unknown> | null;
  original_language?: string | null;
  release_date?: string | null;
  year?: number | null;
  runtime_s?: number | null;
  genres?: string[] | null;
  tags?: string[] | null;
  studios?: string[] | null;
  external_ids?: Record<string, string> | null;
  custom_fields?: Record<string, unknown> | null;
  rating_system?: string | null;
  rating?: string | null;
  free?: boolean | null;
  season_id?: string | null;
  episode_number?: number | null;
}

export interface TokenOut {
  access_token: string;
  refresh_token: string;
  token_type?: string;
  expires_in: number;
  device_id: string | null;
  profile_id: string | null;
}

export interface TransitionIn {
  to: TitleState;
}

export interface UploadOut {
  title_id: string;
  asset_id: string;
  job_id: string;
}

export interface UserCreateIn {
  email: string;
  password: string;
  role?: Role;
}

export interface UserOut {
  id: string;
  email: string;
  role: Role;
  status: UserStatus;
  created_at: string;
}

export type UserStatus = "active" | "suspended";

export interface UserStatusIn {
  status: UserStatus;
}

export interface VerifyEmailIn {
  token: string;
}

/** One view's QoE metrics (Mux Data definitions; percentages are 0-100). */
export interface ViewMetricsOut {
  view_id: string;
  session_id: string;
  title_id: string;
  user_id: string;
  profile_id: string | null;
  device_id: string | null;
  country: string | null;
  started_at: string;
  parts: number;
  event_count: number;
  ended: boolean;
  started: boolean;
  startup_time_ms: number | null;
  watch_time_ms: number;
  playing_time_ms: number;
  paused_time_ms: number;
  seek_count: number;
  seek_time_ms: number;
  rebuffer_count: number;
  rebuffer_duration_ms: number;
  rebuffer_percentage: number | null;
  rebuffer_frequency_per_min: number | null;
  exited_before_start: boolean;
  failed: boolean;
  startup_failed: boolean;
  error_count: number;
  error_code: string | null;
  max_playhead_ms: number | null;
  average_bitrate_bps: number | null;
  rendition_changes: number;
  main_height: number | null;
  average_upscale: number | null;
  max_upscale: number | null;
  startup_score: number | null;
  smoothness_score: number | null;
  quality_score: number | null;
  player_name: string | null;
  player_version: string | null;
  cdn: string | null;
}

/** When and where a title can be seen: ``country`` an ISO 3166 alpha-2 code (null: */
export interface WindowIn {
  country?: string | null;
  starts_at: string;
  ends_at?: string | null;
}

export interface WindowOut {
  id: string;
  title_id: string;
  country: string | null;
  starts_at: string;
  ends_at: string | null;
}

export interface WindowUpdate {
  country?: string | null;
  starts_at?: string | null;
  ends_at?: string | null;
}
