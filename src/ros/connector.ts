/**
 * A ROS connector for the control loop over rosbridge (roslib): reconnects with exponential backoff, one Topic
 * object per name and direction, observation topics joined latest-per-topic (stamped with the OLDEST arrival so
 * the loop's max-age check covers every topic), actions published only while connected (dropped, never queued:
 * roslib would replay a queue as a burst on reconnect), service calls with a timeout, malformed messages counted
 * and logged — including frames that are not strict JSON (bare NaN: parsed by transport.ts) or not JSON at all.
 * ROS 2: a map binding's `qos` goes into rosbridge's subscribe/advertise ops (rosbridge for ROS 2 reads it; ROS 1
 * rosbridge ignores unknown keys); published messages carry a header stamp of the wall clock in the map's layout.
 * For recording (`scd record`), `listen` also subscribes to the action topic and the episode marker topic.
 */
import { Ros, Topic, Service } from "roslib";
import { BehaviorSubject, Subject, type Observable } from "rxjs";
import { ScdError } from "../errors.ts";
import type { Box, Obs } from "../envs/types.ts";
import { box } from "../envs/types.ts";
import type { TimedObs } from "../loop/safety.ts";
import { type TopicMap, fieldsDim, featureLayout } from "./topic-map.ts";
import { decodeFields, encodeAction } from "./codec.ts";
import { tolerantWsTransport } from "./transport.ts";

/** A decoded action message (what a teleoperator or another controller commanded) and when it arrived. */
export interface TimedAction {
  values: Float32Array;
  t: number;
}

/** The connector's counters: connections, messages received and malformed, actions published and dropped, service timeouts, recent errors. */
export interface ConnectorStats {
  connects: number;
  disconnects: number;
  received: number;
  malformed: number;
  published: number;
  dropped: number;
  serviceTimeouts: number;
  recentErrors: string[];
}

/** The connector's clock, reconnect backoff and log. */
export interface ConnectorOptions {
  /** The clock observations are stamped with (ms); default performance.now. */
  clock?: () => number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** The backoff resets only after a connection stays up this long (default: the max backoff), so a bridge that
   * accepts and drops every connection sees the backoff grow to its cap instead of a reconnect storm. */
  stableMs?: number;
  /** Where connection events and malformed messages are logged (one line each). */
  log?: (line: string) => void;
  /** Also subscribe to the action topic (→ actions$) and the map's episode marker topic (→ markers$): recording. */
  listen?: boolean;
}

/**
 * The control loop's link to a robot behind rosbridge (roslib): observation topics in, actions out, by a topic
 * map; reconnects with exponential backoff, publishes only while connected (never queues), counts and logs
 * malformed messages.
 */
export class RosConnector {
  readonly connected$ = new BehaviorSubject(false);
  private readonly obsSubject = new Subject<TimedObs>();
  readonly obs$: Observable<TimedObs> = this.obsSubject.asObservable();
  /** With `listen`: every well-formed message on the action topic. */
  readonly actions$ = new Subject<TimedAction>();
  /** With `listen`: the episode marker topic, true = start, false = stop (std_msgs Bool data, or String "start"/"stop"). */
  readonly markers$ = new Subject<boolean>();
  readonly stats: ConnectorStats = { connects: 0, disconnects: 0, received: 0, malformed: 0, published: 0, dropped: 0, serviceTimeouts: 0, recentErrors: [] };
  private readonly ros: Ros;
  private readonly subs = new Map<string, Topic>();
  private pub: Topic | null = null;
  /** The newest values of each observation binding (by its index in the map). */
  private readonly latest = new Map<number, { values: Float32Array; t: number }>();
  private readonly layout: ReturnType<typeof featureLayout>;
  private backoff: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stableTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly clock: () => number;

