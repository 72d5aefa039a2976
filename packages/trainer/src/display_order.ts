// The order results are listed in, from the one source of each list: SSMB blocks in network order (the
// backbones' tap names), modalities as the readers name them. Pure (no node, no tfjs): the dashboard's web
// app imports it through the `@ssmb/trainer/display-order` subpath.
import { TAP_NAMES } from '@ssmb/core/taps';
import { MODALITY_ORDER } from '@ssmb/protocols/modalities';

const rankIn = (order: readonly string[], v: string, match = (x: string) => x === v) => {
  const i = order.findIndex(match);
  return i < 0 ? order.length : i;
};

/** A block's place in network order; a block named after a tap with a suffix (`layer2.1`) sits with its tap. */
export const blockRank = (block: string) => rankIn(TAP_NAMES, block, (t) => block === t || block.startsWith(`${t}.`));
export const modalityRank = (modality: string) => rankIn(MODALITY_ORDER, modality);

/** Blocks in network order, unknown names after them alphabetically. */
export const compareBlocks = (a: string, b: string) => blockRank(a) - blockRank(b) || a.localeCompare(b);
/** Modalities in the readers' order (VIS first), unknown names after them alphabetically. */
export const compareModalities = (a: string, b: string) => modalityRank(a) - modalityRank(b) || a.localeCompare(b);
