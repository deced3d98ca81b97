// The owner's full backup in the browser: the same export as `wallet export`
// (wallet/client/export.py), as one zip of files the free `age` tool opens without this service:
// documents/<title>__<type>__v<n>__<id8>.age (each version's ciphertext exactly as stored,
// checked against its signed size and hash), identities.age, index.json.age and
// profile.json.age (locked with the passphrase: age's scrypt recipient), and README.txt.
// The zip is streamed (client-zip): one document's ciphertext in memory at a time, the zip
// itself read into a Blob, which the browser keeps on disk when it is large.
import { makeZip } from "client-zip";
import { currentAuthKey } from "./account.js";
import { utf8 } from "./crypto/encoding.js";
import { getSession } from "./session.js";
import { downloadBlob, WrongSize } from "./tus.js";
import { PlainError } from "./ui.js";
import { IntegrityFailure, listDocuments, profile, versions } from "./vault.js";

export const README = `Your document wallet export
===========================

Everything in this folder is encrypted. You need your wallet passphrase to open it.
You do not need the wallet service: the free program "age" is enough (https://age-encryption.org).

What is here
- documents/        one file per document version. The name shows the title, the type and
                    the version. The content is encrypted.
- identities.age    the keys that open the documents, locked with your passphrase.
- index.json.age    the list of documents (titles, types, dates), locked with your passphrase.
- profile.json.age  your profile record, locked with your passphrase.

How to open a document
1. Unlock the keys. Type your wallet passphrase when age asks for it:
       age -d -o identities.txt identities.age
2. Open a document with the keys:
       age -d -i identities.txt -o payslip.pdf "documents/<file name>.age"
3. To read the list of documents or your profile:
       age -d index.json.age
       age -d profile.json.age
4. When you are done, delete identities.txt. Anyone who has that file can open your documents.
`;

/** file_slug: a title as a safe file name (letters, digits, _ . - kept; 60 characters). */
export function fileSlug(text, limit = 60) {
  const cleaned = String(text)
    .replace(/[^\p{L}\p{N}\p{M}_.-]+/gu, "-")
    .replace(/^[-._]+|[-._]+$/g, "");
  return Array.from(cleaned).slice(0, limit).join("") || "document";
}

async function lockWithPassphrase(text, passphrase) {
  const { Encrypter } = await import("age-encryption");
  const encrypter = new Encrypter();
  encrypter.setPassphrase(passphrase);
  return encrypter.encrypt(utf8(text));
}

/**
 * Builds the export. The passphrase is checked against the account first (like
 * current_auth_key). onProgress({ done, total }) counts document versions.
 * Returns { stream: ReadableStream of the zip, count: versions written (a promise) }.
 */
export async function exportZip(passphrase, { onProgress = () => {}, signal } = {}) {
  if (!getSession()) throw new PlainError("errors.locked");
  (await currentAuthKey(passphrase)).fill(0); // refuses a passphrase that is not the account's
  const documents = await listDocuments();
  const all = [];
  for (const document of documents) {
    const detail = await versions(document.id);
    for (const version of detail.versions) all.push({ document, version });
  }
  const fields = await profile();
  let resolveCount;
  const count = new Promise((resolve) => {
    resolveCount = resolve;
  });
  async function* files() {
    const identities = [];
    const index = [];
    const now = new Date();
    let done = 0;
    onProgress({ done, total: all.length });
    for (const { document, version } of all) {
      const meta = version.meta;
      const name = `${fileSlug(meta.title || "document")}__${meta.type || "other"}__v${version.version}__${document.id.slice(0, 8)}.age`;
      const path = `/documents/${document.id}/versions/${version.version}/blob`;
      let downloaded;
      try {
        // The signed size, not the one the server reports; then the signed hash.
        downloaded = await downloadBlob(path, Number(version.manifest.blob_size), { signal });
      } catch (error) {
        if (error instanceof WrongSize) throw new IntegrityFailure("errors.file_damaged");
        throw error;
      }
      if (downloaded.digest !== version.manifest.blob_sha256) throw new IntegrityFailure("errors.file_damaged");
      yield { name: `documents/${name}`, input: new Blob(downloaded.chunks), lastModified: now };
      identities.push(`# ${name}\n${version.identity}`);
      const { v: _v, ...rest } = meta;
      index.push({
        file: `documents/${name}`,
        document_id: document.id,
        version: version.version,
        created_at: version.createdAt,
        ...rest,
      });
      done += 1;
      onProgress({ done, total: all.length });
    }
    const identitiesText = `# age identities for your wallet export. Keep secret.\n${identities.join("\n")}\n`;
    yield { name: "identities.age", input: await lockWithPassphrase(identitiesText, passphrase), lastModified: now };
    yield { name: "index.json.age", input: await lockWithPassphrase(JSON.stringify(index, null, 2), passphrase), lastModified: now };
    yield { name: "profile.json.age", input: await lockWithPassphrase(JSON.stringify(fields, null, 2), passphrase), lastModified: now };
    yield { name: "README.txt", input: README, lastModified: now };
    resolveCount(done);
  }
  return { stream: makeZip(files()), count };
}

export function exportFileName(handle, day = new Date()) {
  return `wallet-export-${fileSlug(handle)}-${day.toISOString().slice(0, 10)}.zip`;
}
