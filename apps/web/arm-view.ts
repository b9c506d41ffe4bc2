/**
 * arm-push-v1 in 3-D (three.js; this chunk loads only when the page switches to that env): the scene is drawn from
 * the simulator's own geometry — every visible geom of the MjModel (plane, box, sphere, ellipsoid, capsule,
 * cylinder) at its pose in the MjData (geom_xpos, geom_xmat) — plus the target square, the action space's
 * rectangle, the tip's target (red cross) and the predicted chunks. The WebGL canvas lies over the page's 2-D canvas
 * and lets pointer events through to it, so a press takes over as on Push-T; the pointer is raycast onto the table
 * (z = 0) for the tip's target. Shift-drag or right-drag orbits the camera, the wheel zooms, a button toggles the
 * 3/4 and top views. World frame as MuJoCo's: z up, metres.
 */
import {
  WebGLRenderer, Scene, PerspectiveCamera, Color, HemisphereLight, DirectionalLight, Mesh, MeshLambertMaterial, MeshBasicMaterial,
  BoxGeometry, SphereGeometry, CapsuleGeometry, CylinderGeometry, PlaneGeometry, BufferGeometry, Vector2, Vector3, Raycaster, Plane,
  Line, LineLoop, LineBasicMaterial, Group, BasicShadowMap, PCFShadowMap, SRGBColorSpace, type Material,
} from "three";
import type { MjModel, MjData, Mujoco } from "../../src/envs/arm-push/mujoco.ts";
import type { Env } from "../../src/envs/types.ts";
import { Wrapper } from "../../src/envs/wrappers.ts";
import type { LiveEnv } from "../../src/web/live-env.ts";
import { TARGET, TIP_Z, WORKSPACE_LOW, WORKSPACE_HIGH } from "../../src/envs/arm-push/task.ts";
import { BLOCK_HALF } from "../../src/envs/arm-push/panda.ts";
import type { Task } from "./tasks.ts";

// MuJoCo's mjtGeom values
const PLANE = 0, SPHERE = 2, CAPSULE = 3, ELLIPSOID = 4, CYLINDER = 5, BOX = 6;
/**
 * The camera orbits round `at` (m): azimuth and elevation (rad), distance (m). The 3/4 view looks from the GIF
 * renderer's side (render.ts); the top view looks straight down, the robot's base at the bottom, the arm see-through
 * (it pushes the block towards its base, so from above it would hide the block).
 */
const VIEWS = { "3/4": { az: Math.atan2(-1.45, 0.69), el: 0.5, dist: 2.2, at: [0.36, 0, 0.22] }, top: { az: Math.PI, el: 1.553, dist: 1.5, at: [0.5, 0, 0] } };

