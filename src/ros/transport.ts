/**
 * roslib's `ws` transport with a tolerant JSON parse. Some bridges write bare NaN and ±Infinity (Python's
 * json.dumps does by default), which JSON.parse refuses; roslib would then drop the whole frame with nothing but
 * an "error" event. Here such frames parse (JSON5) into non-finite numbers that meet the codec's normal checks:
 * an unused field is ignored, a used one is a malformed message. A frame that still does not parse, or is not a
 * rosbridge message, becomes an UnparseableFrame "error" naming its topic, for the connector to count.
 */
import { AbstractTransport, isRosbridgeMessage, type ITransportFactory, type RosbridgeMessage } from "roslib";
import JSON5 from "json5";
import { WebSocket } from "ws";

/** A frame from the bridge that could not be decoded; `topic` is read from the raw text when it names one. */
export class UnparseableFrame extends Error {
  constructor(readonly topic: string | null, reason: string) {
    super(`unparseable frame${topic ? ` on ${topic}` : ""}: ${reason}`);
  }
}

/**
 * Parse a rosbridge text frame: strict JSON first (fast), then JSON5, which also reads NaN, Infinity, -Infinity.
 * @throws SyntaxError when the text is neither.
 */
export function parseBridgeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON5.parse(text);
  }
}

const topicIn = (text: string): string | null => /"topic"\s*:\s*"([^"\\]{1,256})"/.exec(text)?.[1] ?? null;

/** Rewrites an outgoing rosbridge op (the connector adds ROS 2 `qos` to subscribe/advertise ops this way). */
type OpRewrite = (m: RosbridgeMessage & Record<string, unknown>) => RosbridgeMessage;

class TolerantWsTransport extends AbstractTransport {
  constructor(private readonly socket: WebSocket, private readonly rewrite: OpRewrite = (m) => m) {
    super();
    socket.binaryType = "arraybuffer";
    socket.onopen = (e) => this.emit("open", e);
    socket.onclose = (e) => this.emit("close", e);
    socket.onerror = (e) => this.emit("error", e);
    socket.onmessage = (e) => this.onFrame(e.data);
  }

  private onFrame(data: unknown): void {
    if (typeof data !== "string") return this.handleRawMessage(data); // binary (CBOR, …): roslib's own decoders
    let msg: unknown;
    try {
      msg = parseBridgeJson(data);
    } catch (e) {
      this.emit("error", new UnparseableFrame(topicIn(data), (e as Error).message));
      return;
    }
    if (!isRosbridgeMessage(msg)) this.emit("error", new UnparseableFrame(topicIn(data), "not a rosbridge message (no op)"));
    else this.handleRawMessage(msg);
  }

  send(message: RosbridgeMessage): void {
    this.socket.send(JSON.stringify(this.rewrite(message as RosbridgeMessage & Record<string, unknown>)));
  }
  close(): void {
    this.socket.close();
  }
  isConnecting(): boolean {
    return this.socket.readyState === WebSocket.CONNECTING;
  }
  isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }
  isClosing(): boolean {
    return this.socket.readyState === WebSocket.CLOSING;
  }
  isClosed(): boolean {
    return this.socket.readyState === WebSocket.CLOSED;
  }
}

/** For `new Ros({ transportFactory })`; `withOps(rewrite)` is the same transport rewriting each outgoing op. */
export const tolerantWsTransport: ITransportFactory & { withOps(rewrite: OpRewrite): ITransportFactory } = Object.assign(
  async (url: string) => new TolerantWsTransport(new WebSocket(url)),
  { withOps: (rewrite: OpRewrite): ITransportFactory => async (url: string) => new TolerantWsTransport(new WebSocket(url), rewrite) },
);
