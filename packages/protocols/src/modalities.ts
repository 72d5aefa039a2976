// The modalities the shipped readers produce, in the order tables and the dashboard list them (VIS, the
// gallery modality, first). A user protocol may name others: they sort after these, alphabetically.
// Plain data with no imports, so the web app can import it (`@ssmb/protocols/modalities`).
export const MODALITY_ORDER = ['VIS', 'NIR', 'THERMAL', 'SKETCH', 'POLAR', 'SWIR', 'DEPTH'] as const;
export type KnownModality = (typeof MODALITY_ORDER)[number];
