/**
 * Lets queued messages (pause, α changes) run between training steps. A MessageChannel round
 * trip is a macrotask without setTimeout's 4 ms clamp, so yielding every ~25 ms costs almost
 * nothing.
 */
const channel = typeof MessageChannel !== 'undefined' ? new MessageChannel() : null;
const waiting: (() => void)[] = [];
if (channel) {
  channel.port1.onmessage = () => waiting.shift()?.();
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (!channel) {
      setTimeout(resolve, 0);
      return;
    }
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}
