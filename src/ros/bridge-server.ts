/**
 * A rosbridge v2 protocol server for tests and demos, over a real WebSocket. Behaves like the real one where
 * clients can tell: publish advertises implicitly, a failed service call answers result:false with the error in
 * `values`, no status frames are sent. Back ends: an in-process topic bus (fast tests, fault injection) or a real
 * ROS 1 graph (backends/ros1.ts). Fault injection: dropAllClients(), injectRaw(topic, json).
 */
import { WebSocketServer, type WebSocket } from "ws";

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
  readonly stats = { connections: 0, received: 0, sent: 0, badFrames: 0 };

  constructor(readonly backend: BridgeBackend, private readonly opts: { port?: number; host?: string } = {}) {}

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
        c.types.set(topic, m.type as string);
        this.backend.advertise(topic, m.type as string);
        break;
      case "unadvertise":
        c.types.delete(topic);
        break;
      case "publish":
        this.backend.publish(topic, c.types.get(topic), m.msg);
        break;
      case "subscribe":
        if (!c.subs.has(topic)) c.subs.set(topic, this.backend.subscribe(topic, m.type as string | undefined, (msg) => this.send(c, { op: "publish", topic, msg })));
        break;
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
