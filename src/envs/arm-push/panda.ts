/**
 * The arm: a Franka Emika Panda built from its published kinematics, and the arm-push scene as MJCF (MuJoCo's XML)
 * with primitive geoms only (capsules, spheres, boxes, a plane). Lengths in metres, angles in radians, masses in kg.
 *
 * Sources of the constants:
 * - DH table (Craig's modified convention) and the joint position, velocity and torque limits: Franka Emika,
 *   "Robot and interface specifications", https://frankaemika.github.io/docs/control_parameters.html
 *   (sections "Denavit–Hartenberg parameters" and "Limits for Panda").
 * - Actuator gains (position servos kp 4500 / 2000, kv 450 / 200) follow MuJoCo Menagerie's franka_emika_panda
 *   model (Apache-2.0), https://github.com/google-deepmind/mujoco_menagerie/tree/main/franka_emika_panda.
 * The link shapes are capsules along the segments between consecutive DH frames (not the real meshes); the Franka
 * Hand is replaced by a rigid pusher (a rod ending in a sphere) on the flange.
 */

/** One row of the modified-DH table: a_{i-1}, d_i, alpha_{i-1} (m, m, rad); the joint angle is theta_i. */
export interface DhRow {
  a: number;
  d: number;
  alpha: number;
}

/** Franka's DH table, joints 1–7 then the flange (fixed). */
export const PANDA_DH: DhRow[] = [
  { a: 0, d: 0.333, alpha: 0 },
  { a: 0, d: 0, alpha: -Math.PI / 2 },
  { a: 0, d: 0.316, alpha: Math.PI / 2 },
  { a: 0.0825, d: 0, alpha: Math.PI / 2 },
  { a: -0.0825, d: 0.384, alpha: -Math.PI / 2 },
  { a: 0, d: 0, alpha: Math.PI / 2 },
  { a: 0.088, d: 0, alpha: Math.PI / 2 },
  { a: 0, d: 0.107, alpha: 0 }, // flange
];

/** Joint position limits (rad), Franka's "Limits for Panda". */
export const Q_MIN = [-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973];
export const Q_MAX = [2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973];
/** Joint velocity limits (rad/s), same source. */
export const QD_MAX = [2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61];
/** Joint torque limits (N·m), same source: the actuators' force ranges. */
export const TAU_MAX = [87, 87, 87, 87, 12, 12, 12];
/** Franka's "ready" pose (libfranka's examples): the flange points down. Its flange orientation is the controller's target. */
export const Q_READY = [0, -Math.PI / 4, 0, (-3 * Math.PI) / 4, 0, Math.PI / 2, Math.PI / 4];

/** The pusher on the flange: a rod of this length (m) along the flange's z axis, ending in a sphere of TIP_RADIUS. */
export const TOOL_LENGTH = 0.1;
export const TIP_RADIUS = 0.015;
/** The block: a cube of this half-size (m) and mass (kg); its friction with the table (sliding coefficient). */
export const BLOCK_HALF = 0.03;
export const BLOCK_MASS = 0.2;
export const BLOCK_FRICTION = 0.5;
/** MuJoCo's timestep (s): the env runs CONTROL period / TIMESTEP substeps per action. */
export const TIMESTEP = 0.002;

const KP = [4500, 4500, 4500, 4500, 2000, 2000, 2000];
const KV = [450, 450, 450, 450, 200, 200, 200];
const LINK_RADIUS = [0.06, 0.06, 0.06, 0.055, 0.055, 0.05, 0.045, 0.04];
const f = (x: number) => (Math.abs(x) < 1e-12 ? "0" : x.toFixed(12).replace(/\.?0+$/, ""));

/** Where body i sits in body i-1's frame for a modified-DH row: RotX(alpha) TransX(a), then TransZ(d) after the joint. */
export function dhBodyPos(r: DhRow): [number, number, number] {
  return [r.a, -r.d * Math.sin(r.alpha), r.d * Math.cos(r.alpha)];
}

