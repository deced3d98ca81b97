// Document types and their procedure category: generated from wallet/protocol/catalogue.py
// (web/src/generated/protocol.js). Labels live in the i18n catalogues: types.<name>.
import { DOCUMENT_TYPES } from "./protocol.js";

export { DOCUMENT_TYPES };

export const categoryOf = (type) => DOCUMENT_TYPES[type] ?? "other";

