/**
 * The browser's stand-in for @napi-rs/canvas: the web build aliases that Node-only native addon to this module,
 * so the simulators' render() (createCanvas → 2D context → getImageData) draws into an OffscreenCanvas and returns
 * the same RGB buffers as in Node. Only what the envs' renderers use is provided.
 */
export function createCanvas(width: number, height: number): OffscreenCanvas {
  if (typeof OffscreenCanvas === "undefined") throw new Error("this browser has no OffscreenCanvas (needed to render the simulators)");
  return new OffscreenCanvas(width, height);
}