  constructor(readonly url: string, readonly map: TopicMap, private readonly opts: ConnectorOptions = {}) {
    this.clock = opts.clock ?? (() => performance.now());
    this.layout = featureLayout(map);
    this.backoff = opts.minBackoffMs ?? 100;
    const qos = new Map([...map.observations, map.action].filter((b) => b.qos).map((b) => [b.topic, b.qos!] as const));
    this.ros = new Ros({ transportFactory: qos.size ? tolerantWsTransport.withOps((m) => (m.op === "subscribe" || m.op === "advertise") && typeof m.topic === "string" && qos.has(m.topic) ? { ...m, qos: qos.get(m.topic) } : m) : tolerantWsTransport });
    this.ros.on("connection", () => {
      this.stats.connects++;
      if (this.stableTimer) clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => {
        this.stableTimer = null;
        this.backoff = this.opts.minBackoffMs ?? 100;
      }, this.opts.stableMs ?? this.opts.maxBackoffMs ?? 2000);
      this.connected$.next(true);
      this.log(`connected to ${url}`);
    });
    this.ros.on("close", () => this.onClose());
    // an Error is a frame that could not be decoded (counted like a malformed message); socket errors are
    // events, not Errors, and 'close' follows them
    this.ros.on("error", (e: unknown) => {
      if (!(e instanceof Error)) return;
      this.stats.received++;
      this.malformed(e.message);
    });
    for (const b of map.observations) {
      if (this.subs.has(b.topic)) continue; // one Topic per name, shared by every feature on it
      const t = new Topic({ ros: this.ros, name: b.topic, messageType: b.type, throttle_rate: map.throttleMs, queue_length: 1 });
      t.subscribe((msg) => this.onMessage(b.topic, msg));
      this.subs.set(b.topic, t);
    }
    this.pub = new Topic({ ros: this.ros, name: map.action.topic, messageType: map.action.type, queue_size: 1 });
    if (opts.listen) {
      const a = map.action;
      new Topic({ ros: this.ros, name: a.topic, messageType: a.type, queue_length: 1 }).subscribe((msg) => {
        this.stats.received++;
        const r = decodeFields(msg, a.fields, map.maxArrayLength);
        const want = fieldsDim(a.fields) ?? a.low.length;
        if ("error" in r || r.values.length !== want) this.malformed(`malformed ${a.type} on ${a.topic} (action): ${"error" in r ? r.error : `${r.values.length} values, the map declares ${want}`}`);
        else this.actions$.next({ values: r.values, t: this.clock() });
      });
      if (map.episodes) {
        const e = map.episodes;
        new Topic({ ros: this.ros, name: e.topic, messageType: e.type }).subscribe((msg) => {
          const d = (msg as { data?: unknown }).data;
          const on = typeof d === "boolean" ? d : typeof d === "string" ? (/^start$/i.test(d) ? true : /^stop$/i.test(d) ? false : null) : null;
          if (on === null) this.malformed(`episode marker on ${e.topic}: data ${JSON.stringify(d)} is not true/false or "start"/"stop"`);
          else this.markers$.next(on);
        });
      }
    }
  }

  /** The observation features the topic map defines, with their bounds. */
  get observationSpace(): Record<string, Box> {
    return Object.fromEntries([...this.layout].map(([f, e]) => {
      const bs = e.parts.map((p) => this.map.observations[p.index]);
      if (bs.length === 1) return [f, box([e.dim ?? bs[0].low?.length ?? 1], bs[0].low ?? -1e9, bs[0].high ?? 1e9)];
      const bound = (k: "low" | "high", d: number) => bs.flatMap((o, i) => o[k] ?? new Array(e.parts[i].dim!).fill(d));
      return [f, box([e.dim!], bound("low", -1e9), bound("high", 1e9))];
    }));
  }

  /** The action space the topic map defines. */
  get actionSpace(): Box {
    return box([this.map.action.low.length], this.map.action.low, this.map.action.high);
  }

  /** Connect; resolves on the first connection, rejects with a clear error after timeoutMs (reconnects go on). */
  async start(timeoutMs = 5000): Promise<void> {
    this.connect();
    if (this.connected$.value) return;
    await new Promise<void>((resolve, reject) => {
      const to = setTimeout(() => {
        s.unsubscribe();
        reject(new ScdError(`cannot reach rosbridge at ${this.url} within ${timeoutMs} ms (is the server running?)`));
      }, timeoutMs);
      const s = this.connected$.subscribe((c) => {
        if (c) {
          clearTimeout(to);
          queueMicrotask(() => s.unsubscribe());
          resolve();
        }
      });
    });
  }

  private connect(): void {
    if (this.closed) return;
    this.ros.connect(this.url).catch(() => {}); // failures surface as 'close'
  }

  /** The delay before the next reconnect attempt (ms). */
  get backoffMs(): number {
    return this.backoff;
  }

  private onClose(): void {
    if (this.stableTimer) clearTimeout(this.stableTimer); // it did not stay up: keep growing the backoff
    this.stableTimer = null;
    const was = this.connected$.value;
    if (was) {
      this.stats.disconnects++;
      this.log(`disconnected from ${this.url}`);
    }
    this.connected$.next(false);
    // invalidate what we had: the loop sees a stale observation at its next tick and falls back
    this.latest.clear();
    this.obsSubject.next({ obs: {}, t: Number.NEGATIVE_INFINITY });
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, this.backoff);
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 2000);
  }

  private onMessage(topic: string, msg: unknown): void {
    this.stats.received++;
    const now = this.clock();
    this.map.observations.forEach((b, i) => {
      if (b.topic !== topic) return;
      const r = decodeFields(msg, b.fields, this.map.maxArrayLength);
      const want = fieldsDim(b.fields);
      if ("error" in r || (want !== null && r.values.length !== want)) {
        this.malformed(`malformed ${b.type} on ${topic} (feature ${b.feature}): ${"error" in r ? r.error : `${r.values.length} values, the map declares ${want}`}`);
        return;
      }
      this.latest.set(i, { values: r.values, t: now });
    });
    if (this.latest.size === this.map.observations.length) {
      // each feature from its topic, or assembled from its topics' slices; stamped with the oldest arrival
      const obs: Obs = {};
      for (const [f, e] of this.layout) {
        if (e.parts.length === 1) obs[f] = this.latest.get(e.parts[0].index)!.values.slice();
        else {
          obs[f] = new Float32Array(e.dim!);
          for (const p of e.parts) obs[f].set(this.latest.get(p.index)!.values, p.offset);
        }
      }
      this.obsSubject.next({ obs, t: Math.min(...[...this.latest.values()].map((v) => v.t)) });
    }
  }

  /** Publish an action if connected; otherwise drop it (never queue control commands). */
  publish(action: ArrayLike<number>): boolean {
    if (!this.connected$.value || !this.ros.isConnected || !this.pub) {
      this.stats.dropped++;
      return false;
    }
    this.pub.publish(encodeAction(this.map.action.type, this.map.action.fields, action, Date.now(), this.map.action.set) as never);
    this.stats.published++;
    return true;
  }

  /** Call a service with a timeout (roslib's own call never returns if the socket drops). */
  callService<T = unknown>(name: string, type: string, args: Record<string, unknown> = {}, timeoutMs = 2000): Promise<T> {
    if (!this.connected$.value) return Promise.reject(new ScdError(`service ${name}: not connected to ${this.url}`));
    const svc = new Service({ ros: this.ros, name, serviceType: type });
    return new Promise<T>((resolve, reject) => {
      const to = setTimeout(() => {
        this.stats.serviceTimeouts++;
        reject(new ScdError(`service ${name} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      svc.callService(args, (res) => (clearTimeout(to), resolve(res as T)), (err) => (clearTimeout(to), reject(new ScdError(`service ${name} failed: ${err}`))));
    });
  }

  /** How many messages were malformed and the last reason, or null if none: why the loop may lack observations. */
  malformedNote(): string | null {
    const { malformed: m, received: n } = this.stats;
    if (!m) return null;
    return `${m >= n ? `all ${n}` : `${m} of ${n}`} messages from rosbridge were malformed, the last: ${this.stats.recentErrors.at(-1)}`;
  }

  private malformed(line: string): void {
    this.stats.malformed++;
    this.stats.recentErrors.push(line);
    if (this.stats.recentErrors.length > 20) this.stats.recentErrors.shift();
    this.log(line);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  /** Stop reconnecting and close the connection. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.stableTimer) clearTimeout(this.stableTimer);
    for (const t of this.subs.values()) t.unsubscribe();
    this.ros.close();
    this.obsSubject.complete();
    this.actions$.complete();
    this.markers$.complete();
  }
}
