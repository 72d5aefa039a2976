// The tap names every backbone family offers, in network order (stem, then the four stages). One list:
// the models, the trainer's tables and the dashboard order blocks by it (the web app imports this
// file alone, through the `@ssmb/core/taps` subpath, so it carries no tfjs).
export const TAP_NAMES = ['stem', 'layer1', 'layer2', 'layer3', 'layer4'] as const;
export type TapName = (typeof TAP_NAMES)[number];
