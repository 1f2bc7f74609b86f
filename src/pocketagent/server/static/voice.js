// Speaking a request: record the microphone in the browser, turn it into 16 kHz mono PCM16 WAV,
// upload it to `POST /v1/audio/transcriptions` (multipart field `file`, answer `{"text": ...}`).
//
// MediaRecorder gives compressed audio (webm/opus in Chromium); the browser decodes it
// (decodeAudioData) and an OfflineAudioContext resamples it to 16 kHz mono, so the server
// receives the one format its speech model wants, whatever the browser recorded.

export const TARGET_RATE = 16000;
const TRANSCRIBE_PATH = "/v1/audio/transcriptions";

/** PCM16 little-endian WAV bytes of mono float samples (-1..1) at `rate` Hz. */
export function encodeWav(samples, rate = TARGET_RATE) {
  const bytes = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(bytes);
  const ascii = (offset, text) => [...text].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Uint8Array(bytes);
}

/** An AudioBuffer (any rate, any channels) mixed down to mono and resampled to 16 kHz. */
export async function toMono16k(buffer) {
  const length = Math.max(1, Math.ceil(buffer.duration * TARGET_RATE));
  const offline = new OfflineAudioContext(1, length, TARGET_RATE);
  const source = offline.createBufferSource();
  source.buffer = buffer;
  source.connect(offline.destination); // a mono destination down-mixes the channels
  source.start();
  const rendered = await offline.startRendering();
  return rendered.getChannelData(0);
}

/** Recorded (compressed) audio as a 16 kHz mono WAV Blob. */
export async function recordingToWav(blob) {
  const context = new AudioContext();
  try {
    const decoded = await context.decodeAudioData(await blob.arrayBuffer());
    return new Blob([encodeWav(await toMono16k(decoded))], { type: "audio/wav" });
  } finally {
    context.close();
  }
}

/** Why this page cannot record here, or null when it can. */
export function microphoneProblem() {
  if (!window.isSecureContext) return "the microphone needs https or a localhost address";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "this browser cannot record audio";
  if (typeof MediaRecorder === "undefined") return "this browser cannot record audio (no MediaRecorder)";
  return null;
}

/**
 * Whether the server transcribes speech: an empty upload is refused as a bad request (400/422)
 * when it does; 404 (no such endpoint) or 501 (voice not installed) when it does not.
 * Resolves to null when it does, else the reason to show.
 */
export async function transcriptionProblem(api) {
  let response;
  try {
    response = await api.send(TRANSCRIBE_PATH, { method: "POST", body: new FormData() });
  } catch {
    return null; // unknown (e.g. no token given yet): try when the user asks for it
  }
  if (response.status === 404) return "speech input is not available: this server has no transcription endpoint";
  if (response.status === 501) {
    let message = "speech input is not installed on the server";
    try {
      message = (await response.json()).error.message || message;
    } catch {
      // keep the generic message
    }
    return message;
  }
  return null;
}

/** Upload a WAV Blob; resolves to the transcript text. */
export async function transcribe(api, wav) {
  const form = new FormData();
  form.append("file", wav, "speech.wav");
  form.append("model", "whisper-1"); // any name: the server has one model (the OpenAI API requires the field)
  const result = await api.json(TRANSCRIBE_PATH, { method: "POST", body: form });
  return (result.text || "").trim();
}

/** One recording from the microphone: `start()`, then `stop()` resolves to the recorded Blob. */
export class Recorder {
  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } });
    this.chunks = [];
    this.recorder = new MediaRecorder(this.stream);
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) this.chunks.push(event.data);
    });
    this.recorder.start();
  }

  get recording() {
    return Boolean(this.recorder && this.recorder.state === "recording");
  }

  stop() {
    return new Promise((resolve) => {
      this.recorder.addEventListener(
        "stop",
        () => {
          this.stream.getTracks().forEach((track) => track.stop());
          resolve(new Blob(this.chunks, { type: this.recorder.mimeType || "audio/webm" }));
        },
        { once: true },
      );
      this.recorder.stop();
    });
  }
}
