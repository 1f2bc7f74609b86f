// Talking to `pocketagent serve`: JSON calls with the bearer token, and the run's SSE event stream.
//
// The token (when the server has one) is asked for once, on the first 401, and kept in
// sessionStorage: gone when the tab closes, never written to disk by us.

const TOKEN_KEY = "pocketagent.token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The server's error message from an error response (`{"error": {"message": ...}}`), else the status. */
async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

export class Api {
  /** `askToken()` resolves to a token string (or null when the user cancels). */
  constructor(askToken) {
    this.askToken = askToken;
    this.pendingAsk = null;
  }

  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  headers(extra = {}) {
    const headers = { ...extra };
    const token = this.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  /** Ask for the token once, however many requests got 401 at the same time. */
  async renewToken() {
    if (!this.pendingAsk) {
      this.pendingAsk = Promise.resolve(this.askToken()).finally(() => {
        this.pendingAsk = null;
      });
    }
    const token = await this.pendingAsk;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    return Boolean(token);
  }

  /** fetch() with the token; a 401 asks for the token and tries again (once per answer). */
  async send(path, init = {}) {
    for (;;) {
      const response = await fetch(path, { ...init, headers: this.headers(init.headers || {}) });
      if (response.status !== 401) return response;
      if (!(await this.renewToken())) throw new ApiError(401, await errorMessage(response));
    }
  }

  async json(path, init = {}) {
    const response = await this.send(path, init);
    if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
    return response.json();
  }

  post(path, body) {
    return this.json(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /**
   * Start a run and call `onEvent(event)` for each event of its stream, in order.
   * Resolves when the stream ends; aborting `signal` closes it (the server cancels the run).
   */
  async runStream(body, onEvent, signal) {
    const response = await this.send("/v1/agent/run", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser(onEvent);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    parser.end();
  }
}

/**
 * A text/event-stream parser: fields per message, dispatched at each blank line.
 * Lines may end in \r\n, \n or \r (sse-starlette sends \r\n); a \r at the very end of a chunk
 * waits for the next chunk, which may start with its \n.
 */
export class SseParser {
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.buffer = "";
    this.data = [];
    this.event = "";
    this.id = "";
  }

  feed(text) {
    this.buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) return;
      if (match[0] === "\r" && match.index === this.buffer.length - 1) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  end() {
    if (this.buffer) this.line(this.buffer);
    this.buffer = "";
    this.line("");
  }

  line(line) {
    if (line === "") {
      if (this.data.length) {
        const event = JSON.parse(this.data.join("\n"));
        this.onMessage(event, { event: this.event, id: this.id });
      }
      this.data = [];
      this.event = "";
      return;
    }
    if (line.startsWith(":")) return; // a keep-alive comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}
