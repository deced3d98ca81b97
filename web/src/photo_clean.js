// Photos lose their hidden details (where they were taken, the phone's make, model and serial
// number, the time) on this device, before encryption: the browser decodes the picture with its
// orientation applied (createImageBitmap, imageOrientation "from-image") and its own encoder
// writes pixels only, through a canvas (at most 2,000 px on its longest side). No EXIF, XMP or
// IPTC byte of the original is copied.
// Some phone browsers strip them and some do not, so the page never relies on them.
// PDFs lose their document information (Author, Creator, Producer, Title, dates...) and their XMP
// metadata, for the document and each page, with pdf-lib (loaded only when a PDF is chosen); the
// pages are written back as they are. A PDF with none of these, a signed one (its signature
// would break; its details are the issuer's) and one that cannot be read as a PDF are sent byte
// for byte. The Python twin is wallet/client/photos.py.
// Pages put together into one PDF (capture.js) go through the same decoding, then shrinkPhoto:
// at most 2,000 px on the longest side, JPEG at quality 0.8, turned as the person chose.
import { PlainError } from "./ui.js";

const QUALITY = 0.92;
const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "avif"]);

// The kind of picture by its first bytes (a file's declared type may be empty or wrong).
export async function sniff(file) {
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  const ascii = (from, to) => String.fromCharCode(...head.slice(from, to));
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (head[0] === 0x89 && ascii(1, 4) === "PNG") return "image/png";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(4, 8) === "ftyp" && HEIF_BRANDS.has(ascii(8, 12))) return "image/heic";
  return null;
}

export const PAGE_LONGEST = 2000;
export const PAGE_QUALITY = 0.8;

function canvasOf(width, height) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

// A photo larger than PAGE_LONGEST on its longest side (a phone camera's 12 MP) is made that
// size, and a JPEG is written at PAGE_QUALITY: a 12 MP photo costs a few hundred KB, not 4 MB.
function encode(picture, type) {
  const scale = Math.min(1, PAGE_LONGEST / Math.max(picture.width, picture.height));
  const width = Math.max(1, Math.round(picture.width * scale));
  const height = Math.max(1, Math.round(picture.height * scale));
  const quality = scale < 1 && type === "image/jpeg" ? PAGE_QUALITY : QUALITY;
  const canvas = canvasOf(width, height);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(picture.image, 0, 0, width, height);
  if (canvas.convertToBlob) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode"))), type, quality),
  );
}

// createImageBitmap is stricter than <img> with some files an <img> shows (a PNG with a
// sloppy checksum): those are decoded through an <img>, which also applies the orientation.
export async function decode(file) {
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

function toJpeg(canvas, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode"))), "image/jpeg", quality),
  );
}

/**
 * A photo made small for a page: upright (as the browser shows it), turned by `rotation`
 * degrees clockwise (0, 90, 180, 270), at most `longest` px on its longest side, encoded as a
 * JPEG by the browser: pixels only, no byte of the original's metadata. Returns
 * { blob, width, height } (the size after turning). A photo that cannot be decoded is refused.
 */
export async function shrinkPhoto(file, { rotation = 0, longest = PAGE_LONGEST, quality = PAGE_QUALITY } = {}) {
  const picture = await decode(file);
  try {
    const scale = Math.min(1, longest / Math.max(picture.width, picture.height));
    const w = Math.max(1, Math.round(picture.width * scale));
    const h = Math.max(1, Math.round(picture.height * scale));
    const sideways = rotation === 90 || rotation === 270;
    const canvas = canvasOf(sideways ? h : w, sideways ? w : h);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // a transparent PNG becomes white paper, not black
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.translate(canvas.width / 2, canvas.height / 2);
    context.rotate((rotation * Math.PI) / 180);
    context.drawImage(picture.image, -w / 2, -h / 2, w, h);
    const blob = await toJpeg(canvas, quality);
    return { blob, width: canvas.width, height: canvas.height };
  } catch (error) {
    if (error instanceof PlainError) throw error;
    throw new PlainError("upload.photo_unreadable");
  } finally {
    picture.close();
  }
}

