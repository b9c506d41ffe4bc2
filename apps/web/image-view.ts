/**
 * Image observations in the page (pusht-image-v1): the env's SCD pixel policy, an ONNX export the build lists under
 * load.json's onDemand, fetched with the loading bar when the page switches to that env (never at start); and the
 * camera panel beside the arena — the frame the policy observes at this step, the env's own `observation.image`
 * (rendered by the env, src/envs/pusht/pixels.ts, not redrawn here), put 1:1 on a canvas of the frame's size that
 * the stylesheet scales up with nearest-neighbour (image-rendering: pixelated).
 */
import type { Obs } from "../../src/envs/types.ts";
import { loadWebExport, type WebExport } from "../../src/checkpoints/fetch-export.ts";
import { trackLoading, type LoadList } from "./loading.ts";

/** The image feature the camera panel shows. */
export const CAMERA_FEATURE = "observation.image";

/**
 * Fetch `envId`'s export (folder `dir` under models/) into `exports`, the bar counting `list.onDemand[envId]`; a no-op
 * when the site has none for it or it is loaded already.
 */
export async function loadExportOnDemand(envId: string, dir: string | undefined, list: LoadList, exports: Record<string, WebExport>, ort: Parameters<typeof loadWebExport>[1], what: string): Promise<void> {
  if (!dir || exports[envId]) return;
  const loading = trackLoading({ files: list.onDemand?.[envId] ?? {} }, (mb) => `loading ${what}: ${mb}`);
  try {
    exports[envId] = await loadWebExport(new URL(`models/${dir}/`, location.href).href, ort);
  } finally {
    loading.done();
  }
}

/** The camera panel: a canvas of the observation's own size (H × W) in a figure beside the arena. */
export class CameraView {
  private readonly ctx: CanvasRenderingContext2D;
  private img: ImageData | null = null;
  /** the observation drawn last (an env's step makes a new array) */
  private drawn: ArrayLike<number> | null = null;

  constructor(private readonly panel: HTMLElement, readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext("2d")!;
  }

  /** Show the panel for an env whose `CAMERA_FEATURE` has `shape` [H, W, 3]; undefined: hide it. */
  show(shape: readonly number[] | undefined): void {
    const on = !!shape && shape.length === 3 && shape[2] === 3;
    this.panel.hidden = !on;
    this.panel.parentElement?.classList.toggle("with-camera", on);
    this.drawn = null;
    if (!on) return void (this.img = null);
    const [h, w] = shape;
    if (this.canvas.width !== w || this.canvas.height !== h) Object.assign(this.canvas, { width: w, height: h });
    this.img = new ImageData(w, h);
    this.ctx.fillStyle = "#fff";
    this.ctx.fillRect(0, 0, w, h);
  }

  /** Draw `obs`'s frame (HWC RGB, values 0..255) unless it is the one on the canvas. */
  draw(obs: Obs | null): void {
    const f = obs?.[CAMERA_FEATURE];
    if (!this.img || !f || f === this.drawn || f.length * 4 !== this.img.data.length * 3) return;
    const d = this.img.data;
    for (let i = 0, j = 0; j < f.length; i += 4, j += 3) {
      d[i] = f[j];
      d[i + 1] = f[j + 1];
      d[i + 2] = f[j + 2];
      d[i + 3] = 255;
    }
    this.ctx.putImageData(this.img, 0, 0);
    this.drawn = f;
  }
}
