// The camera and the QR decoders: the browser's BarcodeDetector where it has one for QR codes, otherwise
// the vendored zxing-wasm reader (loaded only then), and what a scanned text says.

const ZXING = "/static/vendor/zxing-wasm-3.1.4/";
const FRAME_MS = 120; // between decode attempts: a fast reaction without heating the phone

let zxingReady = null;

function loadZxing() {
  zxingReady ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = ZXING + "zxing-reader.js";
    script.onload = () => {
      // The .wasm comes from this server, never a CDN.
      window.ZXingWASM.prepareZXingModule({
        overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? ZXING + path : prefix + path) },
        fireImmediately: true,
      });
      resolve(window.ZXingWASM);
    };
    script.onerror = () => reject(new Error("decoder failed to load"));
    document.head.append(script);
  });
  return zxingReady;
}

async function makeDecoder() {
  if ("BarcodeDetector" in window) {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (formats.includes("qr_code")) {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return { kind: "BarcodeDetector", decode: async (canvas) => (await detector.detect(canvas))[0]?.rawValue };
    }
  }
  const zxing = await loadZxing();
  const options = { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 };
  return {
    kind: "zxing-wasm",
    decode: async (canvas) => {
      const image = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      const results = await zxing.readBarcodes(image, options);
      return results.find((r) => r.isValid)?.text;
    },
  };
}

// What a scanned text is: a 信易+ token (QR digits as pairs, ord(c) - 45, or the token itself), or null.
export function tokenFrom(text) {
  const value = (text || "").trim();
  if (/^\d+$/.test(value) && value.length % 2 === 0) {
    let token = "";
    for (let i = 0; i < value.length; i += 2) token += String.fromCharCode(Number(value.slice(i, i + 2)) + 45);
    return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token) ? token : null;
  }
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value) ? value : null;
}

export class Camera {
  constructor(video, { onCode, onIdle }) {
    this.video = video;
    this.onCode = onCode; // (text, frameAt): a code was read from the frame grabbed at frameAt
    this.onIdle = onIdle; // (seconds): nothing found for that long
    this.canvas = document.createElement("canvas");
    this.scanning = false;
    this.stream = null;
    this.decoder = null;
  }

  async start() {
    this.decoder ??= await makeDecoder();
    if (!this.stream) {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
      this.video.srcObject = this.stream;
      await this.video.play();
    }
    this.resume();
  }

  get track() {
    return this.stream?.getVideoTracks()[0];
  }

  get hasTorch() {
    return Boolean(this.track?.getCapabilities?.().torch);
  }

  async setTorch(on) {
    await this.track.applyConstraints({ advanced: [{ torch: on }] });
  }

  resume() {
    if (this.scanning || !this.stream) return;
    this.scanning = true;
    this.loop();
  }

  pause() {
    this.scanning = false;
  }

  // Let go of the camera (its light goes off); start() opens it again.
  stop() {
    this.pause();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.video.srcObject = null;
    this.stream = null;
  }

  async loop() {
    const started = performance.now();
    let idleTold = 0;
    while (this.scanning) {
      const { videoWidth: width, videoHeight: height } = this.video;
      if (width && height) {
        const frameAt = performance.now();
        this.canvas.width = width;
        this.canvas.height = height;
        this.canvas.getContext("2d", { willReadFrequently: true }).drawImage(this.video, 0, 0, width, height);
        let text = null;
        try {
          text = await this.decoder.decode(this.canvas);
        } catch {
          text = null; // an unreadable frame is like an empty one
        }
        if (text && this.scanning) {
          this.pause();
          this.onCode(text, frameAt);
          return;
        }
      }
      const idle = Math.floor((performance.now() - started) / 1000);
      if (idle >= 5 && idle !== idleTold) {
        idleTold = idle;
        this.onIdle(idle);
      }
      await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
    }
  }
}
