// Photos lose their hidden details (where they were taken, the phone's make, model and serial
// number, the time) on this device, before encryption: the browser decodes the picture with its
// orientation applied (createImageBitmap, imageOrientation "from-image") and its own encoder
// writes pixels only, through a canvas. No EXIF, XMP or IPTC byte of the original is copied.
// Some phone browsers strip them and some do not, so the page never relies on them.
// PDFs lose their document information (Author, Creator, Producer, Title, dates...) and their XMP
// metadata, for the document and each page, with pdf-lib (loaded only when a PDF is chosen); the
// pages are written back as they are. A PDF with none of these, a signed one (its signature
// would break; its details are the issuer's) and one that cannot be read as a PDF are sent byte
// for byte. The Python twin is wallet/client/photos.py.
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
