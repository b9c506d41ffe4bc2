/**
 * A rosbridge v2 protocol server for tests and demos, over a real WebSocket. Behaves like the real one where
 * clients can tell: publish advertises implicitly, a failed service call answers result:false with the error in
 * `values`, no status frames are sent. Back ends: an in-process topic bus (fast tests, fault injection) or a real
 * ROS 1 graph (backends/ros1.ts). Fault injection: dropAllClients(), injectRaw(topic, json).
 *
 * `ros: 2` plays rosbridge for ROS 2 (rosbridge_suite's ROS 2 releases): type names in either spelling
 * (`pkg/msg/Name` or `pkg/Name`, as its ros_loader accepts), messages in ROS 2 layouts (stamps
 * `builtin_interfaces/Time {sec, nanosec}`, no header `seq`): a published message must match the ROS 2 definition
 * field by field (missing fields take defaults, an unknown field such as a ROS 1 `secs` refuses the message) and
 * travels as CDR, the way DDS carries it, so subscribers get exactly what a CDR round trip yields; a `qos` object on
 * subscribe/advertise is checked the way rosbridge's extract_qos_profile does. `ros: 1` (default) refuses ROS 2
 * type names, as ROS 1's ros_loader does. Refused ops send nothing back (the real servers only log them); the
 * server counts them in `stats.rejected` and keeps the reasons in `rejections`.
 */
import { WebSocketServer, type WebSocket } from "ws";
import { cdrCodec, conformRos2, parseRosType } from "../datasets/ros-messages.ts";

/** Where the test bridge's topics and services live: an in-process {@link TopicBus} or a ROS 1 graph ({@link Ros1Backend}). */
export interface BridgeBackend {
  /** Call `cb` with each message on `topic`; returns the unsubscribe function. */
  subscribe(topic: string, type: string | undefined, cb: (msg: unknown) => void): () => void;
  /** Declare a topic and its message type before publishing. */
  advertise(topic: string, type: string): void;
  /** Publish a message on `topic` (advertising it when the type is given). */
  publish(topic: string, type: string | undefined, msg: unknown): void;
  /** Call a service; rejects with its error or after `timeoutMs`. */
  callService(name: string, args: unknown, timeoutMs: number): Promise<unknown>;
  /** Release the back end. */
  close(): Promise<void>;
}

/** One connected WebSocket client and its subscriptions. */
interface Client {
  ws: WebSocket;
  /** Topic → its unsubscribe function. */
  subs: Map<string, () => void>;
  types: Map<string, string>;
}

/** A rosbridge v2 protocol server over a real WebSocket (tests, demos, `scd bridge`), with fault injection. */
export class RosbridgeServer {
  private wss: WebSocketServer | null = null;
  private readonly clients = new Set<Client>();
  readonly stats = { connections: 0, received: 0, sent: 0, badFrames: 0, rejected: 0 };
  /** Why ops were refused (latest 50): a bad type name, a message that does not fit its ROS 2 definition, a bad qos. */
  readonly rejections: string[] = [];
  /** The `qos` objects clients gave per topic and op ("subscribe /x", "advertise /y"), as received. */
  readonly qos = new Map<string, unknown>();
  /** Which ROS the server plays (1 or 2). */
  readonly ros: 1 | 2;

  constructor(readonly backend: BridgeBackend, private readonly opts: { port?: number; host?: string; ros?: 1 | 2 } = {}) {
    this.ros = opts.ros ?? 1;
  }

  private reject(why: string): void {
    this.stats.rejected++;
    this.rejections.push(why);
    if (this.rejections.length > 50) this.rejections.shift();
  }

  /** Whether this server's ROS accepts the type name (ROS 1: pkg/Name only; ROS 2: both, if the definition exists). */
  private typeOk(topic: string, type: unknown, op: string): boolean {
    if (type === undefined && op !== "advertise") return true;
    try {
      if (typeof type !== "string") throw new Error(`type ${JSON.stringify(type)} is not a string`);
      const t = parseRosType(type);
      if (this.ros === 1 && t.version === 2) throw new Error(`${type} is not a valid type string (ROS 1 names are pkg/Name)`);
      if (this.ros === 2) cdrCodec(type);
      return true;
    } catch (e) {
      this.reject(`${op} ${topic}: ${(e as Error).message}`);
      return false;
    }
  }

  /** rosbridge's extract_qos_profile checks (ROS 2 only; ROS 1 ignores the key). */
  private qosOk(topic: string, q: unknown, op: string): boolean {
    if (q === undefined || this.ros === 1) return true;
    const names: Record<string, string[]> = { history: ["keep_last", "keep_all"], reliability: ["reliable", "best_effort", "best_available"], durability: ["transient_local", "volatile", "best_available"] };
    const bad = (why: string) => (this.reject(`${op} ${topic}: qos ${why}`), false);
    if (!q || typeof q !== "object" || Array.isArray(q)) return bad(`must be a dict, got ${JSON.stringify(q)}`);
    for (const [k, v] of Object.entries(q as Record<string, unknown>)) {
      if (names[k] && !(typeof v === "string" && names[k].includes(v.toLowerCase()))) return bad(`'${v}' is not a valid ${k} policy name. Valid options are: ${names[k].join(", ")}`);
      if (k === "depth" && !(Number.isInteger(v) && (v as number) >= 0)) return bad(`depth must be a non-negative integer, got ${v}`);
    }
    this.qos.set(`${op} ${topic}`, q);
    return true;
  }