/**
 * The arm-push scene as MJCF: the table (plane z = 0), the Panda on it at the origin (base z up), the pusher with
 * the site "tip" at its sphere's centre, the free block "block" (site "block"), and position servos on the joints
 * (gravity compensated, torques clipped to Franka's limits). `<size memory>` keeps each MjData small (MuJoCo's
 * default arena is ~13.6 MB in this build).
 */
export function armPushMjcf(): string {
  const bodies: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < 7; i++) {
    const r = PANDA_DH[i];
    const [x, y, z] = dhBodyPos(r);
    const next = dhBodyPos(PANDA_DH[i + 1]);
    const len = Math.hypot(...next);
    const geom = len > 1e-9
      ? `<geom class="link" type="capsule" size="${LINK_RADIUS[i + 1]}" fromto="0 0 0 ${next.map(f).join(" ")}"/>`
      : `<geom class="link" type="sphere" size="${LINK_RADIUS[i + 1]}"/>`;
    bodies.push(
      `<body name="link${i + 1}" pos="${f(x)} ${f(y)} ${f(z)}" axisangle="1 0 0 ${f(r.alpha)}" gravcomp="1">`,
      `<joint name="joint${i + 1}" range="${Q_MIN[i]} ${Q_MAX[i]}"/>`,
      geom,
    );
    close.push("</body>");
  }
  const flange = dhBodyPos(PANDA_DH[7]);
  const tool = [
    `<body name="tool" pos="${flange.map(f).join(" ")}" gravcomp="1">`,
    `<geom class="link" type="cylinder" size="0.04 0.01" pos="0 0 0.01"/>`,
    `<geom name="rod" class="tool" type="capsule" size="0.008" fromto="0 0 0.02 0 0 ${TOOL_LENGTH}"/>`,
    `<geom name="tip" class="tool" type="sphere" size="${TIP_RADIUS}" pos="0 0 ${TOOL_LENGTH}"/>`,
    `<site name="tip" pos="0 0 ${TOOL_LENGTH}" size="0.005"/>`,
    `</body>`,
  ];
  const actuators = KP.map((kp, i) => `<general name="a${i + 1}" joint="joint${i + 1}" biastype="affine" gainprm="${kp}" biasprm="0 -${kp} -${KV[i]}" ctrlrange="${Q_MIN[i]} ${Q_MAX[i]}" forcerange="-${TAU_MAX[i]} ${TAU_MAX[i]}"/>`);
  return `<mujoco model="arm-push">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="${TIMESTEP}" integrator="implicitfast" cone="pyramidal"/>
  <size memory="2M"/>
  <default>
    <joint axis="0 0 1" damping="1" armature="0.1"/>
    <default class="link"><geom contype="0" conaffinity="0" density="1000" rgba="0.92 0.92 0.95 1"/></default>
    <default class="tool"><geom contype="1" conaffinity="1" density="500" friction="0.3 0.005 0.0001" rgba="0.2 0.2 0.25 1"/></default>
  </default>
  <worldbody>
    <geom name="table" type="plane" size="1 1 0.01" contype="1" conaffinity="1" friction="${BLOCK_FRICTION} 0.005 0.0001" rgba="0.8 0.7 0.55 1"/>
    <body name="link0">
      <geom class="link" type="capsule" size="${LINK_RADIUS[0]}" fromto="0 0 0.05 0 0 ${PANDA_DH[0].d}"/>
      ${bodies.join("\n      ")}
      ${tool.join("\n      ")}
      ${close.join("")}
    </body>
    <body name="block" pos="0.5 0 ${BLOCK_HALF}">
      <freejoint name="block"/>
      <geom name="block" type="box" size="${BLOCK_HALF} ${BLOCK_HALF} ${BLOCK_HALF}" mass="${BLOCK_MASS}" friction="${BLOCK_FRICTION} 0.005 0.0001" rgba="0.47 0.53 0.6 1"/>
      <site name="block" size="0.005"/>
    </body>
  </worldbody>
  <actuator>
    ${actuators.join("\n    ")}
  </actuator>
</mujoco>
`;
}
