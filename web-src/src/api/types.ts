// Wire types of the Reelstack HTTP API (/v1). Hand-written until the client
// can be generated from /openapi.json; keep in step with the backend schemas.

export interface Title {
  id: string;
  kind: string;
  title: string;
  description?: string | null;
  duration_s?: number | null;
  poster_url?: string | null;
  status: string;
}

export interface TitlePage {
  items: Title[];
  next_cursor: string | null;
}

export interface PlaybackRequest {
  title_id: string;
}

export interface PlaybackSession {
  session_id: string;
  hls: string;
  dash: string;
  expires_at: string;
}

/** RFC 9457 problem details, as every API error is returned. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string | null;
}
