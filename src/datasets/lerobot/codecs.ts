/**
 * Video codecs for LeRobot's MP4 features, from `@napi-rs/webcodecs`: the WebCodecs API (VideoDecoder,
 * VideoEncoder, VideoFrame) plus an MP4 demuxer and muxer, in Node. It is an OPTIONAL peer dependency, loaded
 * only when a video is read or written: its MIT-licensed binding statically links FFmpeg with libx264, so the
 * binary it installs is under the GPL (x264 is GPL-2.0-or-later) and carries H.264's patent terms — scd-policy
 * (MIT) does not bundle or require it; install it yourself if those terms suit you. Version 1.3.1 is the one
 * tested (1.4.x's binary did not install on Linux x64 here). In a browser, Chromium's own WebCodecs decode the
 * same H.264/AV1 streams.
 */
import type * as WebCodecs from "@napi-rs/webcodecs";
import { ScdError } from "../../errors.ts";

export const WEBCODECS_VERSION = "1.3.1";
export const WEBCODECS_INSTALL = `npm install @napi-rs/webcodecs@${WEBCODECS_VERSION}`;

/** What the video reader and writer use of the package. */
export type Codecs = Pick<typeof WebCodecs, "VideoDecoder" | "VideoEncoder" | "VideoFrame" | "Mp4Demuxer" | "Mp4Muxer">;

let loaded: Codecs | null = null;

/**
 * The codecs, imported once. `what` says what needed them, for the error ("reading observation.image").
 * @throws ScdError when @napi-rs/webcodecs is not installed or its native binary does not load.
 */
export async function loadCodecs(what: string, specifier = "@napi-rs/webcodecs"): Promise<Codecs> {
  if (loaded && specifier === "@napi-rs/webcodecs") return loaded;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const absent = (e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" || (e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" || /Cannot find (package|module)/.test(msg);
    throw new ScdError(
      absent
        ? `${what} needs the optional package ${specifier} (not installed; it decodes and encodes MP4 video with a statically linked FFmpeg + x264, GPL): ${WEBCODECS_INSTALL}`
        : `${what}: ${specifier} is installed but does not load (${msg.split("\n")[0]}); reinstall it: ${WEBCODECS_INSTALL}`,
      "missing-file",
    );
  }
  const m = (mod.VideoDecoder ? mod : (mod.default as Record<string, unknown>)) as unknown as Codecs;
  if (!m?.VideoDecoder || !m.Mp4Demuxer) throw new ScdError(`${what}: ${specifier} has no VideoDecoder / Mp4Demuxer; install ${WEBCODECS_INSTALL}`, "incompatible");
  if (specifier === "@napi-rs/webcodecs") loaded = m;
  return m;
}
