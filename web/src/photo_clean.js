// Photos lose their hidden details (where they were taken, the phone's make, model and serial
// number, the time) on this device, before encryption: the browser decodes the picture with its
// orientation applied (createImageBitmap, imageOrientation "from-image") and its own encoder
// writes pixels only, through a canvas. No EXIF, XMP or IPTC byte of the original is copied.
// Some phone browsers strip them and some do not, so the page never relies on them.
// The Python twin is wallet/client/photos.py.
import { PlainError } from "./ui.js";

const QUALITY = 0.92;
const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "avif"]);

// The kind of picture by its first bytes (a file's declared type may be empty or wrong).
async function sniff(file) {
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  const ascii = (from, to) => String.fromCharCode(...head.slice(from, to));
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (head[0] === 0x89 && ascii(1, 4) === "PNG") return "image/png";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(4, 8) === "ftyp" && HEIF_BRANDS.has(ascii(8, 12))) return "image/heic";
  return null;
}

function encode(picture, type) {
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(picture.width, picture.height);
    canvas.getContext("2d").drawImage(picture.image, 0, 0);
    return canvas.convertToBlob({ type, quality: QUALITY });
  }
  const canvas = document.createElement("canvas");
  canvas.width = picture.width;
  canvas.height = picture.height;
  canvas.getContext("2d").drawImage(picture.image, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode"))), type, QUALITY),
  );
}

// createImageBitmap is stricter than <img> with some files an <img> shows (a PNG with a
// sloppy checksum): those are decoded through an <img>, which also applies the orientation.
async function decode(file) {
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    return { width: bitmap.width, height: bitmap.height, image: bitmap, close: () => bitmap.close() };
  } catch {
    const url = URL.createObjectURL(file);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight, image: img, close() {} };
    } catch {
      throw new PlainError("upload.photo_unreadable");
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

const EXTENSIONS = { "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp" };

/**
 * The file to encrypt: `file` itself when it is not a photo (a PDF) or when the person chose to
 * keep the details for this upload, else a new File with the pixels only, upright, same name
 * (the extension follows the format when it had to change: HEIC becomes JPEG; WebP becomes PNG
 * where the browser cannot write WebP). A photo that cannot be decoded is refused: nothing is
 * sent rather than the original with its details.
 */
export async function cleanPhoto(file, { keep = false } = {}) {
  if (keep) return file;
  const kind = await sniff(file);
  if (!kind) return file;
  const picture = await decode(file);
  let blob;
  try {
    const wanted = kind === "image/heic" ? "image/jpeg" : kind;
    blob = await encode(picture, wanted);
  } catch {
    throw new PlainError("upload.photo_unreadable");
  } finally {
    picture.close();
  }
  const type = blob.type || "image/png";
  let name = file.name || "photo";
  if (type !== kind) name = name.replace(/\.[^.]*$/, "") + (EXTENSIONS[type] || "");
  return new File([blob], name, { type, lastModified: Date.now() });
}
