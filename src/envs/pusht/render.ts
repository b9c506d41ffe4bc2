/**
 * Push-T frames like the original: white floor, light-grey walls, light-green goal T, slate-grey block, royal-blue
 * agent, red target cross (the original's cv2 marker: 8/96 of the frame wide, 1/96 thick). GIFs and the web page
 * draw through this one function.
 */
import { createCanvas } from "@napi-rs/canvas";
import type { RgbFrame } from "../types.ts";
import type { Poly } from "./geometry.ts";
import { WALLS, WALL_RADIUS } from "./physics.ts";

export interface PushTScene {
  goal: Poly[];
  block: Poly[];
  agent: [number, number];
  agentRadius: number;
  target: [number, number] | null;
}

export function renderPushT(scene: PushTScene, size = 512): RgbFrame {
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext("2d");
  const k = size / 512;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, size, size);
  const fillPolys = (polys: Poly[], color: string) => {
    ctx.fillStyle = color;
    for (const p of polys) {
      ctx.beginPath();
      p.forEach(([x, y], i) => (i ? ctx.lineTo(x * k, y * k) : ctx.moveTo(x * k, y * k)));
      ctx.closePath();
      ctx.fill();
    }
  };
  ctx.strokeStyle = "rgb(211,211,211)"; // LightGray, as the original's wall segments
  ctx.lineWidth = Math.max(1, 2 * WALL_RADIUS * k);
  ctx.lineCap = "round";
  ctx.beginPath();
  for (const [[ax, ay], [bx, by]] of WALLS) {
    ctx.moveTo(ax * k, ay * k);
    ctx.lineTo(bx * k, by * k);
  }
  ctx.stroke();
  fillPolys(scene.goal, "rgb(144,238,144)"); // LightGreen
  fillPolys(scene.block, "rgb(119,136,153)"); // LightSlateGray
  ctx.fillStyle = "rgb(65,105,225)"; // RoyalBlue
  ctx.beginPath();
  ctx.arc(scene.agent[0] * k, scene.agent[1] * k, scene.agentRadius * k, 0, 2 * Math.PI);
  ctx.fill();
  if (scene.target) {
    const [x, y] = [scene.target[0] * k, scene.target[1] * k];
    const m = Math.max(4, (4 / 96) * size), w = Math.max(1.5, size / 96);
    ctx.strokeStyle = "rgb(255,0,0)";
    ctx.lineWidth = w;
    ctx.lineCap = "butt";
    ctx.beginPath();
    ctx.moveTo(x - m, y);
    ctx.lineTo(x + m, y);
    ctx.moveTo(x, y - m);
    ctx.lineTo(x, y + m);
    ctx.stroke();
  }
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const rgb = new Uint8ClampedArray(size * size * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { width: size, height: size, data: rgb };
}
