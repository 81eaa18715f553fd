// The simulated fleet: one agent per school, schools taken from a registry first, then made up
// (valid UAIs, plausible names) when more agents are asked for than the registry lists. Each school
// gets traits drawn once from the seed: link type, base round trips, access points, appetite.
import type { School } from '../shared/registry.ts';
import { type Uai, uaiCheckLetter } from '../shared/uai.ts';
import { agentRng, type Rng } from './random.ts';

export type LinkKind = 'fibre' | 'vdsl' | 'adsl' | '4g';

export interface AccessPointTraits {
  name: string;
  radios: number;
  /** Pupils' tablets and teachers' laptops at peak. */
  maxClients: number;
}

export interface SchoolTraits {
  link: LinkKind;
  /** LAN round trip to the box, ms. */
  gatewayMs: number;
  /** Round trip to the nearest internet anchor when the link is idle, ms. */
  wanMs: number;
  /** Packet loss on a calm link, %. */
  baseLossPct: number;
  /** How hungry the school is compared with the average one (video in class, 1:1 tablets). */
  appetite: number;
  accessPoints: AccessPointTraits[];
  /** Name of the box's resolver as the agent config labels it. */
  resolver: string;
}

export interface SimulatedSchool {
  index: number;
  school: School;
  traits: SchoolTraits;
  agentId: string;
}

export const SIM_AGENT_ID = 'sim-1';

/** Rhône and its neighbours: made-up schools keep plausible department prefixes. */
const DEPARTMENTS = ['069', '001', '038', '042', '071', '073', '074', '026'];
const NAME_STEMS = [
  'Jean Jaurès',
  'Jules Ferry',
  'Victor Hugo',
  'Louis Pasteur',
  'Jean Moulin',
  'Jacques Prévert',
  'Marie Curie',
  'Les Tilleuls',
  'Les Marronniers',
  'Le Petit Prince',
  'Antoine de Saint-Exupéry',
  'Paul Éluard',
  'Condorcet',
  'Les Cerisiers',
  'Albert Camus',
  'Simone Veil',
  'Lamartine',
  'Édouard Herriot',
  'Les Érables',
  'Georges Brassens',
];
const KINDS = ['École élémentaire', 'École maternelle', 'École primaire', 'Groupe scolaire'];
const COMMUNES: [string, number, number][] = [
  ['Villeurbanne', 45.7719, 4.8902],
  ['Vénissieux', 45.6975, 4.8867],
  ['Saint-Priest', 45.6961, 4.9441],
  ['Bron', 45.7386, 4.9131],
  ['Vaulx-en-Velin', 45.7786, 4.9206],
  ['Caluire-et-Cuire', 45.7953, 4.8467],
  ['Oullins', 45.7144, 4.8075],
  ['Décines-Charpieu', 45.7686, 4.9592],
  ['Givors', 45.5906, 4.7689],
  ['Écully', 45.7744, 4.7778],
  ['Tassin-la-Demi-Lune', 45.7636, 4.7547],
  ['Rillieux-la-Pape', 45.8214, 4.8983],
];
const ISPS: [string, LinkKind, number, number][] = [
  ['Orange', 'fibre', 300, 300],
  ['SFR', 'fibre', 200, 200],
  ['Bouygues Telecom', 'vdsl', 50, 8],
  ['Free', 'fibre', 500, 500],
  ['Orange', 'adsl', 8, 1],
  ['Kosc', 'fibre', 100, 100],
  ['Bouygues Telecom 4G', '4g', 40, 10],
];

/** Link kind from what the registry says: a 4G box says so, else the contracted downlink decides. */
export function linkKind(school: Pick<School, 'isp' | 'contractedDownMbps'>): LinkKind {
  if (/\b(4g|5g|lte)\b/i.test(school.isp)) return '4g';
  if (school.contractedDownMbps >= 100) return 'fibre';
  if (school.contractedDownMbps >= 20) return 'vdsl';
  return 'adsl';
}

const WAN_MS: Record<LinkKind, [number, number]> = {
  fibre: [3, 8],
  vdsl: [12, 20],
  adsl: [24, 45],
  '4g': [32, 60],
};

export function drawTraits(school: School, rng: Rng): SchoolTraits {
  const link = linkKind(school);
  const [lo, hi] = WAN_MS[link];
  const apCount = rng.int(2, 8);
  const accessPoints: AccessPointTraits[] = [];
  for (let i = 1; i <= apCount; i++) {
    accessPoints.push({
      name: `ap-${String(i).padStart(2, '0')}`,
      radios: rng.chance(0.8) ? 2 : 1,
      maxClients: rng.int(10, 32),
    });
  }
  return {
    link,
    gatewayMs: rng.range(0.4, 1.6),
    wanMs: rng.range(lo, hi),
    // Most links are clean; one in eight is a bit lossy all the time (old copper, a bad 4G cell).
    baseLossPct: rng.chance(0.125) ? rng.range(0.3, 2.5) : rng.range(0, 0.05),
    appetite: rng.logNormal(1, 0.35),
    accessPoints,
    resolver: `dns-${school.isp.split(' ')[0]!.toLowerCase()}`,
  };
}

/** A made-up school, the k-th one past the registry, deterministic for a seed. */
export function syntheticSchool(k: number, rng: Rng): School {
  const dept = DEPARTMENTS[k % DEPARTMENTS.length]!;
  const serial = String(5000 + Math.floor(k / DEPARTMENTS.length)).padStart(4, '0');
  const digits = `${dept}${serial}`;
  const [commune, lat, lon] = rng.pick(COMMUNES);
  const [isp, , down, up] = rng.pick(ISPS);
  return {
    uai: `${digits}${uaiCheckLetter(digits)}` as Uai,
    name: `${rng.pick(KINDS)} ${rng.pick(NAME_STEMS)}`,
    commune,
    lat: Math.round((lat + rng.range(-0.02, 0.02)) * 1e5) / 1e5,
    lon: Math.round((lon + rng.range(-0.02, 0.02)) * 1e5) / 1e5,
    isp,
    contractedDownMbps: down,
    contractedUpMbps: up,
    hours: rng.chance(0.15) ? 'school-wednesday' : 'school',
  };
}

/**
 * `count` simulated schools: the registry's first (in file order), then made-up ones whose UAIs
 * skip any the registry already uses. Made-up serials run 5000-9999 in 8 departments: 40,000 at most.
 */
export function buildFleet(count: number, registry: School[], seed: string | number): SimulatedSchool[] {
  const max = registry.length + DEPARTMENTS.length * 5000;
  if (count > max) throw new Error(`at most ${max} simulated schools with this registry, asked for ${count}`);
  const taken = new Set(registry.map((s) => s.uai));
  const fleet: SimulatedSchool[] = [];
  let k = 0;
  for (let index = 0; index < count; index++) {
    let school = registry[index];
    if (!school) {
      do school = syntheticSchool(k++, agentRng(seed, index, 'school'));
      while (taken.has(school.uai));
      taken.add(school.uai);
    }
    fleet.push({
      index,
      school,
      traits: drawTraits(school, agentRng(seed, index, 'traits')),
      agentId: SIM_AGENT_ID,
    });
  }
  return fleet;
}
