// Reads a QR code from the camera (a wallet card, or the recovery sheet on a kiosk).
// jsQR loads only when someone presses "Scan"; the camera stops as soon as a code is read,
// when the person stops, or when the page is left.

/** What a wallet QR code holds: { handle, recoveryKey? } or null. */
export function parseWalletQr(text) {
  const match = /^WALLET1:([a-z0-9][a-z0-9-]{1,38}[a-z0-9])(?::(WR1-[A-Z2-7-]+))?$/.exec(text.trim());
  return match ? { handle: match[1], recoveryKey: match[2] ?? null } : null;
}

/**
 * Starts the camera in `video` and resolves with the first wallet QR code seen.
 * Returns { result: Promise, stop() }. Rejects with a DOMException when there is no camera or
 * the person refused it.
 */
export function scanWalletQr(video, { signal } = {}) {
  let stream = null;
  let stopped = false;
  let timer = null;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream?.getTracks() ?? []) track.stop();
    video.srcObject = null;
  };
  signal?.addEventListener("abort", stop);
  const result = (async () => {
    const { default: jsQR } = await import("jsqr");
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment" },
      audio: false,
    });
    if (stopped) {
      stop();
      throw new DOMException("stopped", "AbortError");
    }
    video.srcObject = stream;
    await video.play();
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return new Promise((resolve, reject) => {
      const look = () => {
        if (stopped) {
          reject(new DOMException("stopped", "AbortError"));
          return;
        }
        if (video.videoWidth) {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0);
          const frame = context.getImageData(0, 0, canvas.width, canvas.height);
          const code = jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
          const parsed = code && parseWalletQr(code.data);
          if (parsed) {
            stop();
            resolve(parsed);
            return;
          }
        }
        timer = setTimeout(look, 200);
      };
      look();
    });
  })();
  result.catch(() => stop());
  return { result, stop };
}
