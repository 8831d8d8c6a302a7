// Server-Sent Events over fetch (EventSource cannot POST).

/**
 * Reads `response.body` as an event stream and calls onEvent(type, data) for each event.
 * Handles events and UTF-8 characters split across reads (TextDecoder in stream mode),
 * CRLF/CR/LF line ends (a CRLF may itself be split), comments, and multi-line data.
 * Resolves at the end of the stream; rejects with the reader's error (AbortError on abort).
 */
export async function readEventStream(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let type = "";
  let data = [];

  const dispatch = () => {
    if (data.length) onEvent(type || "message", data.join("\n"));
    type = "";
    data = [];
  };
  const handleLine = (line) => {
    if (line === "") {
      dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  };
  const drain = (final) => {
    const eol = /\r\n|\r|\n/g;
    let start = 0;
    let match;
    while ((match = eol.exec(buffer)) !== null) {
      // A lone CR at the very end may be the first half of a CRLF split across reads.
      if (!final && match[0] === "\r" && match.index === buffer.length - 1) break;
      handleLine(buffer.slice(start, match.index));
      start = match.index + match[0].length;
    }
    buffer = buffer.slice(start);
  };

  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      buffer += decoder.decode();
      drain(true);
      if (buffer) handleLine(buffer);
      dispatch(); // lenient: a last event without its blank line still counts
      return;
    }
    buffer += decoder.decode(value, { stream: true });
    drain(false);
  }
}
