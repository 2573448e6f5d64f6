// Wire types of the Reelstack HTTP API, named for the front-end. The shapes come from
// schema.gen.ts, generated from /openapi.json (`make api-client`), so they cannot drift.
import type { PlaybackOut, PlaybackRequest, Problem, TitleOut, TitlePage } from "./schema.gen";

export type { PlaybackRequest, Problem, TitlePage };
export type Title = TitleOut;
export type PlaybackSession = PlaybackOut;
