// Generated from /openapi.json by `make api-client` (reelstack.openapi_ts).
// Do not edit by hand: a test fails when this file is stale.

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
  created_at: string;
  ready_at: string | null;
}

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

export type JobKind = "process_asset" | "transcode" | "purge_media";

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

export interface PlaybackOut {
  session_id: string;
  title_id: string;
  hls: string;
  dash: string;
  poster: string | null;
  expires_at: string;
}

export interface PlaybackRequest {
  title_id: string;
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

export interface ReprocessIn {
  ladder?: string | null;
}

export interface ReprocessOut {
  asset_id: string;
  job_id: string;
}

export type TitleKind = "movie" | "episode" | "trailer" | "clip";

export interface TitleOut {
  id: string;
  kind: TitleKind;
  title: string;
  description: string | null;
  status: "processing" | "ready" | "failed" | "no_media";
  duration_s: number | null;
  audio_languages: string[];
  poster_url: string | null;
  created_at: string;
}

export interface TitlePage {
  items: TitleOut[];
  next_cursor: string | null;
}

export interface UploadOut {
  title_id: string;
  asset_id: string;
  job_id: string;
}