const PDF_METADATA_KEYS = ["Metadata", "PieceInfo"];

const isPdf = async (file) => {
  const head = new TextDecoder("latin1").decode(await file.slice(0, 1024).arrayBuffer());
  // A readable PDF ends with its cross-reference pointer: a file without one is sent as it is.
  const tail = new TextDecoder("latin1").decode(await file.slice(Math.max(0, file.size - 2048)).arrayBuffer());
  return head.trimStart().startsWith("%PDF-") && tail.includes("startxref");
};

/** Deletes every object the document no longer reaches (the old information dictionary). */
function dropUnreached(lib, context) {
  const { PDFArray, PDFDict, PDFRef, PDFStream } = lib;
  const reached = new Set();
  const stack = [context.trailerInfo.Root, context.trailerInfo.Encrypt].filter(Boolean);
  while (stack.length) {
    const node = stack.pop();
    if (node instanceof PDFRef) {
      if (reached.has(node.tag)) continue;
      reached.add(node.tag);
      const target = context.lookup(node);
      if (target) stack.push(target);
    } else if (node instanceof PDFDict) {
      for (const [, value] of node.entries()) stack.push(value);
    } else if (node instanceof PDFArray) {
      stack.push(...node.asArray());
    } else if (node instanceof PDFStream) {
      stack.push(node.dict);
    }
  }
  for (const [ref] of context.enumerateIndirectObjects()) {
    if (!reached.has(ref.tag)) context.delete(ref);
  }
}

/** The PDF without its hidden details, or `file` itself when there is nothing to remove. */
async function cleanPdf(file) {
  if (!(await isPdf(file))) return file;
  const lib = await import("pdf-lib");
  const { PDFDict, PDFDocument, PDFName, PDFNumber } = lib;
  let doc;
  try {
    doc = await PDFDocument.load(new Uint8Array(await file.arrayBuffer()), {
      updateMetadata: false,
      throwOnInvalidObject: false,
    });
  } catch {
    return file; // locked with a password, or not readable as a PDF: sent as it is
  }
  const context = doc.context;
  const form = doc.catalog.lookup(PDFName.of("AcroForm"));
  const flags = form instanceof PDFDict ? form.lookup(PDFName.of("SigFlags")) : null;
  if (flags instanceof PDFNumber && flags.asNumber() & 1) return file; // signed
  const holders = [doc.catalog, ...doc.getPages().map((page) => page.node)];
  const keys = PDF_METADATA_KEYS.map((key) => PDFName.of(key));
  const info = context.trailerInfo.Info ? context.lookup(context.trailerInfo.Info) : null;
  const hasInfo = info instanceof PDFDict && info.keys().length > 0;
  if (!hasInfo && !holders.some((holder) => keys.some((key) => holder.has(key)))) return file;
  context.trailerInfo.Info = undefined;
  for (const holder of holders) for (const key of keys) holder.delete(key);
  dropUnreached(lib, context);
  let bytes;
  try {
    bytes = await doc.save({ useObjectStreams: false, addDefaultPage: false, updateFieldAppearances: false });
  } catch {
    throw new PlainError("upload.pdf_unreadable");
  }
  return new File([bytes], file.name || "document.pdf", { type: "application/pdf", lastModified: Date.now() });
}

const EXTENSIONS = { "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp" };

/**
 * The file to encrypt: `file` itself when it is neither a photo nor a PDF, or when the person
 * chose to keep the details for this upload; a PDF without its metadata (see cleanPdf); else
 * a new File with the pixels only, upright, same name
 * (the extension follows the format when it had to change: HEIC becomes JPEG; WebP becomes PNG
 * where the browser cannot write WebP). A photo that cannot be decoded is refused: nothing is
 * sent rather than the original with its details.
 */
export async function cleanPhoto(file, { keep = false } = {}) {
  if (keep) return file;
  const kind = await sniff(file);
  if (!kind) return cleanPdf(file);
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