  /** ROS 2: the message as DDS would deliver it (conformed to the definition, through CDR); null when refused. */
  private overDds(topic: string, type: string | undefined, msg: unknown, op: string): unknown {
    if (this.ros === 1) return msg;
    const t = type ?? (this.backend as { types?: Map<string, string> }).types?.get(topic);
    try {
      if (!t) throw new Error(`Cannot infer topic type for topic ${topic} as it is not yet advertised`);
      const codec = cdrCodec(t);
      return codec.read(codec.write(conformRos2(msg, t)));
    } catch (e) {
      this.reject(`${op} ${topic}: ${(e as Error).message}`);
      return null;
    }
  }

  /** Listen (port 0: any free port); resolves with the port. */
  async start(): Promise<number> {
    this.wss = new WebSocketServer({ port: this.opts.port ?? 0, host: this.opts.host ?? "127.0.0.1" });
    await new Promise<void>((res, rej) => (this.wss!.once("listening", res), this.wss!.once("error", rej)));
    this.wss.on("connection", (ws) => this.onConnection(ws));
    return (this.wss.address() as { port: number }).port;
  }

  /** The WebSocket URL clients connect to (after start). */
  get url(): string {
    return `ws://${this.opts.host ?? "127.0.0.1"}:${(this.wss!.address() as { port: number }).port}`;
  }

  private send(c: Client, obj: unknown): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    this.stats.sent++;
    c.ws.send(JSON.stringify(obj));
  }

  private onConnection(ws: WebSocket): void {
    const c: Client = { ws, subs: new Map(), types: new Map() };
    this.clients.add(c);
    this.stats.connections++;
    ws.on("message", (data) => this.onFrame(c, data.toString()));
    ws.on("close", () => {
      for (const off of c.subs.values()) off();
      this.clients.delete(c);
    });
  }

  private onFrame(c: Client, text: string): void {
    this.stats.received++;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text);
    } catch {
      this.stats.badFrames++; // the real server only logs; clients get nothing back
      return;
    }
    const topic = m.topic as string;
    switch (m.op) {
      case "advertise":
        if (!this.typeOk(topic, m.type, "advertise") || !this.qosOk(topic, m.qos, "advertise")) break;
        c.types.set(topic, m.type as string);
        this.backend.advertise(topic, m.type as string);
        break;
      case "unadvertise":
        c.types.delete(topic);
        break;
      case "publish": {
        const msg = this.overDds(topic, c.types.get(topic), m.msg, "publish");
        if (msg !== null) this.backend.publish(topic, c.types.get(topic), msg);
        break;
      }
      case "subscribe": {
        if (!this.typeOk(topic, m.type, "subscribe") || !this.qosOk(topic, m.qos, "subscribe")) break;
        const type = m.type as string | undefined;
        if (!c.subs.has(topic))
          c.subs.set(topic, this.backend.subscribe(topic, type, (raw) => {
            const msg = this.overDds(topic, type, raw, "deliver");
            if (msg !== null) this.send(c, { op: "publish", topic, msg });
          }));
        break;
      }
      case "unsubscribe":
        c.subs.get(topic)?.();
        c.subs.delete(topic);
        break;
      case "call_service": {
        const timeout = typeof m.timeout === "number" ? m.timeout * 1000 : 5000;
        this.backend.callService(m.service as string, m.args ?? {}, timeout).then(
          (values) => this.send(c, { op: "service_response", service: m.service, id: m.id, values, result: true }),
          (e: Error) => this.send(c, { op: "service_response", service: m.service, id: m.id, values: String(e?.message ?? e), result: false }),
        );
        break;
      }
      default:
        this.stats.badFrames++;
    }
  }

  /** Close every client's socket abruptly (a network drop, as the client sees it). */
  dropAllClients(): number {
    const n = this.clients.size;
    for (const c of this.clients) c.ws.terminate();
    return n;
  }

  /** Send a raw frame to every client subscribed to `topic` (malformed-message tests). */
  injectRaw(topic: string, msg: unknown): void {
    for (const c of this.clients) if (c.subs.has(topic)) this.send(c, { op: "publish", topic, msg });
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Disconnect every client, stop listening and close the back end. */
  async close(): Promise<void> {
    for (const c of this.clients) c.ws.terminate();
    await new Promise<void>((res) => (this.wss ? this.wss.close(() => res()) : res()));
    await this.backend.close();
  }
}
