// Multi-page capture (issue 15): several photos become one PDF on this device, before
// encryption. The upload page imports this module only when the person sends more than one
// page (or a turned page), so pdf-lib stays out of every page's first download.
// Each photo is made small first (photo_clean.shrinkPhoto: 2,000 px at most, JPEG 0.8, pixels
// only, turned as chosen), one at a time so that a cheap phone holds one decoded photo at once.
// The PDF carries no document information (no producer, creator or dates).
import { PDFDocument } from "pdf-lib";
import { shrinkPhoto } from "./photo_clean.js";

// A page's longest side in PDF points: the long side of an A4 sheet, so it prints on paper.
const SHEET_LONGEST = 842;

/**
 * One PDF of `pages` ([{ file, rotation }], in order), as a File named `name`.
 * `onPage(done, total)` is told before each page is prepared.
 */
export async function buildPdf(pages, name, onPage = () => {}) {
  const doc = await PDFDocument.create({ updateMetadata: false });
  for (const [index, page] of pages.entries()) {
    onPage(index, pages.length);
    const { blob, width, height } = await shrinkPhoto(page.file, { rotation: page.rotation });
    const image = await doc.embedJpg(new Uint8Array(await blob.arrayBuffer()));
    const scale = SHEET_LONGEST / Math.max(width, height);
    const sheet = doc.addPage([width * scale, height * scale]);
    sheet.drawImage(image, { x: 0, y: 0, width: width * scale, height: height * scale });
  }
  onPage(pages.length, pages.length);
  const bytes = await doc.save({ useObjectStreams: true, addDefaultPage: false });
  return new File([bytes], name, { type: "application/pdf", lastModified: Date.now() });
}
