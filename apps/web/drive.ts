/**
 * Who drives, as the person sees it: the policy's runs, taking over and handing back, ending a person's episode
 * (kept, discarded, or when they let go for a while) and Reset. Each change goes through go() (control.ts).
 */
import { envSpec } from "../../src/envs/registry.ts";
import type { ChunkPolicy } from "../../src/policies/types.ts";
import { LiveRun } from "../../src/web/live-loop.ts";
import { LoopStats } from "../../src/web/stats.ts";
import { seedValue, denoisingSteps, strategy } from "./inputs.ts";
import type { Mode } from "./control.ts";
import { S, $, go, status, fail, policyName } from "./state.ts";

/** A person who lets go of the arena for this long has finished their episode (the idle steps are not kept). */
export const IDLE_END_MS = 3000;

/** Start `policy` driving as `mode`; `steps`: denoising steps K (checked before anything stopped); `limit`: steps until the run ends. */
export function startRun(policy: ChunkPolicy, mode: Mode, seed: number, steps?: number, limit?: number): void {
  S.run?.stop();
  if (S.active !== policy) S.active?.dispose?.(); // a tfjs policy's tensors; a no-op for the others
  S.active = policy;
  S.stats = new LoopStats();
  S.paths = [];
  S.drawnStep = -1;
  S.maxSteps = limit ?? envSpec(S.env.id).maxEpisodeSteps ?? 1000;
  const r: LiveRun = new LiveRun(S.env, policy, { strategy: strategy(policy.horizon), steps, seed, maxSteps: S.maxSteps }, {
    onEvent: (e) => {
      S.stats.add(e);
      if (e.type === "inference" && e.chunk && mode === "policy") S.paths = [...S.paths.slice(-3), S.task.path(S.env.current, e.chunk, policy.actionDim)];
    },
    onStep: (obs, a, _src, t) => {
      if (mode === "human") S.recorder.add(obs, a, t);
      S.rate.push(performance.now());
    },
    onError: fail,
    onEnd: (why) => {
      if (why === "stopped" || S.run !== r) return;
      const n = mode === "human" && S.ctl.recording ? finishRecording(0) : 0;
      go({ type: "end" });
      const s = S.env.stats, how = why === "terminated" ? "success" : why === "fault" ? `a simulator fault (${S.stats.lastReason}; the last good state was kept)` : "step limit";
      if (mode === "replay") status(`replay finished: all ${s.step} recorded steps (max reward ${s.maxReward.toFixed(3)})`);
      else if (mode === "human") status(`your episode ended: ${how} at step ${s.step}${n ? `, kept (${n} steps)` : ""}. Press on the arena for another, or Reset to watch the policy`);
      else status(`episode ended: ${how} at step ${s.step} (max reward ${s.maxReward.toFixed(3)}); Reset for another, or try another seed`);
    },
  });
  S.run = r;
  S.run.start();
}

export function policyRun(fresh: boolean): void {
  const seed = seedValue(), steps = denoisingSteps(); // both checked before anything stops or a policy is made
  if (S.ctl.recording) finishRecording(0);
  if (fresh) S.env.restart(seed);
  startRun(S.auto[$<HTMLSelectElement>("controller").value](), "policy", seed, steps);
  go({ type: "policy" });
}

/** Close the person's open episode, kept (less its last `dropLast` steps); returns the steps kept. */
export function finishRecording(dropLast: number): number {
  const n = S.recorder.end(dropLast);
  showRecordings();
  return n;
}

export function showRecordings(): void {
  $("rec-info").textContent = S.recorder.episodes.length ? `${S.recorder.episodes.length} episode(s), ${S.recorder.steps} steps kept` : "no recording yet";
  $<HTMLButtonElement>("download").disabled = S.recorder.episodes.length === 0;
  $<HTMLButtonElement>("train").disabled = S.recorder.episodes.length === 0 && !S.training.running; // it is also the Stop button
}

export function takeOver(): void {
  if (S.ctl.mode === "human" && S.ctl.phase !== "ended") return handBack();
  const seed = seedValue(), record = $<HTMLInputElement>("record").checked;
  const fresh = S.ctl.phase === "ended" || !S.run?.running;
  if (fresh) S.env.restart(seed); // an ended episode: a fresh one for the person
  if (record) S.recorder.begin();
  S.pointer.setPointer(null);
  startRun(S.pointer, "human", seed);
  go({ type: "takeOver", record });
  showRecordings();
  localStorage.setItem("scd-hint-seen", "1");
  $("hint").hidden = true;
  status(`you have control${fresh ? ` (seed ${seed}, a fresh episode)` : ""}: drag on the arena${record ? "; recording" : ""}. Hand back, End & keep, or let go for ${IDLE_END_MS / 1000} s to finish`);
}

export function handBack(): void {
  const n = S.ctl.recording ? finishRecording(0) : -1;
  policyRun(S.ctl.phase === "ended" || !S.run?.running);
  status(`${policyName()} drives on from here${n > 0 ? `; your episode is kept (${n} steps)` : n === 0 ? "; nothing kept (under 2 steps)" : ""}`);
}

/** End & keep (`keep`), Discard, or the person let go for IDLE_END_MS (`idle`): their episode ends now. */
export function endEpisode(how: "keep" | "discard" | "idle"): void {
  window.clearTimeout(S.idleTimer);
  if (!S.ctl.recording) {
    if (how !== "discard") return;
    const n = S.recorder.discardLast();
    showRecordings();
    go();
    return status(n ? `discarded the last kept episode (${n} steps); ${S.recorder.episodes.length} left` : "nothing to discard");
  }
  const n = how === "discard" ? (S.recorder.discard(), 0) : finishRecording(how === "idle" ? S.recorder.openSteps - S.releasedAt : 0);
  showRecordings();
  S.run?.stop();
  go({ type: how === "discard" ? "discard" : "keep" });
  const what = how === "discard" ? "discarded your episode" : n ? `kept your episode (${n} steps${how === "idle" ? `; you let go for ${IDLE_END_MS / 1000} s, that time is not kept` : ""})` : "your episode was under 2 steps: nothing kept";
  status(`${what}. Press on the arena for another, or Reset to watch the policy`);
}

export function reset(): void {
  const seed = seedValue(), k = denoisingSteps(); // checked before anything stops
  S.run?.stop();
  policyRun(true);
  status(`seed ${seed}: ${policyName()} driving${S.auto.scd && $<HTMLSelectElement>("controller").value === "scd" ? ` (K = ${k})` : ""}`);
}