/** Whether WebGL runs without a GPU here (the renderer's name, where the browser tells it). */
function softwareGl(): boolean {
  const gl = document.createElement("canvas").getContext("webgl2"), info = gl?.getExtension("WEBGL_debug_renderer_info");
  const name = info ? String(gl!.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
  gl?.getExtension("WEBGL_lose_context")?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
}

interface Sim { model: MjModel; data: MjData; mujoco: Mujoco }
type ArmEnv = Env & { simulation(): Sim; tipTarget(): [number, number] | null };

/** The arm-push scene in WebGL over `overlay` (the page's 2-D canvas, which keeps the pointer events). */
export class ArmView {
  readonly canvas = document.createElement("canvas");
  readonly task: Task;
  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera(36, 1, 0.02, 20);
  private readonly geoms = new Group();
  /** geom g's mesh; `arm`: it moves with the arm (see-through in the top view) */
  private readonly meshes: { mesh: Mesh<BufferGeometry, MeshLambertMaterial>; g: number; arm: boolean; alpha: number }[] = [];
  private readonly cross = new Group();
  private readonly paths = new Group();
  private readonly toggle = document.createElement("button");
  private env: ArmEnv | null = null;
  private orbit = { ...VIEWS["3/4"] };
  private dragging: { x: number; y: number } | null = null;
  private drawnPaths: unknown = null;
  /** the camera moved since the last draw */
  moved = true;

  constructor(private readonly overlay: HTMLCanvasElement) {
    const c = this.canvas;
    c.setAttribute("aria-label", "arm-push-v1 in 3-D: the Panda arm, the grey cube, its green target square and the red cross the tip follows");
    Object.assign(c.style, { position: "absolute", left: "0", top: "0", width: "100%", height: "100%", pointerEvents: "none", display: "none" });
    overlay.after(c);
    // a software renderer (no GPU: SwiftShader, llvmpipe) gets no multisampling and one-tap shadows: 3× the frames/s
    const soft = softwareGl();
    this.renderer = new WebGLRenderer({ canvas: c, antialias: !soft });
    this.renderer.shadowMap.enabled = true;
    this.renderer.shadowMap.type = soft ? BasicShadowMap : PCFShadowMap;
    this.scene.background = new Color(0xebeef2);
    this.camera.up.set(0, 0, 1);
    this.scene.add(new HemisphereLight(0xffffff, 0x8a7a66, 2.0));
    const sun = new DirectionalLight(0xffffff, 1.8); // from high up, so shadows fall under what casts them: depth cues for the tip
    sun.position.set(0.42 + 0.35, -0.45, 2.2);
    sun.target.position.set(0.42, 0, 0);
    sun.castShadow = true;
    sun.shadow.mapSize.set(1024, 1024);
    Object.assign(sun.shadow.camera, { left: -0.9, right: 0.9, top: 0.9, bottom: -0.9, near: 0.5, far: 4 });
    this.scene.add(sun, sun.target, this.geoms, this.decorations(), this.cross, this.paths);
    Object.assign(this.toggle.style, { position: "absolute", top: "10px", right: "10px", display: "none" });
    this.toggle.type = "button";
    this.toggle.textContent = "Top view";
    this.toggle.onclick = () => this.setView(this.toggle.textContent === "Top view" ? "top" : "3/4");
    c.after(this.toggle);
    this.wireOrbit();
    this.placeCamera();
    const tip = (p: Float32Array | null, obs: Record<string, Float32Array>) => (p ? [0, 1].map((i) => Math.min(WORKSPACE_HIGH[i], Math.max(WORKSPACE_LOW[i], p[i]))) : obs["observation.state"].subarray(7, 9));
    this.task = {
      envId: "arm-push-v1",
      toPx: (p, size) => {
        const v = new Vector3(p[0], p[1], 0).project(this.camera);
        return [((v.x + 1) / 2) * size, ((1 - v.y) / 2) * size];
      },
      fromPx: (x, y, size) => this.onTable((x / size) * 2 - 1, 1 - (y / size) * 2),
      // actions are the tip's targets: the chunk is the path itself
      path: (_obs, c, a) => Array.from({ length: c.length / a }, (_, i) => [c[i * a], c[i * a + 1]] as [number, number]),
      // the pointer's point on the table, kept inside the action space; before the first press: hold the tip where it is
      pointerAction: (p, obs) => Float32Array.from(tip(p, obs)),
    };
  }

  /** The fixed scene: the target square (light green) and the action space's rectangle (where the tip can go). */
  private decorations(): Group {
    const g = new Group(), h = BLOCK_HALF;
    const target = new Mesh(new PlaneGeometry(2 * h, 2 * h), new MeshLambertMaterial({ color: new Color().setRGB(0.56, 0.93, 0.56, SRGBColorSpace), polygonOffset: true, polygonOffsetFactor: -2 }));
    target.position.set(TARGET[0], TARGET[1], 0.0005);
    target.rotation.z = TARGET[2];
    target.receiveShadow = true;
    const [x0, y0] = WORKSPACE_LOW, [x1, y1] = WORKSPACE_HIGH;
    const box = new LineLoop(new BufferGeometry().setFromPoints([[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(([x, y]) => new Vector3(x, y, 0.001))), new LineBasicMaterial({ color: 0x9a8a70 }));
    g.add(target, box);
    return g;
  }

  /** Pointer in normalized device coordinates → the point (x, y) on the table it shows; a ray that misses goes far out (the action is clamped). */
  private onTable(nx: number, ny: number): [number, number] {
    const ray = new Raycaster();
    ray.setFromCamera(new Vector2(nx, ny), this.camera);
    const hit = ray.ray.intersectPlane(new Plane(new Vector3(0, 0, 1), 0), new Vector3());
    const p = hit ?? ray.ray.origin.clone().addScaledVector(ray.ray.direction.setZ(0).normalize(), 10);
    return [p.x, p.y];
  }

  private placeCamera(): void {
    const { az, el, dist, at } = this.orbit;
    this.camera.position.set(at[0] + dist * Math.cos(el) * Math.cos(az), at[1] + dist * Math.cos(el) * Math.sin(az), at[2] + dist * Math.sin(el));
    this.camera.lookAt(at[0], at[1], at[2]);
    this.camera.updateMatrixWorld();
    this.moved = true;
  }

  /** The 3/4 view, or the view from above (from across the table: the robot's base at the top). */
  setView(v: keyof typeof VIEWS): void {
    this.orbit = { ...VIEWS[v] };
    this.toggle.textContent = v === "top" ? "3/4 view" : "Top view";
    this.seeThrough(v === "top");
    this.placeCamera();
  }

  private seeThrough(on: boolean): void {
    for (const { mesh, arm, alpha } of this.meshes) {
      const m = mesh.material, opacity = on && arm ? 0.3 * alpha : alpha;
      Object.assign(m, { opacity, transparent: opacity < 1, depthWrite: opacity === 1 });
      m.needsUpdate = true;
    }
  }

  /** Shift-drag or right-drag orbits (handled before the page's take-over handlers see the press); the wheel zooms. */
  private wireOrbit(): void {
    const arena = this.overlay.parentElement!, o = this.overlay;
    const own = (e: Event) => (e.stopPropagation(), e.preventDefault());
    arena.addEventListener("pointerdown", (e) => {
      if (!this.env || e.target !== o || !(e.button === 2 || e.shiftKey)) return;
      own(e);
      o.setPointerCapture(e.pointerId);
      this.dragging = { x: e.clientX, y: e.clientY };
    }, true);
    arena.addEventListener("pointermove", (e) => {
      if (!this.dragging) return;
      own(e);
      this.orbit.az -= (e.clientX - this.dragging.x) * 0.01;
      this.orbit.el = Math.min(1.553, Math.max(0.05, this.orbit.el + (e.clientY - this.dragging.y) * 0.01));
      this.dragging = { x: e.clientX, y: e.clientY };
      this.placeCamera();
    }, true);
    const end = (e: Event) => this.dragging && (own(e), (this.dragging = null));
    arena.addEventListener("pointerup", end, true);
    arena.addEventListener("pointercancel", end, true);
    o.addEventListener("contextmenu", (e) => this.env && e.preventDefault());
    o.addEventListener("wheel", (e) => {
      if (!this.env) return;
      e.preventDefault();
      this.orbit.dist = Math.min(4, Math.max(0.5, this.orbit.dist * Math.exp(e.deltaY * 0.001)));
      this.placeCamera();
    }, { passive: false });
  }

  /** Show `env` (an arm-push LiveEnv: its meshes are made from its model), or hide the view (null). */
  show(env: LiveEnv | null): void {
    const inner = env ? (env.inner instanceof Wrapper ? env.inner.unwrapped : env.inner) : null;
    this.env = inner as ArmEnv | null;
    this.canvas.style.display = this.toggle.style.display = this.env ? "block" : "none";
    this.clear(this.geoms);
    this.meshes.length = 0;
    if (this.env) this.build(this.env.simulation());
    this.seeThrough(this.toggle.textContent === "3/4 view");
    this.drawnPaths = null;
    this.moved = true;
  }

  /** One mesh per visible geom of `m`, shaped by its type and size (MuJoCo's capsules and cylinders lie along z). */
  private build({ model: m, mujoco: mj }: Sim): void {
    const type = m.geom_type as Int32Array, size = m.geom_size as Float64Array, rgba = m.geom_rgba as Float32Array;
    const root = m.body_rootid as Int32Array, body = m.geom_bodyid as Int32Array, tipSite = mj.mj_name2id(m, mj.mjtObj.mjOBJ_SITE.value, "tip");
    const armRoot = tipSite >= 0 ? root[(m.site_bodyid as Int32Array)[tipSite]] : -1; // the bodies of the tip's tree
    for (let g = 0; g < m.ngeom; g++) {
      const [sx, sy, sz] = size.subarray(3 * g, 3 * g + 3), t = type[g];
      if (rgba[4 * g + 3] === 0) continue;
      const geo = t === PLANE ? new PlaneGeometry(2 * (sx || 1), 2 * (sy || 1))
        : t === BOX ? new BoxGeometry(2 * sx, 2 * sy, 2 * sz)
        : t === SPHERE ? new SphereGeometry(sx, 24, 16)
        : t === ELLIPSOID ? new SphereGeometry(1, 24, 16).scale(sx, sy, sz)
        : t === CAPSULE ? new CapsuleGeometry(sx, 2 * sy, 6, 20).rotateX(Math.PI / 2)
        : t === CYLINDER ? new CylinderGeometry(sx, sx, 2 * sy, 24).rotateX(Math.PI / 2)
        : null; // meshes and height fields: not in this scene
      if (!geo) continue;
      const color = new Color().setRGB(rgba[4 * g], rgba[4 * g + 1], rgba[4 * g + 2], SRGBColorSpace);
      const alpha = rgba[4 * g + 3], mesh = new Mesh(geo, new MeshLambertMaterial({ color, transparent: alpha < 1, opacity: alpha }));
      mesh.matrixAutoUpdate = false;
      mesh.castShadow = t !== PLANE;
      mesh.receiveShadow = true;
      this.geoms.add(mesh);
      this.meshes.push({ mesh, g, arm: body[g] !== 0 && root[body[g]] === armRoot, alpha });
    }
  }

  private clear(group: Group): void {
    for (const o of [...group.children]) {
      group.remove(o);
      o.traverse((x) => {
        const obj = x as Mesh;
        obj.geometry?.dispose();
        (obj.material as Material | undefined)?.dispose?.();
      });
    }
  }

  /** Every geom at its pose in the MjData now (its views are read afresh: a view taken before the wasm heap grew detaches). */
  private sync(): void {
    const env = this.env!, d = env.simulation().data, pos = d.geom_xpos as Float64Array, R = d.geom_xmat as Float64Array;
    for (const { mesh, g } of this.meshes) {
      const p = 3 * g, r = 9 * g;
      mesh.matrix.set(R[r], R[r + 1], R[r + 2], pos[p], R[r + 3], R[r + 4], R[r + 5], pos[p + 1], R[r + 6], R[r + 7], R[r + 8], pos[p + 2], 0, 0, 0, 1);
      mesh.matrixWorldNeedsUpdate = true;
    }
    // the tip's target, as the GIF renderer draws it (the env keeps the last one; none after a reset)
    const t = env.tipTarget();
    this.cross.visible = !!t;
    if (!t) return;
    if (!this.cross.children.length) {
      const red = new MeshBasicMaterial({ color: 0xe61e1e });
      for (const rot of [Math.PI / 4, -Math.PI / 4]) {
        const bar = new Mesh(new PlaneGeometry(0.05, 0.007), red);
        bar.rotation.z = rot;
        this.cross.add(bar);
      }
    }
    this.cross.position.set(t[0], t[1], 0.0015);
  }

  /** The predicted chunks (tip targets) as lines at the tip's height, older ones fainter. */
  private syncPaths(paths: [number, number][][]): void {
    if (paths === this.drawnPaths) return;
    this.drawnPaths = paths;
    this.clear(this.paths);
    paths.forEach((pts, i) => {
      if (pts.length < 2) return;
      const mat = new LineBasicMaterial({ color: 0xff8c00, transparent: true, opacity: 0.85 * Math.pow(0.45, paths.length - 1 - i) });
      this.paths.add(new Line(new BufferGeometry().setFromPoints(pts.map(([x, y]) => new Vector3(x, y, TIP_Z))), mat));
    });
  }

  /** Draw the current state (the canvas follows its displayed size, at most 2 device pixels per CSS pixel). */
  draw(paths: [number, number][][] = []): void {
    if (!this.env) return;
    const w = Math.max(64, Math.round(this.overlay.clientWidth * Math.min(2, devicePixelRatio)));
    if (this.canvas.width !== w) this.renderer.setSize(w, w, false);
    this.sync();
    this.syncPaths(paths);
    this.renderer.render(this.scene, this.camera);
    this.moved = false;
  }

  /** Frames per second of `n` full draws (the geoms' poses read, rendered, and the GPU waited for). */
  bench(n: number): number {
    const gl = this.renderer.getContext(), px = new Uint8Array(4), t0 = performance.now();
    for (let i = 0; i < n; i++) {
      this.moved = true;
      this.draw();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    }
    return n / ((performance.now() - t0) / 1000);
  }
}
