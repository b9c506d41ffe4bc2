/** The page's "Train here" box: steps, Train/Stop, a progress bar and the loss; the trained policy is handed to `onTrained`. */
import type { CheckpointMeta, Weights } from "../../src/checkpoints/format.ts";
import type { Recorder } from "../../src/web/recorder.ts";
import { PageTraining, type TrainState } from "./training.ts";
import { wholeNumber, InputError } from "./inputs.ts";

export interface TrainUiDeps {
  recorder(): Recorder;
  envId(): string;
  status(s: string): void;
  fail(e: unknown): void;
  /** Install the trained policy; returns what the page did with it, for the status line. */
  onTrained(envId: string, meta: CheckpointMeta, weights: Weights, s: TrainState): Promise<string>;
}

export function wireTraining(d: TrainUiDeps): PageTraining {
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const button = $<HTMLButtonElement>("train"), bar = $<HTMLProgressElement>("train-progress"), info = $("train-info");
  const training = new PageTraining();
  const show = (s: TrainState) => {
    bar.max = s.steps;
    bar.value = s.step;
    const last = s.losses.slice(-10), loss = last.reduce((a, b) => a + b, 0) / Math.max(1, last.length);
    info.textContent = `step ${s.step} / ${s.steps} · loss ${loss.toFixed(3)} (mean of the last ${last.length}) · ${s.stepsPerSec.toFixed(1)} steps/s${s.backend ? ` · ${s.backend}` : ""}`;
  };
  const idle = () => {
    button.textContent = "Train SCD on my recordings";
    button.disabled = d.recorder().episodes.length === 0; // the env may have changed while it trained
  };
  button.onclick = () => {
    if (training.running) {
      training.stop();
      idle();
      d.status("training stopped");
      return;
    }
    try {
      const steps = wholeNumber("train-steps", "training steps", 10, 20000), rec = d.recorder(), envId = d.envId();
      if (!rec.episodes.length) throw new InputError("record an episode first (Take over)");
      const n = rec.episodes.length;
      training.start(rec.bytes(), `${envId}-recording.scdd`, steps, {
        onProgress: show,
        onDone: (meta, weights, s) => {
          idle();
          d.onTrained(envId, meta, weights, s).then((what) => d.status(`trained ${s.steps} steps on your ${n} ${envId} episode(s) in ${s.seconds?.toFixed(1)} s: ${what}`), d.fail);
        },
        onError: (m) => {
          idle();
          d.fail(new Error(`training failed: ${m}`));
        },
      });
      show(training.state);
      button.textContent = "Stop training";
      d.status(`training SCD on your ${n} episode(s) in a Web Worker…`);
    } catch (e) {
      d.fail(e);
    }
  };
  return training;
}
