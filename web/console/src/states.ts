/**
 * How a state looks: a colour from the Okabe–Ito palette (told apart with the common colour-vision
 * deficiencies) and a shape of its own, so the map reads in greyscale too. Markers are SVG built from
 * attributes only: the console's Content-Security-Policy allows no inline style.
 */
/** The states the monitor gives a site (collector/health/site-state.ts), most urgent first. */
export const SITE_STATES = [
  'down',
  'unreachable',
  'suspect',
  'flapping',
  'recovering',
  'maintenance',
  'not_monitored',
  'unknown',
  'up',
] as const;

export interface StateLook {
  readonly colour: string;
  /** An SVG path in a 20 x 20 box. */
  readonly path: string;
  /** Outline only (hollow): for states that say "we do not know yet". */
  readonly hollow?: boolean;
}

const LOOKS: Record<string, StateLook> = {
  // circle
  up: { colour: '#009E73', path: 'M10 3a7 7 0 1 0 0.01 0Z' },
  // triangle pointing down
  down: { colour: '#D55E00', path: 'M2 3h16L10 18Z' },
  // diamond: degraded (in the API contract; the monitor does not use it yet)
  degraded: { colour: '#E69F00', path: 'M10 1l8 9-8 9-8-9Z' },
  // hollow diamond: a poll failed, not yet down
  suspect: { colour: '#E69F00', path: 'M10 1l8 9-8 9-8-9Z', hollow: true },
  // square
  unreachable: { colour: '#CC79A7', path: 'M3 3h14v14H3Z' },
  // wrench-like plus
  maintenance: { colour: '#0072B2', path: 'M7 2h6v5h5v6h-5v5H7v-5H2V7h5Z' },
  // ring: up again, not yet confirmed
  recovering: { colour: '#56B4E9', path: 'M10 3a7 7 0 1 0 0.01 0Z', hollow: true },
  // star
  flapping: {
    colour: '#F0E442',
    path: 'M10 1l2.6 6 6.4.5-4.9 4.2 1.5 6.3L10 14.6 4.4 18l1.5-6.3L1 7.5 7.4 7Z',
  },
  // hollow square
  unknown: { colour: '#7a7a7a', path: 'M3 3h14v14H3Z', hollow: true },
  // hollow triangle pointing up: nobody monitors it now (its edge collector is cut off), state unknown
  not_monitored: { colour: '#7a7a7a', path: 'M10 2l8 15H2Z', hollow: true },
};

export function lookOf(state: string): StateLook {
  return LOOKS[state] ?? LOOKS.unknown!;
}

/** The marker's SVG as markup (Leaflet's divIcon takes a string); attributes only, no style. */
export function markerSvg(state: string, size = 20): string {
  const l = lookOf(state);
  const fill = l.hollow ? 'white' : l.colour;
  const stroke = l.hollow ? l.colour : '#1b1b1b';
  const width = l.hollow ? 3 : 1.2;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 20 20" aria-hidden="true">` +
    `<path d="${l.path}" fill="${fill}" stroke="${stroke}" stroke-width="${width}"/></svg>`
  );
}

/** Most urgent first: the order of the legend and of a cluster's ring. */
export function stateRank(state: string): number {
  const i = (SITE_STATES as readonly string[]).indexOf(state);
  return i < 0 ? SITE_STATES.indexOf('unknown') : i;
}
